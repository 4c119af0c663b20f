//! Edits of lines already on the order: "make that a large", "change the Sprite to a Diet
//! Coke", "scratch the knots".

use kea_menu::matcher::{MatchKind, MenuMatcher, Target};

use super::{Ack, Work};
use crate::portions::Mark;
use crate::understand::{Analysis, Mention, item_kind};

/// In a removal naming nothing, the last line: "scratch that".
const THAT: &[&str] = &["that", "it", "eso", "lo", "last"];

/// What "make that …" says about a line: another item, a size (as spoken), a quantity, options.
#[derive(Default)]
struct Modification {
    item: Option<(usize, MatchKind)>,
    size: Option<String>,
    quantity: Option<u32>,
    /// Options, with what was said about each ("extra cheese on there", "leave off the onions").
    options: Vec<((usize, usize), Option<Mark>)>,
}

impl Work<'_> {
    /// "make that a large / three / a Diet Coke / with extra cheese" on line `target`.
    pub(super) fn modify(&mut self, target: usize, ms: &[Mention], an: &Analysis) {
        let said = self.modification(target, ms, an);
        let mut changed = false;
        let line = &mut self.lines[target];
        if let Some((item, kind)) = said.item {
            line.item = item;
            line.mods.retain(|(g, _)| {
                let id = &self.menu.modifier_groups[*g].id;
                self.menu.items[item].modifier_groups.contains(id)
            });
            line.size = line
                .size
                .as_deref()
                .and_then(|s| MenuMatcher::resolve_size(self.menu, item, s));
            if kind == MatchKind::Fuzzy {
                line.held = true;
            }
            changed = true;
        }
        if let Some(spoken) = said.size
            && let Some(resolved) = MenuMatcher::resolve_size(self.menu, line.item, &spoken)
        {
            line.size = Some(resolved);
            changed = true;
        }
        if let Some(n) = said.quantity.filter(|n| (1..=999).contains(n)) {
            line.quantity = n;
            changed = true;
        }
        for (opt, mark) in said.options {
            self.mark = mark;
            self.put_mod(target, opt);
            changed = true;
        }
        self.mark = None;
        if changed {
            self.last = Some(target);
            self.acks.push(Ack::Changed(self.lines[target].clone()));
        }
    }

    /// What a "make that …" clause says about line `target`: each menu span counts once, by its
    /// first reading that can apply (a size, an option the line's item offers, another item).
    fn modification(&self, target: usize, ms: &[Mention], an: &Analysis) -> Modification {
        let mut said = Modification::default();
        let marks = super::add::option_marks(ms, an);
        for (k, m) in ms.iter().enumerate() {
            let mark = marks.get(k).copied().flatten();
            match m {
                Mention::Num(n) => said.quantity = Some(*n),
                Mention::Word(_) => {}
                Mention::Menu(mi) => {
                    let matched = &an.matches[*mi];
                    for (t, kind) in &matched.targets {
                        match t {
                            Target::Size(s) => {
                                said.size.get_or_insert(s.clone());
                            }
                            Target::Option { group, option }
                                if self.accepts(self.lines[target].item, *group) =>
                            {
                                said.options.push(((*group, *option), mark));
                                break;
                            }
                            Target::Item(i)
                                if said.item.is_none() && *i != self.lines[target].item =>
                            {
                                said.item = Some((*i, *kind));
                            }
                            _ => continue,
                        }
                        break;
                    }
                }
            }
        }
        said
    }

    /// "change the Sprite to a Diet Coke", "make the pizza a large".
    pub(super) fn change_clause(&mut self, ms: &[Mention], an: &Analysis) {
        let first_menu = ms.iter().position(|m| matches!(m, Mention::Menu(_)));
        let Some(first) = first_menu else {
            // "change that" with nothing else: nothing to do.
            return;
        };
        let targets = self.targets(&ms[first..=first], an);
        let Some(&target) = targets.last() else {
            // Nothing to change from: treat the clause as an order.
            self.add_clause(ms, an);
            return;
        };
        let rest = &ms[first + 1..];
        // A new item in the rest replaces the line; sizes, numbers and options modify it.
        let replaces = rest.iter().any(|m| {
            matches!(m, Mention::Menu(mi) if item_kind(&an.matches[*mi]).is_some_and(|(i, _)| i != self.lines[target].item))
        });
        if replaces {
            let old = self.lines.remove(target);
            self.fix_last_after_remove(target);
            let before = self.lines.len();
            let explicit_qty = rest.iter().any(|m| matches!(m, Mention::Num(_)));
            self.add_clause(rest, an);
            if !explicit_qty && self.lines.len() > before {
                let last = self.lines.len() - 1;
                self.lines[last].quantity = old.quantity;
                if let Some(Ack::Added(d, _)) = self.acks.last_mut() {
                    d.quantity = old.quantity;
                }
            }
            self.acks.push(Ack::Removed(old));
        } else {
            self.modify(target, rest, an);
        }
    }

    /// "scratch the garlic knots", "take off one Coke", "no onions" removed, "scratch that".
    /// "I don't want any onions on it", "skip the ham", "remove the pickles": a removal that
    /// names options and no item refuses those options on the line that takes them (the last
    /// one touched first), as "no onions" does — on menus with portions or items that come with
    /// options (store.md). Whether it did.
    pub(super) fn refuse_options(&mut self, ms: &[Mention], an: &Analysis) -> bool {
        if !self.portions_on {
            return false;
        }
        let mut options = Vec::new();
        for (k, m) in ms.iter().enumerate() {
            let Mention::Menu(mi) = m else { continue };
            let matched = &an.matches[*mi];
            if item_kind(matched).is_some_and(|(_, kind)| kind == MatchKind::Exact)
                || matched
                    .targets
                    .iter()
                    .any(|(t, _)| matches!(t, Target::Category(_)))
            {
                return false;
            }
            let readings: Vec<(usize, usize)> = matched
                .targets
                .iter()
                .filter_map(|(t, _)| match t {
                    Target::Option { group, option } => Some((*group, *option)),
                    _ => None,
                })
                .collect();
            if !readings.is_empty() {
                options.push((k, readings));
            }
        }
        if options.is_empty() {
            return false;
        }
        // "I don't want extra cheese": a refused portion, not a refused option.
        let marks = super::add::option_marks(ms, an);
        let mut changed: Vec<usize> = Vec::new();
        for (k, readings) in options {
            let lines = self
                .last
                .into_iter()
                .chain((0..self.lines.len()).rev())
                .filter(|&i| i < self.lines.len());
            let Some((line, opt)) = lines.into_iter().find_map(|i| {
                readings
                    .iter()
                    .find(|(g, _)| self.accepts(self.lines[i].item, *g))
                    .map(|&opt| (i, opt))
            }) else {
                continue;
            };
            self.mark = Some(match marks.get(k).copied().flatten() {
                Some(Mark::At(kea_menu::Portion::Regular)) | None => {
                    Mark::At(kea_menu::Portion::No)
                }
                Some(Mark::At(_)) | Some(Mark::NotThat) => Mark::NotThat,
            });
            self.put_mod(line, opt);
            self.mark = None;
            if !changed.contains(&line) {
                changed.push(line);
            }
        }
        for &line in &changed {
            self.last = Some(line);
            self.acks.push(Ack::Changed(self.lines[line].clone()));
        }
        !changed.is_empty()
    }

    pub(super) fn remove_clause(&mut self, ms: &[Mention], an: &Analysis) {
        let qty = ms.iter().find_map(|m| match m {
            Mention::Num(n) => Some(*n),
            _ => None,
        });
        let mut removed_any = false;
        for m in ms {
            let Mention::Menu(mi) = m else { continue };
            let matched = &an.matches[*mi];
            // "Take off the onions" with a store's "no onions" option: that option goes on.
            if let Some((g, o)) = matched.targets.iter().find_map(|(t, kind)| match t {
                Target::Option { group, option } if *kind == MatchKind::Refused => {
                    Some((*group, *option))
                }
                _ => None,
            }) && let Some(i) = self
                .last
                .into_iter()
                .chain((0..self.lines.len()).rev())
                .find(|&i| i < self.lines.len() && self.accepts(self.lines[i].item, g))
            {
                self.put_mod(i, (g, o));
                self.acks.push(Ack::Changed(self.lines[i].clone()));
                removed_any = true;
                continue;
            }
            // Removing an option from a line that has it.
            if let Some((g, o)) = matched.targets.iter().find_map(|(t, _)| match t {
                Target::Option { group, option } => Some((*group, *option)),
                _ => None,
            }) && let Some(i) = (0..self.lines.len())
                .rev()
                .find(|&i| self.lines[i].mods.contains(&(g, o)))
                && item_kind(matched)
                    .is_none_or(|(item, _)| !self.lines.iter().any(|l| l.item == item))
            {
                self.lines[i].mods.retain(|&x| x != (g, o));
                self.acks.push(Ack::Changed(self.lines[i].clone()));
                removed_any = true;
                continue;
            }
            let lines = self.lines_for_match(*mi, an);
            for &i in lines.iter().rev() {
                match qty {
                    Some(n) if n < self.lines[i].quantity => {
                        self.lines[i].quantity -= n;
                        let mut gone = self.lines[i].clone();
                        gone.quantity = n;
                        self.acks.push(Ack::Removed(gone));
                    }
                    _ => {
                        let gone = self.lines.remove(i);
                        self.fix_last_after_remove(i);
                        self.acks.push(Ack::Removed(gone));
                    }
                }
                removed_any = true;
            }
        }
        let says_that = ms
            .iter()
            .any(|m| matches!(m, Mention::Word(w) if THAT.contains(&w.as_str())));
        if !removed_any
            && says_that
            && let Some(i) = self.last.or(self.lines.len().checked_sub(1))
        {
            let gone = self.lines.remove(i);
            self.fix_last_after_remove(i);
            self.acks.push(Ack::Removed(gone));
        }
    }
}
