//! From entities to an order: the model's spans over a call's caller turns, resolved against the
//! store's menu with the same matcher the dialog uses, into the order they imply; and how that
//! order compares with the dialog's.
//!
//! The rules are the label conventions of [`crate::data`] read backwards: an option said before
//! an item belongs to it, one said after belongs to the item before it; a pre-posed portion or
//! refusal covers the options joined to it by "and"/"or" and ends at "with", "add", "plus",
//! "con" or an item; a correction cue makes the entities after it change the last line (or,
//! after "scratch"/"instead of", drop the item named). A size, quantity or option said with no
//! item in its turn answers the question kea asked: it goes to the last line that takes it.
//!
//! Pure: no model, no I/O. [`resolve`] runs on any spans, so it is tested without libtorch.

use std::collections::BTreeMap;

use kea_menu::matcher::{Match, MatchKind, MenuMatcher, Target, tokenize};
use kea_menu::{Menu, OrderLine, Portion, Store};
use serde::{Deserialize, Serialize};

use crate::data::{Span, label};

/// One caller turn and the entities found in it (byte offsets into `text`).
#[derive(Debug, Clone)]
pub struct TurnSpans<'a> {
    pub text: &'a str,
    pub spans: &'a [Span],
}

/// The order entities imply, in `kea nlu parse`'s shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NerOrder {
    pub items: Vec<NerLine>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// `pickup` or `delivery`.
    pub fulfillment: Option<String>,
}

/// One order line: sizes by their menu name, modifiers as store.md writes them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NerLine {
    pub sku: String,
    pub size: Option<String>,
    pub quantity: u32,
    pub modifiers: Vec<String>,
}

impl From<&OrderLine> for NerLine {
    fn from(line: &OrderLine) -> Self {
        NerLine {
            sku: line.sku.clone(),
            size: line.size.clone(),
            quantity: line.quantity,
            modifiers: line.modifiers.clone(),
        }
    }
}

/// A line while turns are read: the item (menu index), size, quantity, and options at their
/// portions, in the order said.
#[derive(Debug, Clone)]
struct Line {
    item: usize,
    size: Option<String>,
    quantity: u32,
    options: Vec<((usize, usize), Portion)>,
}

/// What a correction cue does to the entities after it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Correction {
    /// "make that", "no wait", "change": they change the last line.
    Change,
    /// "scratch", "cancel", "instead of": the item after it goes.
    Drop,
}

/// Correction cues that drop the item after them; any other cue changes the last line.
const DROPPING: &[&str] = &[
    "scratch",
    "cancel",
    "forget",
    "remove",
    "never mind",
    "nevermind",
    "take off",
    "instead of",
    "rather than",
    "cancele",
    "cancela",
    "quite",
    "quita",
    "quitale",
    "olvidese",
    "olvida",
    "ya no quiero",
    "en vez de",
    "en lugar de",
    "delete",
    "drop",
    "get rid of",
];
/// Cues that mark a revision without saying how ("actually", "mejor"): no effect alone.
const NEUTRAL: &[&str] = &["actually", "mejor", "oh", "wait", "sorry"];
/// Words between entities that end a pre-posed portion's or refusal's reach.
const REACH_ENDS: &[&str] = &["with", "add", "plus", "con", "but", "pero", "and add", "y"];
/// Before a determiner and an item, they point at a line already ordered ("on the carnitas").
const POINTING: &[&str] = &["on", "to", "for", "in", "en", "a", "para", "from", "off"];
const DEFINITE: &[&str] = &["the", "that", "those", "el", "la", "los", "las", "my"];
/// How a question about the menu starts: it orders nothing.
const MENU_QUESTIONS: &[&str] = &[
    "what kind",
    "what kinds",
    "what do you have",
    "do you have",
    "do you guys have",
    "what is on",
    "whats on",
    "what comes",
    "what goes",
    "how much",
    "what are the",
    "which",
    "que tienen",
    "tienen",
    "que lleva",
    "que trae",
    "cuanto",
    "cuales",
];

