//! Applying what the caller said to the order being built.
//!
//! [`Work`] holds the order lines of a call as [`Draft`]s (menu indices rather than skus) for
//! the length of one turn. [`Work::apply`] splits an utterance into clauses (add, "make that…",
//! "change X to Y", "scratch X", "X instead of Y") and binds each clause's quantities, sizes and
//! options to the right item: options said before an item bind forward when nothing separates
//! them ("chicken quesadilla"), otherwise to the nearest item that offers them ("a burrito with
//! guac"), or to the item named after "on the" ("no onions on the carnitas").
//!
//! This module holds the order's types and the clause splitting; `add` holds the grammar of add
//! clauses (which line a number, a size or an option belongs to) and `edit` the edits of lines
//! already there ("make that…", "change…", "scratch…").

mod add;
mod edit;

use kea_menu::matcher::{MenuMatcher, Target};
use kea_menu::{Menu, Portion};
use serde::{Deserialize, Serialize};

use crate::portions::Mark;
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
    /// Options said with it, as order-line modifiers ("bacon", "extra:cheese"): "a large with
    /// bacon" keeps the bacon while kea asks which pizza.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modifiers: Vec<String>,
}

/// "Which pizza?" while a turn is worked on: the candidates (menu indices) and what was said
/// with them; [`Clarify`] in the state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Asking {
    pub items: Vec<usize>,
    pub quantity: u32,
    pub size: Option<String>,
    pub modifiers: Vec<String>,
}

/// A line while a turn is worked on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    pub item: usize,
    pub quantity: u32,
    pub size: Option<String>,
    pub mods: Vec<(usize, usize)>,
    /// The portion of each option of `mods` said at other than regular ("extra cheese").
    pub portions: Vec<((usize, usize), Portion)>,
    /// Options the caller refused ("no onions"), kept as kitchen instructions.
    pub refused: Vec<(usize, usize)>,
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
    /// An item the store has run out of (by menu index): asked for, or on the order when it ran
    /// out mid-call.
    SoldOut(usize),
}

/// The order of one call, while one turn is applied to it.
pub(crate) struct Work<'a> {
    pub menu: &'a Menu,
    pub lines: Vec<Draft>,
    pub last: Option<usize>,
    pub acks: Vec<Ack>,
    pub clarify: Option<Asking>,
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
    /// What the caller said about the option being put on a line ("extra", "no"), read by
    /// [`crate::portions::marks`]; `None` for a plain option. On any menu a refusal keeps the
    /// option off; only options offered in portions, or that the item comes with, are kept as
    /// `no:` or at a portion.
    pub(crate) mark: Option<Mark>,
    /// The menu has portions or items that come with options (store.md): items implied by their
    /// options, and removals that name options, read the new way. A menu without either keeps
    /// the older readings.
    pub(crate) portions_on: bool,
    next_id: u32,
}

impl Draft {
    /// The portion option `opt` is at on this line (regular when not said otherwise).
    pub(crate) fn portion_of(&self, opt: (usize, usize)) -> Portion {
        self.portions
            .iter()
            .find(|(o, _)| *o == opt)
            .map_or(Portion::Regular, |(_, p)| *p)
    }

    /// The same options at the same portions, and the same refusals, in any order.
    fn same_options(&self, other: &Draft) -> bool {
        let sorted = |v: &[(usize, usize)]| {
            let mut v = v.to_vec();
            v.sort_unstable();
            v
        };
        let mut a = self.portions.clone();
        let mut b = other.portions.clone();
        a.sort_unstable_by_key(|(o, _)| *o);
        b.sort_unstable_by_key(|(o, _)| *o);
        sorted(&self.mods) == sorted(&other.mods)
            && a == b
            && sorted(&self.refused) == sorted(&other.refused)
    }
}

/// First words of an option that is a refusal in itself ("no onions", "sin cebolla").
const REFUSAL_OPTION_WORDS: &[&str] = &["no", "without", "sin", "hold"];

/// With only a number, the quantity of the last line: "I'll need three of those".
const THOSE: &[&str] = &["those", "them", "these", "esos", "esas", "total"];

/// What a clause does to the order; decided by the marker phrase that starts it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ClauseKind {
    Add,
    MakeThat,
    Change,
    Remove,
    InsteadOf,
}

