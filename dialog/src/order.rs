//! Applying what the caller said to the order being built.
//!
//! [`Work`] holds the order lines of a call as [`Draft`]s (menu indices rather than skus) for
//! the length of one turn. [`Work::apply`] splits an utterance into clauses (add, "make that…",
//! "change X to Y", "scratch X", "X instead of Y") and binds each clause's quantities, sizes and
//! options to the right item: options said before an item bind forward when nothing separates
//! them ("chicken quesadilla"), otherwise to the nearest item that offers them ("a burrito with
//! guac"), or to the item named after "on the" ("no onions on the carnitas").

use kea_menu::Menu;
use kea_menu::matcher::{MatchKind, MenuMatcher, Target};
use serde::{Deserialize, Serialize};

use crate::understand::{Analysis, Mention};

/// One order line as the state stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Line {
    /// Item sku.
    pub sku: String,
    /// Canonical size name, when the item has sizes and one was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// How many.
    pub quantity: u32,
    /// Option skus, in the order they were said.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modifiers: Vec<String>,
    /// How sure the match was, in thousandths.
    #[serde(default = "full")]
    pub certainty: u16,
}

fn full() -> u16 {
    1000
}

/// A caller asked for a category ("a pizza") or an ambiguous name: which item do they mean?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Clarify {
    /// Skus of the candidates.
    pub skus: Vec<String>,
    /// Quantity said with it.
    pub quantity: u32,
    /// Size said with it, as spoken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
}

/// A line while a turn is worked on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    pub item: usize,
    pub quantity: u32,
    pub size: Option<String>,
    pub mods: Vec<(usize, usize)>,
    pub certainty: u16,
    /// Waiting for the caller to confirm it (fuzzy match or low ASR confidence).
    pub held: bool,
    /// Identity within one turn, so acknowledgements can describe a line as it ended up.
    pub id: u32,
}

/// More options of one group said for one line than the group allows ("half hot, half mild"
/// when an order of wings takes one sauce): the line keeps none of them until the caller chooses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Conflict {
    /// The line's [`Draft::id`].
    pub id: u32,
    /// Index of the group in `menu.modifier_groups`.
    pub group: usize,
    /// The options said, in the order they were said.
    pub options: Vec<usize>,
}

/// What a turn did to the order, for the acknowledgement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ack {
    /// A line was added; `true` when it was merged into an equal line already there.
    Added(Draft, bool),
    Changed(Draft),
    Removed(Draft),
}

/// The order of one call, while one turn is applied to it.
pub(crate) struct Work<'a> {
    pub menu: &'a Menu,
    pub lines: Vec<Draft>,
    pub last: Option<usize>,
    pub acks: Vec<Ack>,
    pub clarify: Option<(Vec<usize>, u32, Option<String>)>,
    /// Hold every new line for confirmation (low speech-recognition confidence).
    pub hold_new: bool,
    /// How sure the speech recogniser was, in thousandths.
    pub asr: u16,
    /// The caller is correcting the order ("no, I said two Cokes"): an item already on the
    /// order is restated, not added again.
    pub correcting: bool,
    /// Options said for more than a group allows, to be asked about.
    pub conflicts: Vec<Conflict>,
    /// Every option reading of the clause being applied.
    clause_options: Vec<(usize, usize)>,
    next_id: u32,
}