/// Whether the turn takes what was just discussed ("I'll take one", "yes please", "lo quiero").
fn takes_it(text: &str) -> bool {
    let words = normalise(text);
    [
        "take",
        "yes",
        "sure",
        "lo quiero",
        "si",
        "okay",
        "ok",
        "i will have",
    ]
    .iter()
    .any(|w| words.split(' ').any(|t| t == *w) || words.contains(w))
}

/// Whether the turn asks about the menu rather than ordering.
fn is_menu_question(text: &str) -> bool {
    let words = normalise(text);
    MENU_QUESTIONS
        .iter()
        .any(|q| words == *q || words.starts_with(&format!("{q} ")))
}

/// Post-posed portions: they apply to the options just before them.
const POST_POSED: &[&str] = &[
    "on the side",
    "separately",
    "aparte",
    "al lado",
    "a un lado",
    "por separado",
    "on side",
    "extra",
];

/// Reads every caller turn's spans in order and builds the order they imply.
#[must_use]
pub fn resolve(store: &Store, matcher: &MenuMatcher, turns: &[TurnSpans<'_>]) -> NerOrder {
    let mut r = Resolver {
        menu: &store.menu,
        matcher,
        lines: Vec::new(),
        order: NerOrder::default(),
        last: None,
        discussed: None,
    };
    for turn in turns {
        r.turn(turn);
    }
    let mut order = r.order.clone();
    order.items = r.lines.iter().filter_map(|l| r.to_line(l)).collect();
    order
}

struct Resolver<'a> {
    menu: &'a Menu,
    matcher: &'a MenuMatcher,
    lines: Vec<Line>,
    order: NerOrder,
    /// The line last added or changed.
    last: Option<usize>,
    /// What a menu question was about, for "I'll take one".
    discussed: Option<Line>,
}

/// What waits in a turn for the item it belongs to.
#[derive(Default)]
struct Pending {
    quantity: Option<u32>,
    size: Option<String>,
    /// Options said before their item, at their portions.
    options: Vec<((usize, usize), Portion, String)>,
    /// A pre-posed portion or refusal and whether it still reaches.
    portion: Option<Portion>,
    correction: Option<Correction>,
    /// The line "one with …" counts are split from.
    split_from: Option<usize>,
    /// Lines this turn added.
    added: Vec<usize>,
}

