//! Entity-level precision, recall and F1, the CoNLL way: a predicted span counts only when its
//! start, end and label all equal a gold span's. Partial overlaps earn nothing, because an order
//! built from "large pepperoni" instead of "pepperoni pizza" is as wrong as one built from nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::Span;

/// Counts for one label (or all labels together), and the measures derived from them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Predicted spans that equal a gold span.
    pub true_positives: usize,
    /// Predicted spans that equal no gold span.
    pub false_positives: usize,
    /// Gold spans that no predicted span equals.
    pub false_negatives: usize,
}

impl Counts {
    /// Gold spans.
    #[must_use]
    pub fn gold(&self) -> usize {
        self.true_positives + self.false_negatives
    }

    /// Predicted spans.
    #[must_use]
    pub fn predicted(&self) -> usize {
        self.true_positives + self.false_positives
    }

    /// Share of predicted spans that are right; 1 when nothing was predicted and nothing was
    /// there to find, 0 when nothing was predicted but something was.
    #[must_use]
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.predicted(), self.gold() == 0)
    }

    /// Share of gold spans found; 1 when there were none to find and none were predicted.
    #[must_use]
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.gold(), self.predicted() == 0)
    }

    /// Harmonic mean of precision and recall.
    #[must_use]
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    fn add(&mut self, other: Counts) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
    }
}

fn ratio(part: usize, whole: usize, empty_is_perfect: bool) -> f64 {
    if whole == 0 {
        if empty_is_perfect { 1.0 } else { 0.0 }
    } else {
        part as f64 / whole as f64
    }
}

/// Entity-level scores: per label, and micro-averaged over all spans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scores {
    /// Counts per label, for every label seen in the gold or the predicted spans.
    pub per_label: BTreeMap<String, Counts>,
    /// All labels pooled: the headline numbers.
    pub micro: Counts,
}

impl Scores {
    /// Micro-averaged F1, the one number a run is judged by.
    #[must_use]
    pub fn f1(&self) -> f64 {
        self.micro.f1()
    }

    /// Unweighted mean of the per-label F1s, which a rare label drags down as much as a common
    /// one; 0 when there are no labels.
    #[must_use]
    pub fn macro_f1(&self) -> f64 {
        if self.per_label.is_empty() {
            return 0.0;
        }
        self.per_label.values().map(Counts::f1).sum::<f64>() / self.per_label.len() as f64
    }

    /// The counts of one label; zeros for a label never seen.
    #[must_use]
    pub fn label(&self, label: &str) -> Counts {
        self.per_label.get(label).copied().unwrap_or_default()
    }
}

/// Scores predicted spans against gold spans, utterance by utterance (`gold[i]` against
/// `predicted[i]`). When one list is longer, the extra utterances count as having nothing on the
/// other side, so a truncated prediction run cannot look better than it is. Duplicate spans in
/// one utterance count once.
#[must_use]
pub fn score(gold: &[Vec<Span>], predicted: &[Vec<Span>]) -> Scores {
    let mut scores = Scores::default();
    let empty: Vec<Span> = Vec::new();
    for index in 0..gold.len().max(predicted.len()) {
        let gold: BTreeSet<&Span> = gold.get(index).unwrap_or(&empty).iter().collect();
        let predicted: BTreeSet<&Span> = predicted.get(index).unwrap_or(&empty).iter().collect();
        for span in &gold {
            let counts = scores.per_label.entry(span.label.clone()).or_default();
            if predicted.contains(span) {
                counts.true_positives += 1;
            } else {
                counts.false_negatives += 1;
            }
        }
        for span in predicted.difference(&gold) {
            scores
                .per_label
                .entry(span.label.clone())
                .or_default()
                .false_positives += 1;
        }
    }
    let mut micro = Counts::default();
    for counts in scores.per_label.values() {
        micro.add(*counts);
    }
    scores.micro = micro;
    scores
}

