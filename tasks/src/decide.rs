//! The store's verification policy, as a pure function: confirm the order, or ask an agent.

use kea_menu::VerificationPolicy;
use serde::{Deserialize, Serialize};

/// The lowest dialog confidence that `auto` confirms without a person. The dialog's confidence
/// is the weakest line's menu-match certainty (speech-recognition confidence included); lines
/// it had to guess at come out below this.
pub const AUTO_CONFIRM_MIN_CONFIDENCE: f32 = 0.85;

/// What `extract_order` found when it re-read the order against the store's current menu.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    /// Disagreements between the order and the menu (a sku no longer on it, a price that does
    /// not recompute to the same cents), in words an agent reads.
    pub problems: Vec<String>,
}

/// What the dialog and the extraction say about an order.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence<'a> {
    /// The store's policy.
    pub policy: VerificationPolicy,
    /// The dialog's confidence, 0..1 (`None` when the order did not come from the dialog).
    pub confidence: Option<f32>,
    /// Whether the caller said yes to the read-back. Orders placed by the dialog always were.
    pub caller_confirmed: bool,
    /// The extraction's findings.
    pub extraction: &'a Extraction,
}

/// The outcome of `decide_order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Send it to the POS.
    Confirm,
    /// Ask an agent, saying why.
    Verify(String),
}

/// Applies the policy: `always` asks an agent; `auto` confirms only when the caller confirmed,
/// the dialog was sure of every line and the extraction found nothing wrong.
#[must_use]
pub fn decide(e: &Evidence<'_>) -> Decision {
    let mut reasons = Vec::new();
    if e.policy == VerificationPolicy::Always {
        reasons.push("the store checks every order".to_owned());
    }
    if !e.caller_confirmed {
        reasons.push("the caller did not confirm the read-back".to_owned());
    }
    match e.confidence {
        None => reasons.push("no confidence recorded for the order".to_owned()),
        Some(c) if !c.is_finite() || c < AUTO_CONFIRM_MIN_CONFIDENCE => reasons.push(format!(
            "low confidence {:.2} (below {AUTO_CONFIRM_MIN_CONFIDENCE:.2})",
            if c.is_finite() { c } else { 0.0 }
        )),
        Some(_) => {}
    }
    reasons.extend(e.extraction.problems.iter().cloned());
    if reasons.is_empty() {
        Decision::Confirm
    } else {
        Decision::Verify(reasons.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(
        policy: VerificationPolicy,
        confidence: Option<f32>,
        caller_confirmed: bool,
        extraction: &Extraction,
    ) -> Decision {
        decide(&Evidence {
            policy,
            confidence,
            caller_confirmed,
            extraction,
        })
    }

    #[test]
    fn auto_confirms_a_sure_confirmed_clean_order() {
        let clean = Extraction::default();
        for c in [AUTO_CONFIRM_MIN_CONFIDENCE, 0.9, 1.0] {
            assert_eq!(
                evidence(VerificationPolicy::Auto, Some(c), true, &clean),
                Decision::Confirm,
                "confidence {c}"
            );
        }
    }

    #[test]
    fn every_doubt_sends_the_order_to_an_agent_with_its_reason() {
        let clean = Extraction::default();
        let dirty = Extraction {
            problems: vec!["sku `x` is no longer on the menu".to_owned()],
        };
        let cases: &[(VerificationPolicy, Option<f32>, bool, &Extraction, &str)] = &[
            (
                VerificationPolicy::Always,
                Some(1.0),
                true,
                &clean,
                "checks every order",
            ),
            (
                VerificationPolicy::Auto,
                Some(0.84),
                true,
                &clean,
                "low confidence 0.84",
            ),
            (
                VerificationPolicy::Auto,
                Some(0.0),
                true,
                &clean,
                "low confidence 0.00",
            ),
            (
                VerificationPolicy::Auto,
                Some(f32::NAN),
                true,
                &clean,
                "low confidence 0.00",
            ),
            (
                VerificationPolicy::Auto,
                None,
                true,
                &clean,
                "no confidence",
            ),
            (
                VerificationPolicy::Auto,
                Some(1.0),
                false,
                &clean,
                "did not confirm",
            ),
            (
                VerificationPolicy::Auto,
                Some(1.0),
                true,
                &dirty,
                "no longer on the menu",
            ),
        ];
        for (policy, confidence, confirmed, extraction, why) in cases {
            match evidence(*policy, *confidence, *confirmed, extraction) {
                Decision::Verify(reason) => assert!(
                    reason.contains(why),
                    "{policy:?} {confidence:?} {confirmed}: reason {reason:?} lacks {why:?}"
                ),
                Decision::Confirm => panic!("{policy:?} {confidence:?} {confirmed}: confirmed"),
            }
        }
    }

    #[test]
    fn all_reasons_are_given_together() {
        let dirty = Extraction {
            problems: vec!["a".to_owned(), "b".to_owned()],
        };
        let Decision::Verify(reason) =
            evidence(VerificationPolicy::Always, Some(0.2), false, &dirty)
        else {
            panic!("confirmed");
        };
        assert_eq!(reason.split("; ").count(), 5, "{reason}");
    }
}