impl Resolver<'_> {
    fn turn(&mut self, turn: &TurnSpans<'_>) {
        // A question about the menu orders nothing ("what kind of pizzas do you have?"), but
        // what it asked about may be taken next ("how much is a large cheese? … I'll take one").
        if is_menu_question(turn.text) {
            let mut scratch = Resolver {
                menu: self.menu,
                matcher: self.matcher,
                lines: Vec::new(),
                order: NerOrder::default(),
                last: None,
                discussed: None,
            };
            scratch.apply(turn);
            self.discussed = scratch.lines.into_iter().next();
            return;
        }
        if let Some(mut line) = self.discussed.take()
            && !turn.spans.iter().any(|s| s.label == label::ITEM)
            && (takes_it(turn.text) || turn.spans.iter().any(|s| s.label == label::QUANTITY))
        {
            if let Some(n) = turn
                .spans
                .iter()
                .find(|s| s.label == label::QUANTITY)
                .and_then(|s| turn.text.get(s.start..s.end))
                .and_then(quantity_of)
            {
                line.quantity = n.clamp(1, 999);
            }
            self.lines.push(line);
            self.last = Some(self.lines.len() - 1);
            return;
        }
        self.apply(turn);
    }

    fn apply(&mut self, turn: &TurnSpans<'_>) {
        let text = turn.text;
        let spans: Vec<&Span> = turn
            .spans
            .iter()
            .filter(|s| {
                s.start < s.end
                    && s.end <= text.len()
                    && text.is_char_boundary(s.start)
                    && text.is_char_boundary(s.end)
            })
            .collect();
        let has_item = spans.iter().any(|s| s.label == label::ITEM);
        let mut p = Pending::default();
        for (k, span) in spans.iter().enumerate() {
            let said = &text[span.start..span.end];
            let before = k
                .checked_sub(1)
                .map_or(&text[..span.start], |b| &text[spans[b].end..span.start]);
            if words_in(before)
                .iter()
                .any(|w| REACH_ENDS.contains(&w.as_str()))
            {
                p.portion = None;
            }
            // "Extra cheese" read as a portion and an item: the store's option of that name.
            let cue_before = k
                .checked_sub(1)
                .filter(|&b| matches!(spans[b].label.as_str(), label::PORTION | label::NEGATION))
                .filter(|&b| {
                    text[spans[b].end..span.start]
                        .chars()
                        .all(char::is_whitespace)
                });
            if span.label == label::ITEM
                && let Some(b) = cue_before
                && !self
                    .option_readings(&text[spans[b].start..span.end], false)
                    .is_empty()
            {
                let item_before = p.added.last().copied();
                self.modifier(
                    text,
                    span,
                    Some(spans[b].start),
                    has_item,
                    item_before,
                    &mut p,
                );
                continue;
            }
            match span.label.as_str() {
                label::ITEM if self.refers_back(said, before, &mut p) => {}
                label::ITEM => self.item(said, &mut p),
                label::QUANTITY => self.quantity(said, &spans[k + 1..], &mut p),
                label::SIZE => self.size(said, &spans[k + 1..], &mut p),
                label::PORTION => {
                    let portion = portion_of(said);
                    let post = POST_POSED.contains(&normalise(said).as_str())
                        && !matches!(spans.get(k + 1), Some(n) if n.label == label::MODIFIER && words_in(&text[span.end..n.start]).iter().all(|w| matches!(w.as_str(), "the" | "of" | "la" | "el" | "de")));
                    if post {
                        self.post_portion(portion, &mut p);
                    } else {
                        p.portion = Some(portion);
                    }
                }
                label::NEGATION => p.portion = Some(Portion::No),
                label::MODIFIER => {
                    // A cue said right before may be part of the option's own name ("extra
                    // cheese", "no onions" in a store without portions).
                    let cue_start = k
                        .checked_sub(1)
                        .filter(|&b| {
                            matches!(spans[b].label.as_str(), label::PORTION | label::NEGATION)
                        })
                        .map(|b| spans[b].start);
                    let item_before = p.added.last().copied();
                    self.modifier(text, span, cue_start, has_item, item_before, &mut p);
                }
                label::CORRECTION => {
                    let cue = normalise(said);
                    if NEUTRAL.contains(&cue.as_str()) {
                        continue;
                    }
                    p.correction = Some(if DROPPING.contains(&cue.as_str()) {
                        Correction::Drop
                    } else {
                        Correction::Change
                    });
                }
                // "D A N A": a spelling repeats the name said before it.
                label::PERSON if !said.split_whitespace().all(|w| w.chars().count() == 1) => {
                    self.order.name = Some(said.trim().to_owned());
                }
                label::PHONE => {
                    if let Some(phone) = kea_dialog::parse_phone(said) {
                        self.order.phone = Some(phone);
                    }
                }
                label::ADDRESS => self.order.address = Some(said.trim().to_owned()),
                label::FULFILLMENT => {
                    self.order.fulfillment = Some(fulfillment_of(said).to_owned())
                }
                _ => {}
            }
        }
        // Said with no item: the options mean the one item that takes them all, or go on the
        // last line that takes them.
        let waiting = std::mem::take(&mut p.options);
        if !waiting.is_empty() {
            let candidates: Vec<usize> = (0..self.menu.items.len())
                .filter(|&i| waiting.iter().all(|((g, _), _, _)| self.accepts(i, *g)))
                .collect();
            if let ([item], true) = (
                candidates.as_slice(),
                p.quantity.is_some() || p.size.is_some(),
            ) {
                self.add_line(*item, &mut p);
                if let Some(i) = self.last {
                    for (opt, portion, _) in waiting {
                        put(self.menu, &mut self.lines[i], opt, portion);
                    }
                }
            } else {
                for (opt, portion, _) in waiting {
                    if let Some(i) = self.line_taking(opt.0) {
                        put(self.menu, &mut self.lines[i], opt, portion);
                    }
                }
            }
        }
        if let Some(size) = p.size.take() {
            self.size_on_a_line(&size);
        }
        if let (Some(n), Some(i)) = (p.quantity.take(), self.last)
            && p.added.is_empty()
        {
            // "Make it three", "three of those".
            self.lines[i].quantity = n.clamp(1, 999);
        }
    }

    fn item(&mut self, said: &str, p: &mut Pending) {
        let Some(item) = self.item_of(said, p) else {
            return;
        };
        match p.correction.take() {
            Some(Correction::Drop) => {
                if let Some(i) = self.lines.iter().rposition(|l| l.item == item) {
                    self.lines.remove(i);
                    p.added.retain(|&a| a != i);
                    for a in &mut p.added {
                        if *a > i {
                            *a -= 1;
                        }
                    }
                    self.last = self.lines.len().checked_sub(1);
                }
                p.options.clear();
            }
            Some(Correction::Change) if self.last.is_some() => {
                let Some(i) = self.last.filter(|&i| i < self.lines.len()) else {
                    return;
                };
                let line = &mut self.lines[i];
                if line.item != item {
                    line.item = item;
                    line.options.clear();
                }
                if let Some(n) = p.quantity.take() {
                    line.quantity = n.clamp(1, 999);
                }
                if let Some(size) = p.size.take() {
                    line.size =
                        MenuMatcher::resolve_size(self.menu, item, &size).or(line.size.take());
                }
                for (opt, portion, _) in std::mem::take(&mut p.options) {
                    if self.accepts(item, opt.0) {
                        put(self.menu, &mut self.lines[i], opt, portion);
                    }
                }
                p.added.push(i);
            }
            _ => self.add_line(item, p),
        }
    }

    /// "No onions on the carnitas": an item after "on the", "to the", "en los"… names a line
    /// already ordered; the options waiting go on it. Whether it did.
    fn refers_back(&mut self, said: &str, before: &str, p: &mut Pending) -> bool {
        let words = words_in(before);
        let pointing = words.len() >= 2
            && POINTING.contains(&words[words.len() - 2].as_str())
            && DEFINITE.contains(&words[words.len() - 1].as_str());
        if !pointing {
            return false;
        }
        let Some(item) = self.item_of(said, p) else {
            return false;
        };
        let Some(i) = self.lines.iter().rposition(|l| l.item == item) else {
            return false;
        };
        for (opt, portion, _) in std::mem::take(&mut p.options) {
            if self.accepts(item, opt.0) {
                put(self.menu, &mut self.lines[i], opt, portion);
            }
        }
        self.last = Some(i);
        true
    }

    /// The item a span names: an item reading first; a category narrowed by the options
    /// waiting, else its first item.
    fn item_of(&self, said: &str, p: &Pending) -> Option<usize> {
        let tokens = tokenize(said);
        let matches = self.matcher.find(&tokens);
        let best = best_covering(&matches)?;
        let mut category = None;
        for (target, _) in &best.targets {
            match target {
                Target::Item(i) => return Some(*i),
                Target::Category(items) if category.is_none() => category = Some(items.clone()),
                _ => {}
            }
        }
        let items = category?;
        items
            .iter()
            .copied()
            .find(|&i| p.options.iter().all(|((g, _), _, _)| self.accepts(i, *g)))
            .or_else(|| items.first().copied())
    }

    fn add_line(&mut self, item: usize, p: &mut Pending) {
        let mut size =
            p.size
                .take()
                .and_then(|s| match MenuMatcher::resolve_size(self.menu, item, &s) {
                    Some(resolved) => Some(resolved),
                    None => {
                        // "A pepperoni pizza, large, and a coke": the size was the line before's.
                        self.size_on_a_line(&s);
                        None
                    }
                });
        let mut quantity = p.quantity.take();
        // "Twelve wings": a count that names a size.
        if size.is_none()
            && let Some(n) = quantity
            && let Some(z) = self.menu.items[item]
                .sizes
                .iter()
                .find(|z| z.name.split_whitespace().next() == Some(n.to_string().as_str()))
        {
            size = Some(z.name.clone());
            quantity = None;
        }
        let mut line = Line {
            item,
            size,
            quantity: quantity.unwrap_or(1).clamp(1, 999),
            options: Vec::new(),
        };
        for (opt, portion, _) in std::mem::take(&mut p.options) {
            if self.accepts(item, opt.0) {
                put(self.menu, &mut line, opt, portion);
            }
        }
        self.lines.push(line);
        let i = self.lines.len() - 1;
        self.last = Some(i);
        p.added.push(i);
    }

    fn quantity(&mut self, said: &str, after: &[&Span], p: &mut Pending) {
        let Some(n) = quantity_of(said) else { return };
        // "Two pizzas, one with ham and one with onions": a count before options (no item)
        // splits that many off the line just ordered.
        let next_is_option = after.first().is_some_and(|s| {
            matches!(
                s.label.as_str(),
                label::MODIFIER | label::PORTION | label::NEGATION
            )
        });
        let item_follows = after
            .iter()
            .take_while(|s| s.label != label::QUANTITY)
            .any(|s| s.label == label::ITEM);
        if next_is_option && !item_follows {
            let origin = p.split_from.or(p.added.last().copied()).or(self.last);
            if let Some(i) = origin.filter(|&i| i < self.lines.len()) {
                if self.lines[i].quantity > n {
                    let mut split = self.lines[i].clone();
                    self.lines[i].quantity -= n;
                    split.quantity = n;
                    self.lines.push(split);
                    let j = self.lines.len() - 1;
                    self.last = Some(j);
                    p.added.push(j);
                    p.split_from = Some(i);
                    return;
                }
                if p.split_from == Some(i) && self.lines[i].quantity == n {
                    // "… and one with steak": the rest of the line.
                    self.last = Some(i);
                    p.added.push(i);
                    return;
                }
            }
        }
        if p.correction == Some(Correction::Change) && !item_follows {
            if let Some(i) = self.last {
                self.lines[i].quantity = n.clamp(1, 999);
            }
            return;
        }
        p.quantity = Some(n);
    }

    fn size(&mut self, said: &str, after: &[&Span], p: &mut Pending) {
        let item_follows = after
            .iter()
            .take_while(|s| !matches!(s.label.as_str(), label::QUANTITY | label::SIZE))
            .any(|s| s.label == label::ITEM);
        if item_follows {
            p.size = Some(said.to_owned());
        } else if let Some(i) =
            p.added.last().copied().or(self.last).filter(|&i| {
                MenuMatcher::resolve_size(self.menu, self.lines[i].item, said).is_some()
            })
        {
            self.lines[i].size = MenuMatcher::resolve_size(self.menu, self.lines[i].item, said);
        } else {
            p.size = Some(said.to_owned());
        }
    }

    /// A size said with no item for it: the last line that has sizes and none yet, else the
    /// last line it fits.
    fn size_on_a_line(&mut self, said: &str) {
        let fits = |l: &Line| MenuMatcher::resolve_size(self.menu, l.item, said);
        let target = self
            .lines
            .iter()
            .rposition(|l| l.size.is_none() && fits(l).is_some())
            .or_else(|| self.lines.iter().rposition(|l| fits(l).is_some()));
        if let Some(i) = target {
            self.lines[i].size = fits(&self.lines[i]);
            self.last = Some(i);
        }
    }

    /// "Ranch on the side": the options just before get the portion.
    fn post_portion(&mut self, portion: Portion, p: &mut Pending) {
        if let Some((_, at, _)) = p.options.last_mut() {
            *at = portion;
            return;
        }
        if let Some(i) = p.added.last().copied().or(self.last)
            && let Some(last) = self.lines[i].options.last_mut()
        {
            let opt = last.0;
            let option = &self.menu.modifier_groups[opt.0].options[opt.1];
            if option.portions.price(portion).is_some() {
                last.1 = portion;
            }
        }
    }

    fn modifier(
        &mut self,
        text: &str,
        span: &Span,
        cue_start: Option<usize>,
        has_item: bool,
        item_before: Option<usize>,
        p: &mut Pending,
    ) {
        let mut portion = p.portion.unwrap_or(Portion::Regular);
        // The cue and the option as one name first ("extra cheese", "no onions").
        let whole = cue_start.and_then(|start| {
            let readings = self.option_readings(&text[start..span.end], false);
            (!readings.is_empty()).then_some(readings)
        });
        let readings = match whole {
            Some(r) => {
                portion = Portion::Regular;
                p.portion = None;
                r
            }
            None => self.option_readings(&text[span.start..span.end], portion == Portion::No),
        };
        if readings.is_empty() {
            return;
        }
        // A refusal option ("no onions") refused is that option: "hold the onions".
        let readings: Vec<((usize, usize), Portion)> = readings
            .into_iter()
            .map(|(opt, refusal)| (opt, if refusal { Portion::Regular } else { portion }))
            .collect();
        if let Some(i) = item_before.filter(|&i| i < self.lines.len())
            && let Some(&(opt, at)) = readings
                .iter()
                .find(|((g, _), _)| self.accepts(self.lines[i].item, *g))
        {
            put(self.menu, &mut self.lines[i], opt, at);
            return;
        }
        if has_item && p.correction != Some(Correction::Change) {
            // Before its item ("a chicken burrito"): wait for it.
            if let Some(&(opt, at)) = readings.first() {
                p.options.push((opt, at, String::new()));
            }
            return;
        }
        let target = self.last.filter(|&i| i < self.lines.len()).and_then(|i| {
            readings
                .iter()
                .find(|((g, _), _)| self.accepts(self.lines[i].item, *g))
                .map(|r| (i, *r))
        });
        match target.or_else(|| {
            readings
                .iter()
                .find_map(|r| self.line_taking(r.0.0).map(|i| (i, *r)))
        }) {
            Some((i, (opt, at))) => put(self.menu, &mut self.lines[i], opt, at),
            None => {
                if let Some(&(opt, at)) = readings.first() {
                    p.options.push((opt, at, String::new()));
                }
            }
        }
    }

    /// The options a phrase names, with whether each is itself a refusal ("no onions") heard
    /// in its bare name; `refused` allows those bare-name readings.
    fn option_readings(&self, phrase: &str, refused: bool) -> Vec<((usize, usize), bool)> {
        let tokens = tokenize(phrase);
        let matches = self.matcher.find(&tokens);
        let Some(best) = best_covering(&matches).filter(|m| m.start == 0 && m.end == tokens.len())
        else {
            return Vec::new();
        };
        best.targets
            .iter()
            .filter_map(|(t, kind)| match t {
                Target::Option { group, option } if *kind != MatchKind::Refused => {
                    Some(((*group, *option), false))
                }
                Target::Option { group, option } if refused => Some(((*group, *option), true)),
                _ => None,
            })
            .collect()
    }

    fn line_taking(&self, group: usize) -> Option<usize> {
        self.last
            .into_iter()
            .chain((0..self.lines.len()).rev())
            .find(|&i| i < self.lines.len() && self.accepts(self.lines[i].item, group))
    }

    fn accepts(&self, item: usize, group: usize) -> bool {
        let id = &self.menu.modifier_groups[group].id;
        self.menu.items[item].modifier_groups.contains(id)
    }

    /// A line as store.md writes it: included options only when their portion changes, `no:`
    /// only for what the item comes with or what is offered in portions, portions only where
    /// the option lists them.
    fn to_line(&self, line: &Line) -> Option<NerLine> {
        let item = self.menu.items.get(line.item)?;
        let mut modifiers = Vec::new();
        for &((g, o), portion) in &line.options {
            let group = &self.menu.modifier_groups[g];
            let option = &group.options[o];
            let included = item.includes_option(&group.id, &option.sku);
            let portion = match portion {
                Portion::No if included || !option.portions.is_empty() => Portion::No,
                Portion::No => continue,
                Portion::Regular if included => continue,
                p if p == Portion::Regular || option.portions.price(p).is_some() => p,
                _ => Portion::Regular,
            };
            let m = portion.modifier(&option.sku);
            if !modifiers.contains(&m) {
                modifiers.push(m);
            }
        }
        Some(NerLine {
            sku: item.sku.clone(),
            size: line.size.clone().or_else(|| item.default_size.clone()),
            quantity: line.quantity,
            modifiers,
        })
    }
}