/// A fixed-width table, one row per label and a last row for the micro average.
impl fmt::Display for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<12} {:>9} {:>7} {:>7} {:>7} {:>7}",
            "label", "precision", "recall", "f1", "gold", "pred"
        )?;
        let rows = self
            .per_label
            .iter()
            .map(|(label, counts)| (label.as_str(), counts))
            .chain(std::iter::once(("micro avg", &self.micro)));
        for (label, counts) in rows {
            writeln!(
                f,
                "{label:<12} {:>9.4} {:>7.4} {:>7.4} {:>7} {:>7}",
                counts.precision(),
                counts.recall(),
                counts.f1(),
                counts.gold(),
                counts.predicted()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: usize, end: usize, label: &str) -> Span {
        Span {
            start,
            end,
            label: label.to_owned(),
        }
    }

    fn gold() -> Vec<Vec<Span>> {
        vec![
            vec![span(0, 3, "QUANTITY"), span(4, 20, "ITEM")],
            vec![span(0, 2, "NEGATION"), span(3, 9, "MODIFIER")],
            vec![],
        ]
    }

    #[test]
    fn perfect_prediction() {
        let scores = score(&gold(), &gold());
        assert_eq!(scores.micro.true_positives, 4);
        assert_eq!(
            (scores.micro.false_positives, scores.micro.false_negatives),
            (0, 0)
        );
        assert!((scores.f1() - 1.0).abs() < 1e-12);
        assert!((scores.macro_f1() - 1.0).abs() < 1e-12);
        assert_eq!(scores.per_label.len(), 4);
    }

    #[test]
    fn a_missing_span_costs_recall_only() {
        let mut predicted = gold();
        predicted[0].remove(1);
        let scores = score(&gold(), &predicted);
        let item = scores.label("ITEM");
        assert_eq!((item.true_positives, item.false_negatives), (0, 1));
        assert!((item.recall() - 0.0).abs() < 1e-12);
        assert!((scores.micro.precision() - 1.0).abs() < 1e-12);
        assert!((scores.micro.recall() - 0.75).abs() < 1e-12);
        assert!((scores.f1() - 2.0 * 0.75 / 1.75).abs() < 1e-12);
    }

    #[test]
    fn an_extra_span_costs_precision_only() {
        let mut predicted = gold();
        predicted[2].push(span(0, 5, "PERSON"));
        let scores = score(&gold(), &predicted);
        let person = scores.label("PERSON");
        assert_eq!((person.false_positives, person.gold()), (1, 0));
        assert!((person.precision() - 0.0).abs() < 1e-12);
        assert!((scores.micro.recall() - 1.0).abs() < 1e-12);
        assert!((scores.micro.precision() - 0.8).abs() < 1e-12);
    }

    #[test]
    fn a_wrong_label_is_a_miss_and_a_false_alarm() {
        let mut predicted = gold();
        predicted[1][1].label = "ITEM".to_owned();
        let scores = score(&gold(), &predicted);
        assert_eq!(scores.label("MODIFIER").false_negatives, 1);
        assert_eq!(scores.label("ITEM").false_positives, 1);
        assert_eq!(scores.label("ITEM").true_positives, 1);
        assert_eq!(scores.micro.true_positives, 3);
    }

    #[test]
    fn a_boundary_off_by_a_word_earns_nothing() {
        let mut predicted = gold();
        predicted[0][1].end = 15;
        let scores = score(&gold(), &predicted);
        let item = scores.label("ITEM");
        assert_eq!(
            (
                item.true_positives,
                item.false_positives,
                item.false_negatives
            ),
            (0, 1, 1)
        );
    }

    #[test]
    fn missing_utterances_count_against_the_prediction() {
        let scores = score(&gold(), &gold()[..1]);
        assert_eq!(scores.micro.false_negatives, 2);
        let scores = score(&gold()[..1], &gold());
        assert_eq!(scores.micro.false_positives, 2);
    }

    #[test]
    fn duplicates_count_once_and_empty_is_perfect() {
        let mut predicted = gold();
        predicted[0].push(span(0, 3, "QUANTITY"));
        assert!((score(&gold(), &predicted).f1() - 1.0).abs() < 1e-12);
        let nothing = score(&[], &[]);
        assert!((nothing.micro.precision() - 1.0).abs() < 1e-12);
        assert!((nothing.micro.recall() - 1.0).abs() < 1e-12);
        assert!((nothing.macro_f1() - 0.0).abs() < 1e-12);
        assert_eq!(nothing.label("ITEM"), Counts::default());
    }

    #[test]
    fn table_has_a_row_per_label_and_the_micro_average() {
        let mut predicted = gold();
        predicted[0].remove(1);
        let table = score(&gold(), &predicted).to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 6, "{table}");
        assert!(lines[0].starts_with("label"));
        assert!(
            lines[1].starts_with("ITEM ") && lines[1].contains("0.0000"),
            "{table}"
        );
        assert!(
            lines[5].starts_with("micro avg") && lines[5].contains("0.8571"),
            "{table}"
        );
    }
}