/// Phrases (of plain words, outside menu names) that start a clause, and its kind. Order
/// matters: the first phrase that matches at a position wins, so longer phrases come before
/// their prefixes ("mejor que sea" before "mejor", "change that to" before "change").
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
            mark: None,
            portions_on: menu.uses_portions(),
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

    /// Takes off the lines whose item ran out since it was ordered (the merchant marked it
    /// unavailable): the caller is told and offered another of its kind, never left with it
    /// silently gone. Run once per turn, on the turn's own order.
    pub(crate) fn take_off_sold_out(&mut self) {
        let mut i = 0;
        while i < self.lines.len() {
            if self.menu.items[self.lines[i].item].available {
                i += 1;
                continue;
            }
            let gone = self.lines.remove(i);
            self.fix_last_after_remove(i);
            let mods: Vec<_> = gone.mods.iter().map(|&o| (o, None)).collect();
            self.offer_instead(gone.item, gone.quantity, gone.size.clone(), &mods);
        }
    }

    /// Item `item` is sold out: say so, and ask which of the available items of its category
    /// (that take the options said) the caller would like instead, keeping what was said.
    pub(crate) fn offer_instead(
        &mut self,
        item: usize,
        quantity: u32,
        size: Option<String>,
        mods: &[((usize, usize), Option<Mark>)],
    ) {
        self.acks.push(Ack::SoldOut(item));
        let category = &self.menu.items[item].category;
        let instead: Vec<usize> = (0..self.menu.items.len())
            .filter(|&i| {
                let it = &self.menu.items[i];
                i != item
                    && it.available
                    && it.category == *category
                    && mods.iter().all(|((g, _), _)| self.accepts(i, *g))
            })
            .collect();
        if !instead.is_empty() && self.clarify.is_none() {
            self.clarify = Some(Asking {
                items: instead,
                quantity: quantity.clamp(1, 999),
                size,
                modifiers: self.modifier_strings(mods),
            });
        }
    }

    fn draft_of(&self, line: &Line, held: bool) -> Option<Draft> {
        let item = self.menu.items.iter().position(|i| i.sku == line.sku)?;
        let mut mods = Vec::new();
        let mut portions = Vec::new();
        let mut refused = Vec::new();
        for modifier in &line.modifiers {
            let (portion, sku) = Portion::parse_modifier(modifier);
            let Some(opt) = self.option_of(item, sku) else {
                continue;
            };
            match portion {
                Portion::No => refused.push(opt),
                Portion::Regular => mods.push(opt),
                other => {
                    mods.push(opt);
                    portions.push((opt, other));
                }
            }
        }
        Some(Draft {
            item,
            quantity: line.quantity.max(1),
            size: line.size.clone(),
            mods,
            portions,
            refused,
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

    /// Options said for an item not yet named, as order-line modifiers for [`Clarify`].
    pub(crate) fn modifier_strings(&self, mods: &[((usize, usize), Option<Mark>)]) -> Vec<String> {
        mods.iter()
            .filter_map(|&(opt, mark)| match mark {
                Some(Mark::NotThat) => None,
                Some(Mark::At(portion)) => Some(portion.modifier(&self.option_sku(opt))),
                None => Some(self.option_sku(opt)),
            })
            .collect()
    }

    /// Puts options kept as modifiers ([`Clarify::modifiers`]) on a line of the item chosen.
    pub(crate) fn put_modifier_strings(&self, draft: &mut Draft, modifiers: &[String]) {
        for modifier in modifiers {
            let (portion, sku) = Portion::parse_modifier(modifier);
            if let Some(opt) = self.option_of(draft.item, sku) {
                let _ = Self::mark_mod(draft, self.menu, opt, Some(Mark::At(portion)));
            }
        }
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
                .filter_map(|&opt| {
                    let portion = draft.portion_of(opt);
                    // What the item comes with is on the line unless its portion changes.
                    (portion != Portion::Regular || !self.includes(draft.item, opt))
                        .then(|| portion.modifier(&self.option_sku(opt)))
                })
                .chain(
                    draft
                        .refused
                        .iter()
                        .map(|&opt| Portion::No.modifier(&self.option_sku(opt))),
                )
                .collect(),
            certainty: draft.certainty,
        }
    }

    fn option_sku(&self, (g, o): (usize, usize)) -> String {
        self.menu.modifier_groups[g].options[o].sku.clone()
    }

    /// Whether item `item` comes with option `opt` (its `includes`).
    pub(crate) fn includes(&self, item: usize, (g, o): (usize, usize)) -> bool {
        let group = &self.menu.modifier_groups[g];
        self.menu.items[item].includes_option(&group.id, &group.options[o].sku)
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
        if let Some(gone) = Self::mark_mod(&mut self.lines[line], self.menu, opt, self.mark) {
            self.note_lost(line, gone, opt);
        }
    }

    /// [`Work::add_mod`], at the portion `mark` says (store.md, "Portions"): a refusal takes the
    /// option off and keeps `no:` as a kitchen instruction for what the item comes with or what
    /// is offered in portions (refusing a plain choice, "not thin crust", adds nothing); "no
    /// extra X" takes back only the extra; a portion the option is not offered in is regular.
    pub(crate) fn mark_mod(
        draft: &mut Draft,
        menu: &Menu,
        opt: (usize, usize),
        mark: Option<Mark>,
    ) -> Option<(usize, usize)> {
        let group = &menu.modifier_groups[opt.0];
        let option = &group.options[opt.1];
        let included = menu.items[draft.item].includes_option(&group.id, &option.sku);
        // An option that is itself a refusal ("no onions" in a store without portions): "hold
        // the onions" asks for it.
        let refusal_option = option
            .name
            .split_whitespace()
            .next()
            .is_some_and(|w| REFUSAL_OPTION_WORDS.contains(&w.to_lowercase().as_str()));
        let mark = match mark {
            Some(Mark::At(Portion::No)) if refusal_option => None,
            other => other,
        };
        match mark {
            Some(Mark::At(Portion::No)) => {
                draft.mods.retain(|m| *m != opt);
                draft.portions.retain(|(m, _)| *m != opt);
                if (included || !option.portions.is_empty()) && !draft.refused.contains(&opt) {
                    draft.refused.push(opt);
                }
                None
            }
            Some(Mark::NotThat) => {
                draft.portions.retain(|(m, _)| *m != opt);
                None
            }
            Some(Mark::At(portion)) if portion != Portion::Regular => {
                draft.refused.retain(|m| *m != opt);
                let lost = Self::add_mod(draft, menu, opt);
                draft.portions.retain(|(m, _)| *m != opt);
                if option.portions.price(portion).is_some() && draft.mods.contains(&opt) {
                    draft.portions.push((opt, portion));
                }
                lost
            }
            _ => {
                draft.refused.retain(|m| *m != opt);
                Self::add_mod(draft, menu, opt)
            }
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
        let word = |j: usize| match &ms[j] {
            Mention::Word(t) => Some(t.as_str()),
            _ => None,
        };
        let mut k = 0;
        while k < ms.len() {
            let found = MARKERS.iter().find_map(|(phrase, kind)| {
                crate::phrase::at(ms.len(), k, phrase, word).map(|len| (len, *kind))
            });
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
                    && ms
                        .iter()
                        .any(|m| matches!(m, Mention::Word(w) if THOSE.contains(&w.as_str()))) =>
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
                // "Large sausage, no wait, a large cheese pizza with sausage": nothing to
                // correct yet, so the correction is the order.
                if named.is_none() && (self.lines.is_empty() || self.last.is_none() && removed) {
                    // "scratch the hawaiian, make it a margherita instead": a new line.
                    self.add_clause(ms, an);
                } else if let Some(target) = named.or(self.last).or(self.lines.len().checked_sub(1))
                {
                    self.modify(target, ms, an);
                }
            }
            ClauseKind::Change => self.change_clause(ms, an),
            ClauseKind::Remove if self.refuse_options(ms, an) => {}
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
            // The draft's options are already read: put them on as they are.
            let mark = self.mark.take();
            for opt in draft.mods {
                self.put_mod(i, opt);
            }
            self.mark = mark;
            for (opt, portion) in draft.portions {
                let line = &mut self.lines[i];
                line.portions.retain(|(o, _)| *o != opt);
                line.portions.push((opt, portion));
            }
            for opt in draft.refused {
                let line = &mut self.lines[i];
                line.mods.retain(|o| *o != opt);
                if !line.refused.contains(&opt) {
                    line.refused.push(opt);
                }
            }
            self.acks.push(Ack::Changed(self.lines[i].clone()));
            self.last = Some(i);
            return;
        }
        let same = self.lines.iter().position(|l| {
            l.item == draft.item
                && l.size == draft.size
                && l.held == draft.held
                && l.same_options(&draft)
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
}