/// Puts an option on a line at a portion, once; a single-choice group keeps the latest.
fn put(menu: &Menu, line: &mut Line, opt: (usize, usize), portion: Portion) {
    let single = menu.modifier_groups[opt.0].max <= 1 && portion != Portion::No;
    line.options
        .retain(|((g, o), at)| (*g, *o) != opt && !(single && *g == opt.0 && *at != Portion::No));
    line.options.push((opt, portion));
}

/// The match covering the most words (the matcher's best reading of a span).
fn best_covering(matches: &[Match]) -> Option<&Match> {
    matches
        .iter()
        .max_by_key(|m| (m.end - m.start, std::cmp::Reverse(m.kind())))
}

fn normalise(text: &str) -> String {
    words_in(text).join(" ")
}

/// Lower-case words, accents folded as the matcher does.
fn words_in(text: &str) -> Vec<String> {
    tokenize(text).into_iter().map(|t| t.text).collect()
}

fn portion_of(said: &str) -> Portion {
    let words = normalise(said);
    let has = |w: &[&str]| {
        w.iter()
            .any(|x| words.split(' ').any(|t| t == *x) || words == *x)
    };
    if has(&["side", "separately", "aparte", "lado", "separado"]) {
        Portion::Side
    } else if has(&[
        "light", "lite", "little", "easy", "less", "poco", "poca", "pocos", "pocas", "poquito",
        "poquita", "too",
    ]) {
        Portion::Light
    } else {
        Portion::Extra
    }
}

