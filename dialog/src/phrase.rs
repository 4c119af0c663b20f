//! Finding a fixed phrase ("a little", "on the side") in a run of words.
//!
//! The dialog looks for dozens of such phrases at every position of an utterance on every turn.
//! Splitting each phrase into a list of its words every time it was tried was a third of a
//! step's time (`cargo bench -p kea-dialog`); reading the phrase from the front, word by word
//! against the sequence, allocates nothing and stops at the first word that differs.

/// How many words `phrase` (words separated by single spaces) spans at position `k` of a
/// sequence of `len` items whose `k`-th word is `word(k)` (`None` for an item that is not a
/// word), if every word of the phrase is there in order.
pub(crate) fn at<'w>(
    len: usize,
    k: usize,
    phrase: &str,
    word: impl Fn(usize) -> Option<&'w str>,
) -> Option<usize> {
    // The phrase is consumed word by word from the front; most tries fail on the first word.
    let mut rest = phrase;
    let mut n = 0;
    loop {
        if k + n >= len {
            return None;
        }
        let after = rest.strip_prefix(word(k + n)?)?;
        n += 1;
        if after.is_empty() {
            return Some(n);
        }
        rest = after.strip_prefix(' ')?;
    }
}

/// Whether `phrase` is somewhere in the `len` items whose `k`-th word is `word(k)`.
pub(crate) fn anywhere<'w>(
    len: usize,
    phrase: &str,
    word: impl Fn(usize) -> Option<&'w str> + Copy,
) -> bool {
    (0..len).any(|k| at(len, k, phrase, word).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split(' ').collect()
    }

    #[test]
    fn a_phrase_is_found_where_all_its_words_are_in_order() {
        let w = words("a little extra cheese on the side");
        let word = |k: usize| w.get(k).copied();
        assert_eq!(at(w.len(), 0, "a little", word), Some(2));
        assert_eq!(at(w.len(), 1, "a little", word), None);
        assert_eq!(at(w.len(), 4, "on the side", word), Some(3));
        // Running past the end is not a match.
        assert_eq!(at(w.len(), 5, "the side dish", word), None);
        assert_eq!(at(w.len(), 7, "side", word), None);
        assert!(anywhere(w.len(), "extra cheese", word));
        assert!(!anywhere(w.len(), "cheese extra", word));
        assert!(!anywhere(0, "a", |_| None));
    }

    #[test]
    fn items_that_are_not_words_break_a_phrase() {
        let w = [Some("no"), None, Some("onions")];
        let word = |k: usize| w[k];
        assert_eq!(at(w.len(), 0, "no", word), Some(1));
        assert_eq!(at(w.len(), 0, "no onions", word), None);
        assert_eq!(at(w.len(), 2, "onions", word), Some(1));
    }

    #[test]
    fn a_word_must_be_whole() {
        let w = ["a", "lot"];
        let word = |k: usize| Some(w[k]);
        assert_eq!(at(w.len(), 0, "a lot", word), Some(2));
        assert_eq!(at(w.len(), 0, "al ot", word), None);
        assert_eq!(at(w.len(), 0, "ab lot", word), None);
        assert_eq!(at(w.len(), 0, "a lots", word), None);
        assert_eq!(at(w.len(), 0, "a  lot", word), None);
        assert_eq!(at(w.len(), 1, "lo", word), None);
    }
}