const PREPOSITIONS: &[&str] = &[
    "on", "for", "in", "to", "en", "para", "a", "al", "from", "off",
];
const DETERMINERS: &[&str] = &[
    "the", "my", "that", "those", "el", "la", "los", "las", "each", "both", "all",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum ClauseKind {
    Add,
    MakeThat,
    Change,
    Remove,
    InsteadOf,
}

const MARKERS: &[(&str, ClauseKind)] = &[
    ("make that", ClauseKind::MakeThat),
    ("make it", ClauseKind::MakeThat),
    ("make those", ClauseKind::MakeThat),
    ("make them", ClauseKind::MakeThat),
    ("change that to", ClauseKind::MakeThat),
    ("change it to", ClauseKind::MakeThat),
    ("switch that to", ClauseKind::MakeThat),
    ("switch it to", ClauseKind::MakeThat),
    ("hazlo", ClauseKind::MakeThat),
    ("hazlos", ClauseKind::MakeThat),
    ("que sean", ClauseKind::MakeThat),
    ("mejor que sean", ClauseKind::MakeThat),
    ("no wait", ClauseKind::MakeThat),
    ("or rather", ClauseKind::MakeThat),
    ("i mean", ClauseKind::MakeThat),
    ("i meant", ClauseKind::MakeThat),
    ("mejor que sea", ClauseKind::MakeThat),
    ("que sea", ClauseKind::MakeThat),
    ("mejor", ClauseKind::MakeThat),
    ("instead of", ClauseKind::InsteadOf),
    ("en vez de", ClauseKind::InsteadOf),
    ("en lugar de", ClauseKind::InsteadOf),
    ("make the", ClauseKind::Change),
    ("change", ClauseKind::Change),
    ("switch", ClauseKind::Change),
    ("swap", ClauseKind::Change),
    ("replace", ClauseKind::Change),
    ("substitute", ClauseKind::Change),
    ("cambia", ClauseKind::Change),
    ("cambiame", ClauseKind::Change),
    ("cambiar", ClauseKind::Change),
    ("scratch", ClauseKind::Remove),
    ("remove", ClauseKind::Remove),
    ("take off", ClauseKind::Remove),
    ("take away", ClauseKind::Remove),
    ("cancel", ClauseKind::Remove),
    ("drop", ClauseKind::Remove),
    ("delete", ClauseKind::Remove),
    ("forget", ClauseKind::Remove),
    ("never mind", ClauseKind::Remove),
    ("nevermind", ClauseKind::Remove),
    ("get rid of", ClauseKind::Remove),
    ("no more", ClauseKind::Remove),
    ("do not want", ClauseKind::Remove),
    ("do not need", ClauseKind::Remove),
    ("skip", ClauseKind::Remove),
    ("lose", ClauseKind::Remove),
    ("quita", ClauseKind::Remove),
    ("quitale", ClauseKind::Remove),
    ("quitame", ClauseKind::Remove),
    ("elimina", ClauseKind::Remove),
    ("cancela", ClauseKind::Remove),
    ("ya no quiero", ClauseKind::Remove),
    ("olvida", ClauseKind::Remove),
];

impl<'a> Work<'a> {
    /// Loads the state's lines (confirmed and held) for one turn.
    pub(crate) fn new(menu: &'a Menu, lines: &[Line], held: &[Line], last: Option<usize>) -> Self {
        let mut work = Work {
            menu,
            lines: Vec::new(),
            last: None,
            acks: Vec::new(),
            clarify: None,
            hold_new: false,
            asr: 1000,
            correcting: false,
            conflicts: Vec::new(),
            clause_options: Vec::new(),
            next_id: 0,
        };
        for (line, is_held) in lines
            .iter()
            .map(|l| (l, false))
            .chain(held.iter().map(|l| (l, true)))
        {
            if let Some(mut draft) = work.draft_of(line, is_held) {
                draft.id = work.new_id();
                work.lines.push(draft);
            }
        }
        work.last = last.filter(|&i| i < work.lines.len());
        work
    }

    fn draft_of(&self, line: &Line, held: bool) -> Option<Draft> {
        let item = self.menu.items.iter().position(|i| i.sku == line.sku)?;
        let mods = line
            .modifiers
            .iter()
            .filter_map(|sku| self.option_of(item, sku))
            .collect();
        Some(Draft {
            item,
            quantity: line.quantity.max(1),
            size: line.size.clone(),
            mods,
            certainty: line.certainty,
            held,
            id: 0,
        })
    }

    /// A fresh id for a line created during this turn.
    pub(crate) fn new_id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id
    }

    /// The current line with id `id`.
    pub(crate) fn by_id(&self, id: u32) -> Option<&Draft> {
        self.lines.iter().find(|d| d.id == id)
    }

    /// The (group, option) indices of option `sku` among item `item`'s groups.
    pub(crate) fn option_of(&self, item: usize, sku: &str) -> Option<(usize, usize)> {
        let it = self.menu.items.get(item)?;
        it.modifier_groups.iter().find_map(|id| {
            let g = self.menu.modifier_groups.iter().position(|g| g.id == *id)?;
            let o = self.menu.modifier_groups[g]
                .options
                .iter()
                .position(|o| o.sku == sku)?;
            Some((g, o))
        })
    }

    /// The lines back in state form: (confirmed, held).
    pub(crate) fn into_lines(self) -> (Vec<Line>, Vec<Line>, Option<usize>) {
        let mut confirmed = Vec::new();
        let mut held = Vec::new();
        let mut last = None;
        for (index, draft) in self.lines.iter().enumerate() {
            let line = self.to_line(draft);
            if draft.held {
                held.push(line);
            } else {
                if self.last == Some(index) {
                    last = Some(confirmed.len());
                }
                confirmed.push(line);
            }
        }
        (confirmed, held, last)
    }

    pub(crate) fn to_line(&self, draft: &Draft) -> Line {
        Line {
            sku: self.menu.items[draft.item].sku.clone(),
            size: draft.size.clone(),
            quantity: draft.quantity,
            modifiers: draft
                .mods
                .iter()
                .map(|&(g, o)| self.menu.modifier_groups[g].options[o].sku.clone())
                .collect(),
            certainty: draft.certainty,
        }
    }

    fn accepts(&self, item: usize, group: usize) -> bool {
        let id = &self.menu.modifier_groups[group].id;
        self.menu.items[item].modifier_groups.contains(id)
    }

    /// Adds option (g, o) to a draft, replacing a choice from a single-choice group; returns the
    /// option that did not make it (the one replaced, or this one when the group is full).
    fn add_mod(draft: &mut Draft, menu: &Menu, (g, o): (usize, usize)) -> Option<(usize, usize)> {
        if draft.mods.contains(&(g, o)) {
            return None;
        }
        let group = &menu.modifier_groups[g];
        let in_group = draft.mods.iter().filter(|(dg, _)| *dg == g).count();
        let mut lost = None;
        if group.max <= 1 {
            lost = draft.mods.iter().copied().find(|(dg, _)| *dg == g);
            draft.mods.retain(|(dg, _)| *dg != g);
        } else if u32::try_from(in_group).unwrap_or(u32::MAX) >= group.max {
            return Some((g, o));
        }
        draft.mods.push((g, o));
        lost
    }

    /// [`Work::add_mod`] on line `line`, noting a conflict when the option lost was said in the
    /// same clause ("half hot, half mild" with one sauce per order).
    fn put_mod(&mut self, line: usize, opt: (usize, usize)) {
        if let Some(gone) = Self::add_mod(&mut self.lines[line], self.menu, opt) {
            self.note_lost(line, gone, opt);
        }
    }

    /// Option `gone` lost its place on line `line` to `kept`: when the caller said both in one
    /// clause, neither is silently dropped; the line waits for the caller to choose.
    fn note_lost(&mut self, line: usize, gone: (usize, usize), kept: (usize, usize)) {
        let group = gone.0;
        if kept.0 != group
            || !self.clause_options.contains(&gone)
            || !self.clause_options.contains(&kept)
        {
            return;
        }
        let Some(draft) = self.lines.get(line) else {
            return;
        };
        let id = draft.id;
        let said: Vec<usize> = self
            .clause_options
            .iter()
            .filter(|&&(g, o)| g == group && (o == gone.1 || draft.mods.contains(&(g, o))))
            .map(|&(_, o)| o)
            .collect();
        match self
            .conflicts
            .iter_mut()
            .find(|c| c.id == id && c.group == group)
        {
            Some(c) => {
                for o in said {
                    if !c.options.contains(&o) {
                        c.options.push(o);
                    }
                }
            }
            None => self.conflicts.push(Conflict {
                id,
                group,
                options: said,
            }),
        }
    }

    /// Applies every clause of the utterance; returns whether anything changed.
    pub(crate) fn apply(&mut self, an: &Analysis) -> bool {
        let before = (self.lines.clone(), self.clarify.clone());
        let ms = &an.mentions;
        // Clause boundaries at marker phrases made of plain words.
        let mut bounds: Vec<(usize, usize, ClauseKind)> = Vec::new(); // (marker start, body start, kind)
        let mut k = 0;
        while k < ms.len() {
            let mut found = None;
            for (phrase, kind) in MARKERS {
                let words: Vec<&str> = phrase.split(' ').collect();
                if k + words.len() <= ms.len()
                    && words
                        .iter()
                        .enumerate()
                        .all(|(j, w)| matches!(&ms[k + j], Mention::Word(t) if t == w))
                {
                    found = Some((words.len(), *kind));
                    break;
                }
            }
            if let Some((len, kind)) = found {
                bounds.push((k, k + len, kind));
                k += len;
            } else {
                k += 1;
            }
        }
        let mut start = 0;
        let mut kind = ClauseKind::Add;
        for &(marker, body, next_kind) in &bounds {
            self.clause(kind, &ms[start..marker], an);
            start = body;
            kind = next_kind;
        }
        self.clause(kind, &ms[start..], an);
        // A line with a conflict keeps none of the options in question until the caller picks.
        for c in &self.conflicts {
            if let Some(line) = self.lines.iter_mut().find(|d| d.id == c.id) {
                line.mods.retain(|(g, _)| *g != c.group);
            }
        }
        (self.lines.clone(), self.clarify.clone()) != before
    }

    fn clause(&mut self, kind: ClauseKind, ms: &[Mention], an: &Analysis) {
        self.clause_options.clear();
        for m in ms {
            if let Mention::Menu(mi) = m {
                for (t, _) in &an.matches[*mi].targets {
                    if let Target::Option { group, option } = t {
                        self.clause_options.push((*group, *option));
                    }
                }
            }
        }
        match kind {
            ClauseKind::Add
                if ms.iter().all(|m| !matches!(m, Mention::Menu(_)))
                    && ms.iter().filter(|m| matches!(m, Mention::Num(_))).count() == 1
                    && ms.iter().any(|m| matches!(m, Mention::Word(w) if matches!(w.as_str(), "those" | "them" | "these" | "esos" | "esas" | "total"))) =>
            {
                // "I'll need three of those": the quantity of the last line.
                if let Some(target) = self.last.or(self.lines.len().checked_sub(1)) {
                    self.modify(target, ms, an);
                }
            }
            ClauseKind::Add => self.add_clause(ms, an),
            ClauseKind::MakeThat => {
                // "make that three Thai teas": the line of the item named, else the last one.
                let named = self.targets(ms, an).last().copied();
                let removed = self.acks.iter().any(|a| matches!(a, Ack::Removed(_)));
                if named.is_none() && self.last.is_none() && removed {
                    // "scratch the hawaiian, make it a margherita instead": a new line.
                    self.add_clause(ms, an);
                } else if let Some(target) = named.or(self.last).or(self.lines.len().checked_sub(1))
                {
                    self.modify(target, ms, an);
                }
            }
            ClauseKind::Change => self.change_clause(ms, an),
            ClauseKind::Remove => self.remove_clause(ms, an),
            ClauseKind::InsteadOf => {
                // "a Diet Coke instead of the Sprite": the old item goes.
                let targets = self.targets(ms, an);
                if let Some(&index) = targets.first() {
                    let draft = self.lines.remove(index);
                    self.fix_last_after_remove(index);
                    self.acks.push(Ack::Removed(draft));
                }
            }
        }
    }

    /// Lines a clause refers to, by the items, categories or options it names.
    fn targets(&self, ms: &[Mention], an: &Analysis) -> Vec<usize> {
        let mut out = Vec::new();
        for m in ms {
            let Mention::Menu(mi) = m else { continue };
            let found = self.lines_for_match(*mi, an);
            for i in found {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
            if !out.is_empty() {
                break;
            }
        }
        out
    }

    fn lines_for_match(&self, mi: usize, an: &Analysis) -> Vec<usize> {
        let m = &an.matches[mi];
        let mut out = Vec::new();
        for (target, _) in &m.targets {
            let hits: Vec<usize> = match target {
                Target::Item(item) => (0..self.lines.len())
                    .filter(|&i| self.lines[i].item == *item)
                    .collect(),
                Target::Category(items) => (0..self.lines.len())
                    .filter(|&i| items.contains(&self.lines[i].item))
                    .collect(),
                Target::Option { group, option } => (0..self.lines.len())
                    .filter(|&i| self.lines[i].mods.contains(&(*group, *option)))
                    .collect(),
                Target::Size(_) => Vec::new(),
            };
            if !hits.is_empty() {
                out = hits;
                break;
            }
        }
        if out.is_empty() {
            // "the carnitas": a word of an item's name.
            let words: Vec<&str> = an.tokens[m.start..m.end]
                .iter()
                .map(|t| t.key.as_str())
                .collect();
            out = (0..self.lines.len())
                .filter(|&i| {
                    let name =
                        kea_menu::matcher::tokenize(&self.menu.items[self.lines[i].item].name);
                    words.iter().all(|w| name.iter().any(|t| t.key == *w))
                })
                .collect();
        }
        out
    }

    fn fix_last_after_remove(&mut self, removed: usize) {
        self.last = match self.last {
            Some(l) if l == removed => None,
            Some(l) if l > removed => Some(l - 1),
            other => other,
        };
    }

    fn push_line(&mut self, mut draft: Draft) {
        draft.held = draft.held || self.hold_new;
        draft.certainty = draft.certainty.min(self.asr);
        if let Some(size) = &draft.size {
            draft.size = MenuMatcher::resolve_size(self.menu, draft.item, size);
        }
        if self.correcting
            && let Some(i) = self
                .lines
                .iter()
                .rposition(|l| l.item == draft.item && !l.held)
        {
            let line = &mut self.lines[i];
            line.quantity = draft.quantity;
            if draft.size.is_some() {
                line.size.clone_from(&draft.size);
            }
            for opt in draft.mods {
                self.put_mod(i, opt);
            }
            self.acks.push(Ack::Changed(self.lines[i].clone()));
            self.last = Some(i);
            return;
        }
        let mut sorted = draft.mods.clone();
        sorted.sort_unstable();
        let same = self.lines.iter().position(|l| {
            let mut m = l.mods.clone();
            m.sort_unstable();
            l.item == draft.item && l.size == draft.size && m == sorted && l.held == draft.held
        });
        match same {
            Some(i) => {
                draft.id = self.lines[i].id;
                self.acks.push(Ack::Added(draft.clone(), true));
                self.lines[i].quantity = self.lines[i]
                    .quantity
                    .saturating_add(draft.quantity)
                    .min(999);
                self.last = Some(i);
            }
            None => {
                draft.id = self.new_id();
                self.acks.push(Ack::Added(draft.clone(), false));
                self.lines.push(draft);
                self.last = Some(self.lines.len() - 1);
            }
        }
    }

    /// Is there an item right after position `k` (only options and sizes between) that accepts
    /// one of `options`?
    fn forward_item(
        &self,
        ms: &[Mention],
        k: usize,
        an: &Analysis,
        options: &[(usize, usize)],
    ) -> bool {
        for m in &ms[k + 1..] {
            let Mention::Menu(mi) = m else { return false };
            let matched = &an.matches[*mi];
            if let Some((item, _)) = crate::understand::item_kind(matched) {
                return options.iter().any(|&(g, _)| self.accepts(item, g));
            }
            if matched
                .targets
                .iter()
                .any(|(t, _)| matches!(t, Target::Category(_)))
            {
                return true;
            }
        }
        false
    }

    /// The line an option said after the items binds to: the latest of `clause_lines`, then
    /// the last line touched, then any line, that offers its group.
    fn backward_line(
        &self,
        clause_lines: &[usize],
        options: &[(usize, usize)],
    ) -> Option<(usize, (usize, usize))> {
        let candidates = clause_lines
            .iter()
            .rev()
            .copied()
            .chain(self.last)
            .chain((0..self.lines.len()).rev());
        for i in candidates {
            if i >= self.lines.len() {
                continue;
            }
            if let Some(&opt) = options
                .iter()
                .find(|(g, _)| self.accepts(self.lines[i].item, *g))
            {
                return Some((i, opt));
            }
        }
        None
    }

    fn add_clause(&mut self, ms: &[Mention], an: &Analysis) {
        let mut qty: Option<u32> = None;
        let mut size: Option<String> = None;
        let mut mods: Vec<(usize, usize)> = Vec::new();
        let mut clause_lines: Vec<usize> = Vec::new();
        let mut template: Option<(Vec<usize>, Option<String>)> = None;
        let mut k = 0;
        while k < ms.len() {
            match &ms[k] {
                Mention::Num(n) => {
                    if let Some(skip) = self.split_by_option(ms, k, *n, an, &clause_lines) {
                        k += skip;
                        continue;
                    }
                    qty = Some(*n);
                }
                Mention::Word(_) => {}
                Mention::Menu(mi) => {
                    let m = &an.matches[*mi];
                    let options: Vec<(usize, usize)> = m
                        .targets
                        .iter()
                        .filter_map(|(t, _)| match t {
                            Target::Option { group, option } => Some((*group, *option)),
                            _ => None,
                        })
                        .collect();
                    let item = crate::understand::item_kind(m);
                    let category = m.targets.iter().find_map(|(t, _)| match t {
                        Target::Category(items) => Some(items.clone()),
                        _ => None,
                    });
                    let spoken_size = m.targets.iter().find_map(|(t, _)| match t {
                        Target::Size(s) => Some(s.clone()),
                        _ => None,
                    });
                    let before = k.checked_sub(1).map(|p| &ms[p]);
                    let article_before = matches!(before, Some(Mention::Num(_)))
                        || matches!(before, Some(Mention::Word(w)) if matches!(w.as_str(), "a" | "an" | "some" | "another"));
                    if item.is_none() && options.is_empty() && category.is_none() {
                        if let Some(spoken) = spoken_size {
                            self.size_mention(ms, k, an, spoken, &mut size, &clause_lines);
                        }
                        k += 1;
                        continue;
                    }
                    if !options.is_empty() && self.forward_item(ms, k, an, &options) {
                        mods.extend(options.iter().copied().take(1));
                        k += 1;
                        continue;
                    }
                    // "no onions on the carnitas": the option goes to the line named next.
                    if !options.is_empty()
                        && let Some((target, skip)) = self.on_the(ms, k, an, &options)
                    {
                        if let Some(&opt) = options
                            .iter()
                            .find(|(g, _)| self.accepts(self.lines[target].item, *g))
                        {
                            self.put_mod(target, opt);
                            if !clause_lines.contains(&target) {
                                self.acks.push(Ack::Changed(self.lines[target].clone()));
                            }
                        }
                        k += skip;
                        continue;
                    }
                    let backward = self.backward_line(&clause_lines, &options);
                    // "both with mushrooms": every line of this clause that offers it.
                    let all_of_them = (1..=2).any(|back| {
                        k.checked_sub(back).is_some_and(|p| {
                            matches!(&ms[p], Mention::Word(w) if matches!(w.as_str(), "both" | "all" | "each" | "ambos" | "ambas" | "todos" | "todas"))
                        })
                    });
                    if all_of_them
                        && item.is_none_or(|(_, kind)| kind != MatchKind::Exact)
                        && clause_lines.len() > 1
                    {
                        let mut any = false;
                        for &line in &clause_lines {
                            if let Some(&opt) = options
                                .iter()
                                .find(|(g, _)| self.accepts(self.lines[line].item, *g))
                            {
                                self.put_mod(line, opt);
                                any = true;
                            }
                        }
                        if any {
                            k += 1;
                            continue;
                        }
                    }
                    // "a two liter coke": right after an item that offers it, a flavour.
                    let right_after = matches!(before, Some(Mention::Menu(p))
                        if crate::understand::item_kind(&an.matches[*p]).is_some_and(|(i, _)| options.iter().any(|(g, _)| self.accepts(i, *g))));
                    if right_after
                        && let Some((line, opt)) = backward.filter(|(l, (g, _))| {
                            clause_lines.last() == Some(l)
                                && !self.lines[*l].mods.iter().any(|(dg, _)| dg == g)
                        })
                    {
                        self.put_mod(line, opt);
                        k += 1;
                        continue;
                    }
                    // "a two liter of Diet Coke", "jarritos de tamarindo": a flavour of the item.
                    let of_previous = matches!(before, Some(Mention::Word(w)) if matches!(w.as_str(), "of" | "de" | "with" | "con"))
                        && k >= 2
                        && matches!(&ms[k - 2], Mention::Menu(p) if crate::understand::item_kind(&an.matches[*p]).is_some_and(|(i, _)| options.iter().any(|(g, _)| self.accepts(i, *g))));
                    if of_previous
                        && let Some((line, opt)) =
                            backward.filter(|(l, _)| clause_lines.last() == Some(l))
                    {
                        self.put_mod(line, opt);
                        k += 1;
                        continue;
                    }
                    let item_wins = match item {
                        Some((_, MatchKind::Exact)) => true,
                        Some(_) => article_before || options.is_empty() || backward.is_none(),
                        None => false,
                    };
                    let negated = matches!(before, Some(Mention::Word(w)) if matches!(w.as_str(), "no" | "without" | "sin" | "not"))
                        || (k >= 2
                            && matches!(&ms[k - 1], Mention::Word(d) if DETERMINERS.contains(&d.as_str()) || matches!(d.as_str(), "a" | "an"))
                            && matches!(&ms[k - 2], Mention::Word(w) if matches!(w.as_str(), "no" | "without" | "sin" | "not")));
                    if let Some((item, _)) = item.filter(|_| item_wins && negated)
                        && let Some(i) = (0..self.lines.len())
                            .rev()
                            .find(|&i| self.lines[i].item == item && !clause_lines.contains(&i))
                    {
                        let gone = self.lines.remove(i);
                        self.fix_last_after_remove(i);
                        for l in &mut clause_lines {
                            if *l > i {
                                *l -= 1;
                            }
                        }
                        self.acks.push(Ack::Removed(gone));
                        k += 1;
                        continue;
                    }
                    if let Some((item, kind)) = item.filter(|_| item_wins) {
                        let fuzzy = kind == MatchKind::Fuzzy;
                        let mut qty_said = qty.take();
                        // "twelve wings", "a dozen wings": the number names a size ("12 piece");
                        // "ten wings" is a piece count between sizes: ask which size.
                        let counts: Vec<u32> = self.menu.items[item]
                            .sizes
                            .iter()
                            .filter_map(|z| z.name.split_whitespace().next()?.parse().ok())
                            .collect();
                        if let Some(n) = qty_said
                            && size.is_none()
                            && !counts.is_empty()
                            && counts.len() == self.menu.items[item].sizes.len()
                        {
                            if let Some(sized) = self.menu.items[item].sizes.iter().find(|z| {
                                z.name.split_whitespace().next() == Some(n.to_string().as_str())
                            }) {
                                size = Some(sized.name.clone());
                                qty_said = None;
                            } else if counts.iter().min().is_some_and(|&min| n >= min) {
                                qty_said = None;
                            }
                        }
                        let mut draft = Draft {
                            item,
                            quantity: qty_said.unwrap_or(1).clamp(1, 999),
                            size: size.take(),
                            mods: Vec::new(),
                            certainty: if fuzzy {
                                (m.score * 1000.0) as u16
                            } else {
                                1000
                            },
                            held: fuzzy,
                            id: 0,
                        };
                        let mut lost = Vec::new();
                        for opt in mods.drain(..) {
                            if self.accepts(item, opt.0)
                                && let Some(gone) = Self::add_mod(&mut draft, self.menu, opt)
                            {
                                lost.push((gone, opt));
                            }
                        }
                        // "a large pizza, pepperoni": the item answers the category, and
                        // "two large pizzas, one pepperoni and one cheese" gives the size to each.
                        if let Some((items, cq, csize)) = self.clarify.take() {
                            if items.contains(&draft.item) {
                                if qty_said.is_none() {
                                    draft.quantity = cq;
                                }
                                template = Some((items, csize));
                            } else {
                                self.clarify = Some((items, cq, csize));
                            }
                        }
                        if let Some((items, tsize)) = &template
                            && items.contains(&draft.item)
                            && draft.size.is_none()
                        {
                            draft.size.clone_from(tsize);
                        }
                        self.push_line(draft);
                        if let Some(i) = self.last {
                            clause_lines.push(i);
                            for (gone, kept) in lost {
                                self.note_lost(i, gone, kept);
                            }
                        }
                    } else if !options.is_empty() {
                        // "no onions on the carnitas": the option goes to the line named next.
                        if let Some((target, skip)) = self.on_the(ms, k, an, &options) {
                            if let Some(&opt) = options
                                .iter()
                                .find(|(g, _)| self.accepts(self.lines[target].item, *g))
                            {
                                self.put_mod(target, opt);
                                self.acks.push(Ack::Changed(self.lines[target].clone()));
                            }
                            k += skip;
                            continue;
                        }
                        if let Some((line, opt)) = backward {
                            self.put_mod(line, opt);
                            if !clause_lines.contains(&line) {
                                self.acks.push(Ack::Changed(self.lines[line].clone()));
                                self.last = Some(line);
                            }
                        } else if let Some(item) = self.elliptic_item(ms, k, an, &clause_lines) {
                            // "cuatro tacos al pastor y dos de pollo": two chicken tacos.
                            let draft = Draft {
                                item,
                                quantity: qty.take().unwrap_or(1).clamp(1, 999),
                                size: size.take(),
                                mods: Vec::new(),
                                certainty: 1000,
                                held: false,
                                id: 0,
                            };
                            self.push_line(draft);
                            if let Some(i) = self.last {
                                clause_lines.push(i);
                            }
                        } else {
                            mods.extend(options.iter().copied().take(1));
                        }
                    } else if let Some(items) = category {
                        let after_item = matches!(before, Some(Mention::Menu(p)) if crate::understand::item_kind(&an.matches[*p]).is_some_and(|(i, _)| items.contains(&i)));
                        if !after_item {
                            self.clarify =
                                Some((items, qty.take().unwrap_or(1).clamp(1, 999), size.take()));
                            mods.clear();
                        }
                    }
                }
            }
            k += 1;
        }
    }

    /// After a number, words that name one item of the same category as the line before
    /// ("tres tacos al pastor y dos de pollo") stand for that item.
    fn elliptic_item(
        &self,
        ms: &[Mention],
        k: usize,
        an: &Analysis,
        clause_lines: &[usize],
    ) -> Option<usize> {
        let mut p = k.checked_sub(1)?;
        if matches!(&ms[p], Mention::Word(w) if matches!(w.as_str(), "de" | "of" | "with" | "con"))
        {
            p = p.checked_sub(1)?;
        }
        if !matches!(&ms[p], Mention::Num(_)) {
            return None;
        }
        let previous = self.lines.get(*clause_lines.last()?)?;
        let category = self.menu.items[previous.item].category.as_ref()?;
        let Mention::Menu(mi) = &ms[k] else {
            return None;
        };
        let m = &an.matches[*mi];
        let words: Vec<&str> = an.tokens[m.start..m.end]
            .iter()
            .map(|t| t.key.as_str())
            .collect();
        let mut found = self.menu.items.iter().enumerate().filter(|(_, item)| {
            item.category.as_ref() == Some(category)
                && std::iter::once(&item.name)
                    .chain(&item.aliases)
                    .any(|name| {
                        let keys = kea_menu::matcher::tokenize(name);
                        words.iter().all(|w| keys.iter().any(|t| t.key == *w))
                    })
        });
        let first = found.next()?.0;
        found.next().is_none().then_some(first)
    }

    /// "2 Jarritos, 1 mandarin and 1 tamarind": a number before an option splits a line.
    fn split_by_option(
        &mut self,
        ms: &[Mention],
        k: usize,
        n: u32,
        an: &Analysis,
        clause_lines: &[usize],
    ) -> Option<usize> {
        // "one mandarin", "one with an extra shot", "uno con queso".
        let mut next = k + 1;
        if matches!(ms.get(next), Some(Mention::Word(w)) if matches!(w.as_str(), "with" | "con" | "de" | "of" | "in"))
        {
            next += 1;
        }
        let Some(Mention::Menu(mi)) = ms.get(next) else {
            return None;
        };
        let skip = next + 1 - k;
        let m = &an.matches[*mi];
        if crate::understand::item_kind(m).is_some_and(|(_, kind)| kind == MatchKind::Exact)
            && next == k + 1
        {
            return None;
        }
        let options: Vec<(usize, usize)> = m
            .targets
            .iter()
            .filter_map(|(t, _)| match t {
                Target::Option { group, option } => Some((*group, *option)),
                _ => None,
            })
            .collect();
        let spoken_size = m.targets.iter().find_map(|(t, _)| match t {
            Target::Size(s) => Some(s.clone()),
            _ => None,
        });
        if let Some(spoken) = spoken_size {
            // "2 pepperoni pizzas, 1 large and 1 small".
            for &line in clause_lines.iter().rev() {
                let draft = &self.lines[line];
                if draft.size.is_some() || draft.quantity < n {
                    continue;
                }
                let Some(resolved) = MenuMatcher::resolve_size(self.menu, draft.item, &spoken)
                else {
                    continue;
                };
                if draft.quantity == n {
                    self.lines[line].size = Some(resolved);
                } else {
                    let mut part = self.lines[line].clone();
                    part.quantity = n;
                    part.id = self.new_id();
                    part.size = Some(resolved);
                    self.lines[line].quantity -= n;
                    self.acks.push(Ack::Added(part.clone(), false));
                    self.lines.push(part);
                }
                return Some(skip);
            }
            return None;
        }
        for &line in clause_lines.iter().rev() {
            let draft = &self.lines[line];
            let Some(&opt) = options.iter().find(|(g, _)| self.accepts(draft.item, *g)) else {
                continue;
            };
            let has_group = draft.mods.iter().any(|(g, _)| *g == opt.0);
            if has_group || draft.quantity < n {
                continue;
            }
            if draft.quantity == n {
                self.put_mod(line, opt);
            } else {
                let mut part = self.lines[line].clone();
                part.quantity = n;
                part.id = self.new_id();
                let _ = Self::add_mod(&mut part, self.menu, opt);
                self.lines[line].quantity -= n;
                self.acks.push(Ack::Added(part.clone(), false));
                self.lines.push(part);
            }
            return Some(skip);
        }
        None
    }

    /// "… on the carnitas": the line named after a preposition, and how many mentions to skip.
    fn on_the(
        &self,
        ms: &[Mention],
        k: usize,
        an: &Analysis,
        options: &[(usize, usize)],
    ) -> Option<(usize, usize)> {
        let mut j = k + 1;
        if !matches!(ms.get(j), Some(Mention::Word(w)) if PREPOSITIONS.contains(&w.as_str())) {
            return None;
        }
        j += 1;
        while matches!(ms.get(j), Some(Mention::Word(w)) if DETERMINERS.contains(&w.as_str())) {
            j += 1;
        }
        let Some(Mention::Menu(mi)) = ms.get(j) else {
            return None;
        };
        let lines = self.lines_for_match(*mi, an);
        let line = lines.iter().rev().copied().find(|&i| {
            options
                .iter()
                .any(|(g, _)| self.accepts(self.lines[i].item, *g))
        })?;
        Some((line, j + 1 - k))
    }

    fn size_mention(
        &mut self,
        ms: &[Mention],
        k: usize,
        an: &Analysis,
        spoken: String,
        size: &mut Option<String>,
        clause_lines: &[usize],
    ) {
        // Before an item (only options between): it is that item's size.
        for m in &ms[k + 1..] {
            let Mention::Menu(mi) = m else { break };
            let matched = &an.matches[*mi];
            if crate::understand::item_kind(matched).is_some()
                || matched
                    .targets
                    .iter()
                    .any(|(t, _)| matches!(t, Target::Category(_)))
            {
                *size = Some(spoken);
                return;
            }
        }
        // After an item: "an horchata, large".
        let unsized_last = self
            .last
            .filter(|&l| l < self.lines.len() && self.lines[l].size.is_none());
        for &line in clause_lines.iter().rev().chain(unsized_last.iter()) {
            if let Some(resolved) =
                MenuMatcher::resolve_size(self.menu, self.lines[line].item, &spoken)
            {
                self.lines[line].size = Some(resolved);
                return;
            }
        }
        *size = Some(spoken);
    }

    /// "make that a large / three / a Diet Coke / with extra cheese" on line `target`.
    fn modify(&mut self, target: usize, ms: &[Mention], an: &Analysis) {
        let mut changed = false;
        let mut new_item: Option<(usize, MatchKind)> = None;
        let mut spoken_size = None;
        let mut qty = None;
        let mut options = Vec::new();
        for m in ms {
            match m {
                Mention::Num(n) => qty = Some(*n),
                Mention::Word(_) => {}
                Mention::Menu(mi) => {
                    let matched = &an.matches[*mi];
                    for (t, kind) in &matched.targets {
                        match t {
                            Target::Size(s) => {
                                spoken_size.get_or_insert(s.clone());
                            }
                            Target::Option { group, option }
                                if self.accepts(self.lines[target].item, *group) =>
                            {
                                options.push((*group, *option));
                                break;
                            }
                            Target::Item(i)
                                if new_item.is_none() && *i != self.lines[target].item =>
                            {
                                new_item = Some((*i, *kind));
                            }
                            _ => continue,
                        }
                        break;
                    }
                }
            }
        }
        let line = &mut self.lines[target];
        if let Some((item, kind)) = new_item {
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
        if let Some(spoken) = spoken_size
            && let Some(resolved) = MenuMatcher::resolve_size(self.menu, line.item, &spoken)
        {
            line.size = Some(resolved);
            changed = true;
        }
        if let Some(n) = qty.filter(|n| (1..=999).contains(n)) {
            line.quantity = n;
            changed = true;
        }
        for opt in options {
            self.put_mod(target, opt);
            changed = true;
        }
        if changed {
            self.last = Some(target);
            self.acks.push(Ack::Changed(self.lines[target].clone()));
        }
    }

    /// "change the Sprite to a Diet Coke", "make the pizza a large".
    fn change_clause(&mut self, ms: &[Mention], an: &Analysis) {
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
            matches!(m, Mention::Menu(mi) if crate::understand::item_kind(&an.matches[*mi]).is_some_and(|(i, _)| i != self.lines[target].item))
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
    fn remove_clause(&mut self, ms: &[Mention], an: &Analysis) {
        let qty = ms.iter().find_map(|m| match m {
            Mention::Num(n) => Some(*n),
            _ => None,
        });
        let mut removed_any = false;
        for m in ms {
            let Mention::Menu(mi) = m else { continue };
            let matched = &an.matches[*mi];
            // Removing an option from a line that has it.
            if let Some((g, o)) = matched.targets.iter().find_map(|(t, _)| match t {
                Target::Option { group, option } => Some((*group, *option)),
                _ => None,
            }) && let Some(i) = (0..self.lines.len())
                .rev()
                .find(|&i| self.lines[i].mods.contains(&(g, o)))
                && crate::understand::item_kind(matched)
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
            .any(|m| matches!(m, Mention::Word(w) if matches!(w.as_str(), "that" | "it" | "eso" | "lo" | "last")));
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