/// A count: digits, number words (the tokenizer makes them digits), "a couple", "a dozen".
fn quantity_of(said: &str) -> Option<u32> {
    let words = normalise(said);
    if words.contains("dozen") || words.contains("docena") {
        return Some(if words.contains("half") || words.contains("media") {
            6
        } else {
            12
        });
    }
    if words.contains("couple") || words.contains("par") {
        return Some(2);
    }
    words
        .split(' ')
        .find_map(kea_menu::matcher::number_value)
        .filter(|&n| n > 0)
}

fn fulfillment_of(said: &str) -> &'static str {
    let words = normalise(said);
    if [
        "deliver",
        "delivery",
        "delivered",
        "domicilio",
        "entrega",
        "envio",
        "traigan",
        "lleven",
    ]
    .iter()
    .any(|w| words.contains(w))
    {
        "delivery"
    } else {
        "pickup"
    }
}

/// How the model's order compares with the dialog's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// Whether the two orders have the same lines (as a multiset).
    pub agrees: bool,
    /// Lines the dialog's order has and the model's does not.
    pub only_dialog: Vec<NerLine>,
    /// Lines the model's order has and the dialog's does not.
    pub only_model: Vec<NerLine>,
    /// Share of the dialog's units the model's order has too, 0..1.
    pub confidence: f32,
}

