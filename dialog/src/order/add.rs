//! Add clauses: "two large pepperonis, one with mushrooms, and a Coke".
//!
//! Why its own module: this is where the order grammar lives (which line a number, a size or
//! an option said in passing belongs to), and where it will keep growing. Each binding rule is
//! one method, tried from the most specific reading of the words around a mention to the most
//! general, so a new rule has an obvious place and a name.

use kea_menu::matcher::{Match, MatchKind, MenuMatcher, Target};

use super::{Ack, Asking, Draft, Work};
use crate::portions::Mark;
use crate::understand::{Analysis, Mention, item_kind};

// Words that decide how a clause's mentions bind, compared with the tokenised transcript.

/// Before an item named after an option: "no onions on the carnitas".
const PREPOSITIONS: &[&str] = &[
    "on", "for", "in", "to", "en", "para", "a", "al", "from", "off",
];
/// Between a preposition (or a negation) and an item: "on the carnitas", "without the fries".
const DETERMINERS: &[&str] = &[
    "the", "my", "that", "those", "el", "la", "los", "las", "each", "both", "all",
];

/// Before an item, they make it a new line even when an option reading competes: "a", "some".
const ARTICLES: &[&str] = &["a", "an", "some", "another"];
/// Before an option, it goes on every line of the clause: "both with mushrooms".
const ALL_OF_THEM: &[&str] = &["both", "all", "each", "ambos", "ambas", "todos", "todas"];
/// Between an item and an option, the option is the item's flavour: "a two liter of Diet Coke".
const OF: &[&str] = &["of", "de", "with", "con"];
/// How drinks come, said between the drink and its flavour: "a two liter bottle of sprite".
const CONTAINERS: &[&str] = &[
    "bottle", "bottles", "can", "cans", "cup", "cups", "glass", "glasses", "jug", "botella",
    "botellas", "vaso", "vasos", "lata", "latas",
];
/// Between a number and an option, the option applies to that many: "one with an extra shot".
const OF_WITH: &[&str] = &["with", "con", "de", "of", "in"];
/// Before an item (perhaps with a determiner between), the caller does not want it: "no Coke".
const NEGATIONS: &[&str] = &["no", "without", "sin", "not"];

/// What an add clause has said that waits for its item (a number, a size, options said
/// before it), and the lines the clause has made so far.
#[derive(Default)]
struct Pending {
    qty: Option<u32>,
    size: Option<String>,
    /// Options said before their item, with what was said about each ("no onions").
    mods: Vec<((usize, usize), Option<Mark>)>,
    /// Indices of the lines this clause added, in order.
    lines: Vec<usize>,
    /// The category (and size) that "two large pizzas, one pepperoni and one cheese" gives each
    /// of its items.
    template: Option<(Vec<usize>, Option<String>)>,
}

/// The readings of one menu span, by kind.
struct Reading {
    options: Vec<(usize, usize)>,
    item: Option<(usize, MatchKind)>,
    category: Option<Vec<usize>>,
    size: Option<String>,
}

impl Reading {
    fn of(m: &Match) -> Self {
        Reading {
            options: m
                .targets
                .iter()
                .filter_map(|(t, _)| match t {
                    Target::Option { group, option } => Some((*group, *option)),
                    _ => None,
                })
                .collect(),
            item: item_kind(m),
            category: m.targets.iter().find_map(|(t, _)| match t {
                Target::Category(items) => Some(items.clone()),
                _ => None,
            }),
            size: m.targets.iter().find_map(|(t, _)| match t {
                Target::Size(s) => Some(s.clone()),
                _ => None,
            }),
        }
    }
}

