//! Answers about what is on the order: "what can I get you?" / "anything else?", "did you say
//! …?", "which pizza?" and "would you like one?".
//!
//! [`order`] is also where every other handler sends words that do not answer its question:
//! callers answer "what size?" with "and a Coke" as often as with "large".

use std::ops::ControlFlow;

use kea_menu::Menu;
use kea_menu::matcher::Target;

use super::{Answer, Flow};
use crate::order::{Ack, Draft, Work};
use crate::prompts;
use crate::speech;
use crate::state::{Asked, Question};
use crate::understand::Analysis;

/// "What can I get for you?" / "Anything else?": order words, "I'll take it" after a menu
/// answer, "that's all", or a bare "yes".
pub(super) fn order(a: &mut Answer) -> ControlFlow<Flow> {
    let lang = a.lang();
    let an = a.an;
    if an.takes_it() && a.s.discussed.is_some() {
        if let Some(line) = a.s.discussed.take()
            && let Some(draft) = Work::new(a.menu(), &[line], &[], None).lines.pop()
        {
            add_draft(&mut a.work, draft);
        }
        a.understood = true;
    } else if an.done()
        && !an.has_item()
        && matches!(a.asked, Asked::Order | Asked::AddMore | Asked::Nothing)
    {
        if a.s.lines.is_empty() && a.s.held.is_empty() {
            // "That's all" with nothing ordered: ask once more, then let them go.
            if a.s.misses >= 1 {
                return ControlFlow::Break(Flow::Cancel);
            }
            a.s.misses = a.s.misses.saturating_add(1);
            a.ask(Question::new(
                Asked::Order,
                prompts::nothing_ordered_yet(lang),
            ));
            return ControlFlow::Break(Flow::Listen);
        }
        a.s.ordering_done = true;
        a.understood = true;
    } else if an.yes_no() == Some(true)
        && !an.has_menu()
        && matches!(a.asked, Asked::Order | Asked::AddMore)
    {
        // "Anything else?" — "Yes." — then what?
        a.understood = true;
        a.ask(Question::new(Asked::Order, prompts::what_else(lang)));
    } else {
        a.apply_order_words();
    }
    ControlFlow::Continue(())
}

/// "Did you say …?" about lines held for confirmation: yes confirms them; no (or other items)
/// drops them, and other items are taken instead.
pub(super) fn confirm_items(a: &mut Answer) -> ControlFlow<Flow> {
    let lang = a.lang();
    let an = a.an;
    match an.yes_no() {
        Some(true) if !an.has_item() => {
            for line in &mut a.work.lines {
                if line.held {
                    // The caller heard the line read back and said yes: no longer a guess.
                    line.held = false;
                    line.certainty = 1000;
                }
            }
            a.work.last = a.work.lines.len().checked_sub(1);
            a.understood = true;
        }
        answer => {
            a.work.lines.retain(|l| !l.held);
            a.work.last = None;
            if answer == Some(false) || an.has_item() {
                a.understood = true;
            }
            if an.has_menu() {
                a.apply_order_words();
            } else if answer == Some(false) {
                a.reply.say.push(prompts::sorry_about_that(lang));
                a.ask(Question::new(
                    Asked::Order,
                    prompts::what_would_you_like(lang),
                ));
            }
        }
    }
    ControlFlow::Continue(())
}

/// "Which pizza would you like: …?": one of the candidates (by name or a word of it), with any
/// size or options said along; otherwise order words, which drop the question when they
/// change the order.
pub(super) fn clarify(a: &mut Answer) -> ControlFlow<Flow> {
    let menu = a.menu();
    let an = a.an;
    let candidates: Vec<usize> =
        a.s.clarify
            .as_ref()
            .map(|c| {
                c.skus
                    .iter()
                    .filter_map(|sku| menu.items.iter().position(|i| i.sku == *sku))
                    .collect()
            })
            .unwrap_or_default();
    let chosen = pick_candidate(an, &candidates, menu);
    if let (Some(item), Some(c)) = (chosen, a.s.clarify.take()) {
        let size = c.size.clone();
        let mut draft = Draft {
            item,
            quantity: c.quantity.max(1),
            size,
            mods: Vec::new(),
            portions: Vec::new(),
            refused: Vec::new(),
            certainty: a.asr.min(1000),
            held: false,
            id: 0,
        };
        a.work.put_modifier_strings(&mut draft, &c.modifiers);
        add_draft(&mut a.work, draft);
        // Sizes or options said with the choice ("the large pepperoni").
        let _ = a.work.apply(&without_items(an));
        a.understood = true;
    } else {
        a.apply_order_words();
        if a.edited || an.done() {
            a.s.clarify = None;
        }
    }
    ControlFlow::Continue(())
}

/// "Would you like one?" after a menu or price answer: yes or "I'll take two" adds the item
/// discussed (with any size or options said along), no is fine, anything else is order words.
pub(super) fn offer(a: &mut Answer) -> ControlFlow<Flow> {
    let lang = a.lang();
    let an = a.an;
    if an.takes_it() || (an.yes_no() == Some(true) && !an.has_item()) {
        if let Some(line) = a.s.discussed.take()
            && let Some(mut draft) = Work::new(a.menu(), &[line], &[], None).lines.pop()
        {
            if let Some(n) = an.first_number() {
                draft.quantity = n.clamp(1, 999);
            }
            draft.certainty = draft.certainty.min(a.asr);
            add_draft(&mut a.work, draft);
            // "Yes, twelve piece with hot sauce."
            let _ = a.work.apply(&without_items(an));
        }
        a.understood = true;
    } else if an.yes_no() == Some(false) && !an.has_item() {
        a.understood = true;
        a.reply.say.push(prompts::no_problem(lang));
    } else {
        a.apply_order_words();
    }
    ControlFlow::Continue(())
}

/// Adds a line as it is (no merging with an equal line), acknowledged as added.
fn add_draft(work: &mut Work, mut draft: Draft) {
    draft.id = work.new_id();
    work.acks.push(Ack::Added(draft.clone(), false));
    work.lines.push(draft);
    work.last = Some(work.lines.len() - 1);
}

/// The same analysis with item and category readings dropped (sizes and options kept), for the
/// words said along with an item already chosen.
fn without_items(an: &Analysis) -> Analysis {
    let mut copy = an.clone();
    for m in &mut copy.matches {
        m.targets
            .retain(|(t, _)| !matches!(t, Target::Item(_) | Target::Category(_)));
    }
    copy
}

/// Which of `candidates` the caller named, by an item reading or a word of its name.
fn pick_candidate(an: &Analysis, candidates: &[usize], menu: &Menu) -> Option<usize> {
    for m in &an.matches {
        if let Some(item) = m.targets.iter().find_map(|(t, _)| match t {
            Target::Item(i) if candidates.contains(i) => Some(*i),
            _ => None,
        }) {
            return Some(item);
        }
    }
    // A distinctive word of one candidate's name ("the pepperoni").
    let words: Vec<String> = an.tokens.iter().map(|t| t.key.clone()).collect();
    let mut hits = candidates.iter().copied().filter(|&i| {
        let name = kea_menu::matcher::tokenize(&speech::short_name(&menu.items[i]));
        !name.is_empty() && name.iter().all(|t| words.contains(&t.key))
    });
    let first = hits.next();
    if hits.next().is_none() { first } else { None }
}