/// Compares the dialog's lines with the model's: lines as a multiset of (sku, size, quantity,
/// sorted modifiers), a missing size read as the item's default.
#[must_use]
pub fn compare(menu: &Menu, dialog: &[NerLine], model: &[NerLine]) -> Agreement {
    let key = |l: &NerLine| {
        let mut l = l.clone();
        l.modifiers.sort();
        if l.size.is_none() {
            l.size = menu
                .items
                .iter()
                .find(|i| i.sku == l.sku)
                .and_then(|i| i.default_size.clone());
        }
        l
    };
    let mut remaining: BTreeMap<NerLine, u32> = BTreeMap::new();
    for l in model {
        *remaining.entry(key(l)).or_default() += 1;
    }
    let mut only_dialog = Vec::new();
    let mut matched_units = 0u32;
    let mut total_units = 0u32;
    for l in dialog {
        let k = key(l);
        total_units += k.quantity;
        match remaining.get_mut(&k) {
            Some(n) if *n > 0 => {
                *n -= 1;
                matched_units += k.quantity;
            }
            _ => only_dialog.push(k),
        }
    }
    let only_model: Vec<NerLine> = remaining
        .into_iter()
        .flat_map(|(l, n)| std::iter::repeat_n(l, n as usize))
        .collect();
    let extra_units: u32 = only_model.iter().map(|l| l.quantity).sum();
    let confidence = if total_units + extra_units == 0 {
        1.0
    } else {
        matched_units as f32 / (total_units + extra_units) as f32
    };
    Agreement {
        agrees: only_dialog.is_empty() && only_model.is_empty(),
        only_dialog,
        only_model,
        confidence,
    }
}

#[cfg(test)]
mod tests;