/// What the clause says about each option it names ("extra", "no", "on the side"), read once
/// per clause by [`crate::portions::marks`].
pub(super) fn option_marks(ms: &[Mention], an: &Analysis) -> Vec<Option<Mark>> {
    let span_word = |k: usize| match &ms[k] {
        Mention::Menu(mi) => {
            let m = &an.matches[*mi];
            (m.end == m.start + 1).then(|| an.tokens[m.start].text.clone())
        }
        _ => None,
    };
    crate::portions::marks(
        ms,
        |k| {
            matches!(&ms[k], Mention::Menu(mi) if {
                let r = Reading::of(&an.matches[*mi]);
                !r.options.is_empty() && r.item.is_none_or(|(_, kind)| kind != MatchKind::Exact)
            })
        },
        &span_word,
    )
}

/// Before an item, they point at a line already ordered: "all of those pizzas".
const ANAPHORA: &[&str] = &[
    "those", "these", "them", "all", "both", "each", "esos", "esas", "estos", "estas", "todos",
    "todas",
];

/// Whether a span names an item or a category of them.
fn names_an_item(m: &Match) -> bool {
    item_kind(m).is_some()
        || m.targets
            .iter()
            .any(|(t, _)| matches!(t, Target::Category(_)))
}

/// Words joining options before their item: "a large mushroom and olive pizza".
const JOINING: &[&str] = &["and", "y"];

/// The item (or category) that the options and sizes from `k` on lead up to: "large mushroom
/// pizza". Joining words count only once a new phrase has begun, with an article or a number
/// since the last item ("a pizza and a large mushroom and olive pizza"); otherwise "a burrito
/// with chicken and nachos" would give the chicken to the nachos.
fn item_ahead<'m>(ms: &[Mention], k: usize, an: &'m Analysis) -> Option<&'m Match> {
    let is_item = names_an_item;
    let new_phrase = || {
        for m in ms[..k].iter().rev() {
            match m {
                Mention::Num(_) => return true,
                Mention::Word(w) if ARTICLES.contains(&w.as_str()) => return true,
                Mention::Menu(mi) if is_item(&an.matches[*mi]) => return false,
                _ => {}
            }
        }
        false
    };
    let mut joined = None;
    for m in &ms[k + 1..] {
        match m {
            Mention::Menu(mi) => {
                let matched = &an.matches[*mi];
                if is_item(matched) {
                    return Some(matched);
                }
            }
            Mention::Word(w) if JOINING.contains(&w.as_str()) => {
                if !*joined.get_or_insert_with(new_phrase) {
                    return None;
                }
            }
            _ => return None,
        }
    }
    None
}

/// Whether the mention at `k` is refused: "no Coke", "without the fries", "sin una Coca".
fn negated(ms: &[Mention], k: usize) -> bool {
    let before = k.checked_sub(1).map(|b| &ms[b]);
    matches!(before, Some(Mention::Word(w)) if NEGATIONS.contains(&w.as_str()))
        || (k >= 2
            && matches!(&ms[k - 1], Mention::Word(d) if DETERMINERS.contains(&d.as_str()) || matches!(d.as_str(), "a" | "an"))
            && matches!(&ms[k - 2], Mention::Word(w) if NEGATIONS.contains(&w.as_str())))
}

