//! Answers about one line's details: "what size?" and "which sauce?" (including the question
//! asked when the caller said more options than the line can take: "hot or mild, or one of
//! each?").

use std::ops::ControlFlow;

use kea_menu::Menu;
use kea_menu::matcher::{MenuMatcher, Target};

use super::{Answer, Flow};
use crate::order::{Ack, Work};
use crate::state::Split;
use crate::understand::Analysis;

/// "What size would you like for the …?": a size for that line (and any options said along);
/// an item said with it makes the whole utterance order words.
pub(super) fn size(a: &mut Answer, line: usize) -> ControlFlow<Flow> {
    let menu = a.menu();
    let an = a.an;
    let resolved = a
        .work
        .lines
        .get(line)
        .zip(an.first_size())
        .and_then(|(d, spoken)| MenuMatcher::resolve_size(menu, d.item, &spoken));
    if let (Some(resolved), false) = (resolved, an.has_item()) {
        if let Some(d) = a.work.lines.get_mut(line) {
            d.size = Some(resolved);
        }
        let _ = a.work.apply(&without_sizes(an));
        a.understood = true;
    } else {
        a.apply_order_words();
    }
    ControlFlow::Continue(())
}

/// "Which wing sauce would you like for the …?": the options named replace the line's choice in
/// that group. More than the group allows asks again (never silently keeping one); "one of
/// each" after such a question splits the line; no option at all is order words, and the
/// pending question stays.
pub(super) fn choice(a: &mut Answer, line: usize, group: usize) -> ControlFlow<Flow> {
    let menu = a.menu();
    let an = a.an;
    let pending = a.s.split.take();
    let picked = choose_options(an, group, menu);
    let max = menu
        .modifier_groups
        .get(group)
        .map_or(1, |g| (g.max as usize).max(1));
    let each = pending
        .as_ref()
        .and_then(|p| p.resolve(menu))
        .filter(|(_, options)| {
            a.work
                .lines
                .get(line)
                .is_some_and(|d| d.quantity as usize == options.len())
                && (picked.is_empty() || picked.len() == options.len())
                && an.wants_one_of_each()
        });
    match (picked.is_empty(), a.work.lines.get(line)) {
        _ if each.is_some() => {
            // "One of each": the line's orders, one per option.
            if let Some((g, options)) = each {
                split_line(&mut a.work, line, g, &options);
            }
            a.understood = true;
        }
        (false, Some(d)) if picked.len() > max => {
            // "Hot and mild" for one sauce: ask again, never keep just one of them.
            if let Some(g) = menu.modifier_groups.get(group) {
                a.s.split = Some(Split {
                    line,
                    sku: menu.items[d.item].sku.clone(),
                    group: g.id.clone(),
                    options: picked
                        .iter()
                        .filter_map(|&o| g.options.get(o).map(|o| o.sku.clone()))
                        .collect(),
                });
            }
            a.understood = true;
        }
        (false, Some(_)) => {
            if let Some(d) = a.work.lines.get_mut(line) {
                d.mods.retain(|(g, _)| *g != group);
                for option in picked {
                    d.mods.push((group, option));
                }
            }
            a.understood = true;
        }
        _ => {
            a.s.split = pending;
            a.apply_order_words();
        }
    }
    ControlFlow::Continue(())
}

/// The same analysis with size readings dropped, for the words said along with a size.
fn without_sizes(an: &Analysis) -> Analysis {
    let mut copy = an.clone();
    for m in &mut copy.matches {
        m.targets.retain(|(t, _)| !matches!(t, Target::Size(_)));
    }
    copy
}

/// Options of group `group` the caller named, exactly or (for slips) closely.
fn choose_options(an: &Analysis, group: usize, menu: &Menu) -> Vec<usize> {
    let mut out = Vec::new();
    for m in &an.matches {
        for (t, _) in &m.targets {
            if let Target::Option { group: g, option } = t
                && *g == group
                && !out.contains(option)
            {
                out.push(*option);
            }
        }
    }
    if out.is_empty()
        && let Some(g) = menu.modifier_groups.get(group)
    {
        // Close spellings of an option name ("barbeque").
        let said: String = an
            .tokens
            .iter()
            .map(|t| t.key.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let mut best: Option<(f64, usize)> = None;
        for (index, option) in g.options.iter().enumerate() {
            for name in std::iter::once(&option.name).chain(&option.aliases) {
                let key: String = kea_menu::matcher::tokenize(name)
                    .into_iter()
                    .map(|t| t.key)
                    .collect::<Vec<_>>()
                    .join(" ");
                for word in said.split(' ') {
                    let score = kea_menu::matcher::word_similarity(word, &key);
                    if score >= 0.75 && best.is_none_or(|(s, _)| score > s) {
                        best = Some((score, index));
                    }
                }
            }
        }
        if let Some((_, index)) = best {
            out.push(index);
        }
    }
    out
}

/// "One of each": line `line` becomes one order per option.
fn split_line(work: &mut Work, line: usize, group: usize, options: &[usize]) {
    let Some(base) = work.lines.get(line).cloned() else {
        return;
    };
    for (k, &option) in options.iter().enumerate() {
        let mut part = base.clone();
        part.quantity = 1;
        part.mods.retain(|(g, _)| *g != group);
        part.mods.push((group, option));
        if k == 0 {
            work.lines[line] = part.clone();
        } else {
            part.id = work.new_id();
            work.lines.push(part.clone());
        }
        work.acks.push(Ack::Changed(part));
    }
    work.last = Some(line);
}