impl Work<'_> {
    /// Is there an item right after position `k` (only options and sizes between) that accepts
    /// one of `options`?
    fn forward_item(
        &self,
        ms: &[Mention],
        k: usize,
        an: &Analysis,
        options: &[(usize, usize)],
    ) -> bool {
        match item_ahead(ms, k, an) {
            Some(matched) => item_kind(matched)
                .is_none_or(|(item, _)| options.iter().any(|&(g, _)| self.accepts(item, g))),
            None => false,
        }
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

    /// An add clause ("two large pepperonis, one with mushrooms, and a Coke"): mentions are read
    /// left to right; numbers, sizes and options wait in [`Pending`] for the item they belong
    /// to, unless they clearly belong to a line already there.
    pub(super) fn add_clause(&mut self, ms: &[Mention], an: &Analysis) {
        let mut p = Pending::default();
        let marks = option_marks(ms, an);
        let mut k = 0;
        while k < ms.len() {
            self.mark = marks.get(k).copied().flatten();
            k += match &ms[k] {
                Mention::Num(n) => self.number_in_clause(ms, k, *n, an, &mut p),
                Mention::Word(_) => 1,
                Mention::Menu(mi) => self.menu_in_clause(ms, k, &an.matches[*mi], an, &mut p),
            };
        }
        self.mark = None;
        self.implied_item(&mut p);
    }

    /// "A medium root beer", "a large with ham and bacon": options and no item. When exactly
    /// one item on the menu takes them all, they mean that item; when several of one category
    /// do, kea asks which, keeping what was said ("Which pizza would you like?").
    fn implied_item(&mut self, p: &mut Pending) {
        if p.mods.is_empty() {
            return;
        }
        // "A large pizza with bacon": options after a category asked about go with it.
        if let Some(asking) = &self.clarify
            && asking
                .items
                .iter()
                .all(|&i| p.mods.iter().all(|((g, _), _)| self.accepts(i, *g)))
        {
            let mods: Vec<_> = p.mods.drain(..).collect();
            let strings = self.modifier_strings(&mods);
            if let Some(asking) = &mut self.clarify {
                asking.modifiers.extend(strings);
            }
            return;
        }
        let takes_all = |i: usize| {
            self.menu.items[i].available && p.mods.iter().all(|((g, _), _)| self.accepts(i, *g))
        };
        let candidates: Vec<usize> = (0..self.menu.items.len())
            .filter(|&i| takes_all(i))
            .collect();
        match candidates[..] {
            [] => {}
            [item] => self.add_item(item, MatchKind::Exact, 1.0, p),
            [first, ..] => {
                let category = &self.menu.items[first].category;
                let one_kind = candidates
                    .iter()
                    .all(|&i| self.menu.items[i].category == *category);
                if one_kind && self.clarify.is_none() {
                    self.ask_which(candidates, p);
                }
            }
        }
    }

    /// "Which of `items` would you like?", keeping the number, size and options said for it.
    fn ask_which(&mut self, items: Vec<usize>, p: &mut Pending) {
        let mods: Vec<_> = p.mods.drain(..).collect();
        self.clarify = Some(Asking {
            items,
            quantity: p.qty.take().unwrap_or(1).clamp(1, 999),
            size: p.size.take(),
            modifiers: self.modifier_strings(&mods),
        });
    }

    /// A number: it splits a line by option or size ("2 Jarritos, 1 mandarin and 1
    /// tamarind"), or waits for its item. Returns how many mentions it used.
    fn number_in_clause(
        &mut self,
        ms: &[Mention],
        k: usize,
        n: u32,
        an: &Analysis,
        p: &mut Pending,
    ) -> usize {
        // "A two topping pizza": a number before a word naming one of the menu's option groups
        // counts options, not items.
        if matches!(ms.get(k + 1), Some(Mention::Word(w)) if self.names_a_group(w))
            && matches!(ms.get(k + 2), Some(Mention::Menu(mi)) if names_an_item(&an.matches[*mi]))
        {
            return 2;
        }
        if let Some(skip) = self.split_by_option(ms, k, n, an, &p.lines) {
            return skip;
        }
        p.qty = Some(n);
        1
    }

    /// A menu span: a size, an option, an item or a category, bound to the right line. The
    /// checks go from the most specific reading of the words around it to the most general.
    /// Returns how many mentions it used.
    fn menu_in_clause(
        &mut self,
        ms: &[Mention],
        k: usize,
        m: &Match,
        an: &Analysis,
        p: &mut Pending,
    ) -> usize {
        let r = Reading::of(m);
        if r.item.is_none() && r.options.is_empty() && r.category.is_none() {
            if let Some(spoken) = r.size {
                self.size_mention(ms, k, an, spoken, &mut p.size, &p.lines);
            }
            return 1;
        }
        if !r.options.is_empty() {
            // "chicken quesadilla", "extra cheese pizza": options before the item they go on.
            if self.forward_item(ms, k, an, &r.options) {
                p.mods
                    .extend(r.options.iter().copied().take(1).map(|o| (o, self.mark)));
                return 1;
            }
            if let Some(skip) = self.option_on_named_line(ms, k, an, &r.options, &p.lines) {
                return skip;
            }
        }
        let backward = self.backward_line(&p.lines, &r.options);
        if self.option_for_all(ms, k, &r, &p.lines)
            || self.flavour_of_item_before(ms, k, an, &r.options, backward, &p.lines)
        {
            return 1;
        }
        let before = k.checked_sub(1).map(|b| &ms[b]);
        let article_before = matches!(before, Some(Mention::Num(_)))
            || matches!(before, Some(Mention::Word(w)) if ARTICLES.contains(&w.as_str()));
        let item_wins = match r.item {
            Some((_, MatchKind::Exact)) => true,
            Some(_) => article_before || r.options.is_empty() || backward.is_none(),
            None => false,
        };
        if let Some((item, kind)) = r.item.filter(|_| item_wins) {
            if negated(ms, k) && self.remove_negated(item, &mut p.lines) {
                return 1;
            }
            if self.refers_back(ms, k, item, p) {
                return 1;
            }
            // "A large cup of root beer and some onion rings": options waiting that this item
            // does not take meant an item of their own.
            if !p.mods.is_empty() && p.mods.iter().all(|((g, _), _)| !self.accepts(item, *g)) {
                self.implied_item(p);
            }
            self.add_item(item, kind, m.score, p);
        } else if !r.options.is_empty() {
            self.option_after_items(ms, k, an, &r.options, backward, p);
        } else if let Some(items) = r
            .category
            .map(|items| -> Vec<usize> {
                items
                    .into_iter()
                    .filter(|&i| self.menu.items[i].available)
                    .collect()
            })
            .filter(|items| !items.is_empty())
        {
            // "a pizza": which one? Unless it repeats the item just said ("a pepperoni pizza").
            let after_item = matches!(before, Some(Mention::Menu(b)) if item_kind(&an.matches[*b]).is_some_and(|(i, _)| items.contains(&i)));
            if !after_item {
                self.ask_which(items, p);
            }
        }
        1
    }

    /// "No onions on the carnitas": an option followed by a preposition and an item goes to
    /// that item's line. Returns how many mentions it used.
    fn option_on_named_line(
        &mut self,
        ms: &[Mention],
        k: usize,
        an: &Analysis,
        options: &[(usize, usize)],
        clause_lines: &[usize],
    ) -> Option<usize> {
        let (target, skip) = self.on_the(ms, k, an, options)?;
        if let Some(&opt) = options
            .iter()
            .find(|(g, _)| self.accepts(self.lines[target].item, *g))
        {
            self.put_mod(target, opt);
            if !clause_lines.contains(&target) {
                self.acks.push(Ack::Changed(self.lines[target].clone()));
            }
        }
        Some(skip)
    }

    /// "Both with mushrooms": after "both"/"all"/"each", an option (not an item named exactly)
    /// goes on every line of the clause that offers it. Whether it went anywhere.
    fn option_for_all(
        &mut self,
        ms: &[Mention],
        k: usize,
        r: &Reading,
        clause_lines: &[usize],
    ) -> bool {
        let all_of_them = (1..=2).any(|back| {
            k.checked_sub(back).is_some_and(
                |b| matches!(&ms[b], Mention::Word(w) if ALL_OF_THEM.contains(&w.as_str())),
            )
        });
        if !all_of_them
            || r.item.is_some_and(|(_, kind)| kind == MatchKind::Exact)
            || clause_lines.len() <= 1
        {
            return false;
        }
        let mut any = false;
        for &line in clause_lines {
            if let Some(&opt) = r
                .options
                .iter()
                .find(|(g, _)| self.accepts(self.lines[line].item, *g))
            {
                self.put_mod(line, opt);
                any = true;
            }
        }
        any
    }

    /// "A two liter coke", "a two liter of Diet Coke", "jarritos de tamarindo": an option right
    /// after an item that offers it (or after "of"/"de" and such an item) is that item's
    /// flavour, when the item is the clause's last line. Whether it was taken so.
    fn flavour_of_item_before(
        &mut self,
        ms: &[Mention],
        k: usize,
        an: &Analysis,
        options: &[(usize, usize)],
        backward: Option<(usize, (usize, usize))>,
        clause_lines: &[usize],
    ) -> bool {
        let offers = |b: usize| matches!(&ms[b], Mention::Menu(mi) if item_kind(&an.matches[*mi]).is_some_and(|(i, _)| options.iter().any(|(g, _)| self.accepts(i, *g))));
        let right_after = k >= 1 && offers(k - 1);
        if right_after
            && let Some((line, opt)) = backward.filter(|(l, (g, _))| {
                clause_lines.last() == Some(l) && !self.lines[*l].mods.iter().any(|(dg, _)| dg == g)
            })
        {
            self.put_mod(line, opt);
            return true;
        }
        // "a two liter bottle of sprite": container words may come between the item and "of".
        let of_previous = k >= 2
            && matches!(&ms[k - 1], Mention::Word(w) if OF.contains(&w.as_str()))
            && (k - 2..k - 1)
                .chain((0..k - 2).rev().take_while(
                    |&b| matches!(&ms[b + 1], Mention::Word(w) if CONTAINERS.contains(&w.as_str())),
                ))
                .any(offers);
        if of_previous
            && let Some((line, opt)) = backward.filter(|(l, _)| clause_lines.last() == Some(l))
        {
            self.put_mod(line, opt);
            return true;
        }
        false
    }

    /// "No Coke", "without the fries": the latest line of the item not added by this clause
    /// goes. Whether there was one.
    fn remove_negated(&mut self, item: usize, clause_lines: &mut [usize]) -> bool {
        let Some(i) = (0..self.lines.len())
            .rev()
            .find(|&i| self.lines[i].item == item && !clause_lines.contains(&i))
        else {
            return false;
        };
        let gone = self.lines.remove(i);
        self.fix_last_after_remove(i);
        for l in clause_lines.iter_mut() {
            if *l > i {
                *l -= 1;
            }
        }
        self.acks.push(Ack::Removed(gone));
        true
    }

    /// Whether `word` is the last word of a modifier group's name ("topping" for "Extra
    /// toppings"), in any of its languages.
    fn names_a_group(&self, word: &str) -> bool {
        let word = kea_menu::matcher::stem(word);
        self.menu.modifier_groups.iter().any(|g| {
            std::iter::once(&g.name)
                .chain(g.names.values())
                .any(|name| {
                    name.split_whitespace()
                        .last()
                        .is_some_and(|last| kea_menu::matcher::stem(&last.to_lowercase()) == word)
                })
        })
    }

    /// "Five pies … on all of those pizzas, mushrooms": an item after "those", "all of the",
    /// "both" names a line already there, not a new one; what waits for an item goes on it.
    /// Whether it did.
    fn refers_back(&mut self, ms: &[Mention], k: usize, item: usize, p: &mut Pending) -> bool {
        let pointed = ms[..k]
            .iter()
            .rev()
            .take_while(|m| matches!(m, Mention::Word(w) if ANAPHORA.contains(&w.as_str()) || matches!(w.as_str(), "of" | "the" | "de" | "los" | "las")))
            .any(|m| matches!(m, Mention::Word(w) if ANAPHORA.contains(&w.as_str())));
        if !pointed || p.qty.is_some() {
            return false;
        }
        let Some(line) = p
            .lines
            .iter()
            .rev()
            .copied()
            .chain(self.last)
            .chain((0..self.lines.len()).rev())
            .find(|&i| i < self.lines.len() && self.lines[i].item == item)
        else {
            return false;
        };
        if let Some(size) = p.size.take() {
            self.lines[line].size = MenuMatcher::resolve_size(self.menu, item, &size);
        }
        for (opt, mark) in std::mem::take(&mut p.mods) {
            if self.accepts(item, opt.0) {
                let _ = Self::mark_mod(&mut self.lines[line], self.menu, opt, mark);
            }
        }
        if !p.lines.contains(&line) {
            p.lines.push(line);
            self.acks.push(Ack::Changed(self.lines[line].clone()));
        }
        self.last = Some(line);
        true
    }

    /// An item: a new line with the number, size and options waiting for it.
    fn add_item(&mut self, item: usize, kind: MatchKind, score: f32, p: &mut Pending) {
        if !self.menu.items[item].available {
            let mods: Vec<_> = p.mods.drain(..).collect();
            let quantity = p.qty.take().unwrap_or(1);
            let size = p.size.take();
            self.offer_instead(item, quantity, size, &mods);
            return;
        }
        let fuzzy = kind == MatchKind::Fuzzy;
        let mut qty_said = p.qty.take();
        self.size_from_count(item, &mut qty_said, &mut p.size);
        let mut draft = Draft {
            item,
            quantity: qty_said.unwrap_or(1).clamp(1, 999),
            size: p.size.take(),
            mods: Vec::new(),
            portions: Vec::new(),
            refused: Vec::new(),
            certainty: if fuzzy { (score * 1000.0) as u16 } else { 1000 },
            held: fuzzy,
            id: 0,
        };
        let mut lost = Vec::new();
        for (opt, mark) in p.mods.drain(..) {
            if self.accepts(item, opt.0)
                && let Some(gone) = Self::mark_mod(&mut draft, self.menu, opt, mark)
            {
                lost.push((gone, opt));
            }
        }
        self.answer_category(&mut draft, qty_said, p);
        self.push_line(draft);
        if let Some(i) = self.last {
            p.lines.push(i);
            for (gone, kept) in lost {
                self.note_lost(i, gone, kept);
            }
        }
    }

    /// "Twelve wings", "a dozen wings": when every size of the item is a piece count, a number
    /// said before it names a size ("12 piece") rather than a quantity; "ten wings", between
    /// sizes, is a piece count too, and the size is asked.
    fn size_from_count(&self, item: usize, qty: &mut Option<u32>, size: &mut Option<String>) {
        let sizes = &self.menu.items[item].sizes;
        let counts: Vec<u32> = sizes
            .iter()
            .filter_map(|z| z.name.split_whitespace().next()?.parse().ok())
            .collect();
        if let Some(n) = *qty
            && size.is_none()
            && !counts.is_empty()
            && counts.len() == sizes.len()
        {
            if let Some(sized) = sizes
                .iter()
                .find(|z| z.name.split_whitespace().next() == Some(n.to_string().as_str()))
            {
                *size = Some(sized.name.clone());
                *qty = None;
            } else if counts.iter().min().is_some_and(|&min| n >= min) {
                *qty = None;
            }
        }
    }

    /// "A large pizza, pepperoni": an item of the category asked about answers it (with the
    /// category's quantity unless one was said); "two large pizzas, one pepperoni and one
    /// cheese" gives the category's size to each of its items.
    fn answer_category(&mut self, draft: &mut Draft, qty_said: Option<u32>, p: &mut Pending) {
        if let Some(asking) = self.clarify.take() {
            if asking.items.contains(&draft.item) {
                if qty_said.is_none() {
                    draft.quantity = asking.quantity;
                }
                self.put_modifier_strings(draft, &asking.modifiers);
                p.template = Some((asking.items, asking.size));
            } else {
                self.clarify = Some(asking);
            }
        }
        if let Some((items, tsize)) = &p.template
            && items.contains(&draft.item)
            && draft.size.is_none()
        {
            draft.size.clone_from(tsize);
        }
    }

    /// An option not before an item: it goes on the line it fits ([`Work::backward_line`]);
    /// after a number it may stand for an item ("tres tacos al pastor y dos de pollo"); else it
    /// waits for an item said later.
    fn option_after_items(
        &mut self,
        ms: &[Mention],
        k: usize,
        an: &Analysis,
        options: &[(usize, usize)],
        backward: Option<(usize, (usize, usize))>,
        p: &mut Pending,
    ) {
        if let Some((line, opt)) = backward {
            self.put_mod(line, opt);
            if !p.lines.contains(&line) {
                self.acks.push(Ack::Changed(self.lines[line].clone()));
                self.last = Some(line);
            }
        } else if let Some(item) = self.elliptic_item(ms, k, an, &p.lines) {
            // "cuatro tacos al pastor y dos de pollo": two chicken tacos.
            let draft = Draft {
                item,
                quantity: p.qty.take().unwrap_or(1).clamp(1, 999),
                size: p.size.take(),
                mods: Vec::new(),
                portions: Vec::new(),
                refused: Vec::new(),
                certainty: 1000,
                held: false,
                id: 0,
            };
            self.push_line(draft);
            if let Some(i) = self.last {
                p.lines.push(i);
            }
        } else {
            p.mods
                .extend(options.iter().copied().take(1).map(|o| (o, self.mark)));
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
        if matches!(&ms[p], Mention::Word(w) if OF.contains(&w.as_str())) {
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
        if matches!(ms.get(next), Some(Mention::Word(w)) if OF_WITH.contains(&w.as_str())) {
            next += 1;
        }
        let Some(Mention::Menu(mi)) = ms.get(next) else {
            return None;
        };
        let skip = next + 1 - k;
        let m = &an.matches[*mi];
        if item_kind(m).is_some_and(|(_, kind)| kind == MatchKind::Exact) && next == k + 1 {
            return None;
        }
        let r = Reading::of(m);
        // "… and one large sausage and bacon pizza": an item named later (before another
        // number) that takes this size or option is what the number counts, with its own size
        // and options — a new line, not a part of an earlier one.
        let takes = |item: usize| {
            r.options.iter().any(|(g, _)| self.accepts(item, *g))
                || r.size
                    .as_deref()
                    .is_some_and(|s| MenuMatcher::resolve_size(self.menu, item, s).is_some())
        };
        let item_follows = ms[next + 1..]
            .iter()
            .take_while(|m| !matches!(m, Mention::Num(_)))
            .filter_map(|m| match m {
                Mention::Menu(mi) => item_kind(&an.matches[*mi]),
                _ => None,
            })
            .any(|(item, kind)| kind == MatchKind::Exact && takes(item));
        if item_follows {
            return None;
        }
        let split = match r.size {
            // "2 pepperoni pizzas, 1 large and 1 small".
            Some(spoken) => self.split_by_size(n, &spoken, clause_lines),
            None => self.split_by_options(n, &r.options, clause_lines),
        };
        split.then_some(skip)
    }

    /// "2 pepperoni pizzas, 1 large and 1 small": `n` of the latest line of the clause without
    /// a size (of at least `n`) take size `spoken`. Whether one did.
    fn split_by_size(&mut self, n: u32, spoken: &str, clause_lines: &[usize]) -> bool {
        for &line in clause_lines.iter().rev() {
            let draft = &self.lines[line];
            if draft.size.is_some() || draft.quantity < n {
                continue;
            }
            let Some(resolved) = MenuMatcher::resolve_size(self.menu, draft.item, spoken) else {
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
            return true;
        }
        false
    }

    /// "2 Jarritos, 1 mandarin and 1 tamarind": `n` of the latest line of the clause that offers
    /// one of `options` (and has no choice in its group yet) take it. Whether one did.
    fn split_by_options(
        &mut self,
        n: u32,
        options: &[(usize, usize)],
        clause_lines: &[usize],
    ) -> bool {
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
            return true;
        }
        false
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
        if item_ahead(ms, k, an).is_some() {
            *size = Some(spoken);
            return;
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
}
