//! The utterance generator: plans what a caller orders from the menu (items, counts, sizes,
//! options at portions), then says it the way callers do, in one of several kinds of turn.

use kea_menu::{Portion, Store};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use super::label::{
    ADDRESS, CORRECTION, FULFILLMENT, ITEM, MODIFIER, NEGATION, PERSON, PHONE, PORTION, QUANTITY,
    SIZE,
};
use super::lexicon::{
    Container, Cue, ItemLex, Lexicon, NameForm, OptionLex, feminine, looks_plural, plural_en,
    plural_es_word,
};
use super::utterance::{Piece, Style, Utterance};
use super::{Example, numbers, slips, vocab};

/// How much to generate and how it should sound.
#[derive(Debug, Clone, PartialEq)]
pub struct GenSettings {
    /// Seed of the random generator: the same seed, store and settings give the same examples.
    /// It is mixed with the store's id, so stores generated with one seed do not share choices.
    pub seed: u64,
    /// How many examples to generate for the store.
    pub count: usize,
    /// Share of utterances in Spanish (0 to 1). Callers speak Spanish to stores whatever
    /// languages the store lists; a store's Spanish `names` are used when it has them, else the
    /// English names as Spanish speakers say them.
    pub spanish_share: f32,
    /// Share of transcripts in raw recogniser style: lower-case, no punctuation, often no
    /// apostrophes. The rest are cased and punctuated, as some recognisers deliver them.
    pub asr_share: f32,
    /// Chance that an item, size or option name is heard wrong (homophones, split or merged
    /// words, dropped plurals, sound-alike spellings).
    pub slip_rate: f32,
}

impl Default for GenSettings {
    fn default() -> Self {
        GenSettings {
            seed: 12,
            count: 2000,
            spanish_share: 0.25,
            asr_share: 0.45,
            slip_rate: 0.05,
        }
    }
}

/// The language of an utterance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Es,
}

impl Lang {
    fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }
}

/// `settings.count` labelled utterances for `store`; see the [module docs](super) for what they
/// contain and how they are labelled. Deterministic for a store and settings.
///
/// # Example
///
/// Twenty examples, printed the way [`Example`]'s `Display` shows them, spans in brackets:
///
/// ```
/// use kea_ner::data::{GenSettings, generate};
///
/// let json = include_str!(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/../../tests/fixtures/stores/tonys-pizza.json"
/// ));
/// let store = kea_menu::Store::parse(json)?;
/// let settings = GenSettings { seed: 7, count: 20, ..GenSettings::default() };
/// let examples = generate(&store, &settings);
/// for example in &examples {
///     // "en [two|QUANTITY] [large|SIZE] [pepperoni pizzas|ITEM] with [extra|PORTION] ..."
///     println!("{} {example}", example.lang);
/// }
/// assert_eq!(examples.len(), 20);
/// assert_eq!(examples, generate(&store, &settings));
/// # Ok::<(), kea_menu::StoreFileError>(())
/// ```
#[must_use]
pub fn generate(store: &Store, settings: &GenSettings) -> Vec<Example> {
    generate_traced(store, settings)
        .into_iter()
        .map(|(example, _)| example)
        .collect()
}

/// [`generate`], with each example's ITEM spans paired with the menu item they mean (by index
/// into `spans` and into `menu.items`), so tests can check the matcher finds that item.
pub(crate) fn generate_traced(
    store: &Store,
    settings: &GenSettings,
) -> Vec<(Example, Vec<(usize, usize)>)> {
    let lexicon = Lexicon::new(store);
    let mut generator = Generator {
        rng: StdRng::seed_from_u64(settings.seed ^ fnv1a(store.id.as_bytes())),
        lex: &lexicon,
        settings,
        lang: Lang::En,
        lower_names: true,
        article: false,
    };
    (0..settings.count).map(|_| generator.example()).collect()
}

/// A stable hash of the store id (the standard library's hasher may change between releases,
/// which would change every generated example).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One line of an order as planned: what, how many, which size, which options at which portion.
#[derive(Debug, Clone)]
struct Line {
    /// Index into [`Lexicon::items`].
    item: usize,
    quantity: u32,
    /// Index into the item's sizes.
    size: Option<usize>,
    /// Options said before the item ("a *chicken* burrito"), at regular portion.
    before: Vec<usize>,
    /// Options said after the item, grouped by portion.
    after: Vec<Cluster>,
    /// The item is understood, not named: "and a medium with mushrooms".
    implied: bool,
}

/// Options said together at one portion: "no onions or peppers".
#[derive(Debug, Clone)]
struct Cluster {
    portion: Portion,
    /// Indices into [`Lexicon::options`].
    options: Vec<usize>,
}

struct Generator<'a> {
    rng: StdRng,
    lex: &'a Lexicon,
    settings: &'a GenSettings,
    lang: Lang,
    /// Menu names said in lower case (as most recognisers write them) rather than as the menu
    /// writes them, for this utterance.
    lower_names: bool,
    /// An English "a"/"an" waits for the next word, which decides which.
    article: bool,
}

impl<'a> Generator<'a> {
    fn example(&mut self) -> (Example, Vec<(usize, usize)>) {
        self.lang = if self.rng.random::<f32>() < self.settings.spanish_share {
            Lang::Es
        } else {
            Lang::En
        };
        let asr = self.rng.random::<f32>() < self.settings.asr_share;
        let style = if asr {
            Style {
                lowercase: true,
                punctuation: false,
                apostrophes: self.chance(0.5),
            }
        } else {
            match self.rng.random_range(0..20) {
                0..14 => Style {
                    lowercase: false,
                    punctuation: true,
                    apostrophes: true,
                },
                14..17 => Style {
                    lowercase: true,
                    punctuation: true,
                    apostrophes: true,
                },
                _ => Style {
                    lowercase: false,
                    punctuation: false,
                    apostrophes: true,
                },
            }
        };
        self.lower_names = self.chance(0.6);
        self.article = false;
        let mut u = Utterance::default();
        self.turn(&mut u);
        if u.is_empty() {
            self.no_entity_turn(&mut u);
        }
        self.disfluencies(&mut u);
        let rendered = u.render(style);
        let example = Example {
            text: rendered.text,
            lang: self.lang.code().to_owned(),
            spans: rendered.spans,
            store: self.lex.store_id.clone(),
        };
        (example, rendered.items)
    }

    fn turn(&mut self, u: &mut Utterance) {
        if self.lex.items.is_empty() {
            return self.info_turn(u);
        }
        match self.rng.random_range(0..100) {
            0..44 => self.order_turn(u),
            44..55 => self.follow_up_turn(u),
            55..65 => self.correction_turn(u),
            65..77 => self.info_turn(u),
            77..87 => self.answer_turn(u),
            87..94 => self.question_turn(u),
            _ => self.no_entity_turn(u),
        }
    }

    // ---- small helpers ----

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    fn pick(&mut self, list: &[&'static str]) -> &'static str {
        list.choose(&mut self.rng).copied().unwrap_or("")
    }

    fn en(&self) -> bool {
        self.lang == Lang::En
    }

    /// The English or the Spanish list.
    fn pick_lang(&mut self, en: &[&'static str], es: &[&'static str]) -> &'static str {
        if self.en() {
            self.pick(en)
        } else {
            self.pick(es)
        }
    }

    /// Plain words, preceded by a waiting English article.
    fn say(&mut self, u: &mut Utterance, text: &str) {
        self.flush_article(u, text);
        u.say(text);
    }

    /// An entity, preceded by a waiting English article.
    fn entity(&mut self, u: &mut Utterance, label: &'static str, text: &str) {
        self.flush_article(u, text);
        u.entity(label, text);
    }

    fn flush_article(&mut self, u: &mut Utterance, next: &str) {
        if std::mem::take(&mut self.article) {
            u.say(if starts_with_vowel_sound(next) {
                "an"
            } else {
                "a"
            });
        }
    }

    /// Renders a cue template: words in braces get `label`, the rest are plain.
    fn cue(&mut self, u: &mut Utterance, template: &str, label: &'static str) {
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let before = &rest[..open];
            self.say_with_marks(u, before);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                break;
            };
            self.entity(u, label, &after[..close]);
            rest = &after[close + 1..];
        }
        self.say_with_marks(u, rest);
    }

    /// Plain words whose leading or trailing commas become glued marks.
    fn say_with_marks(&mut self, u: &mut Utterance, text: &str) {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix(',') {
            u.mark(",");
            self.say_with_marks(u, rest);
            return;
        }
        match text.strip_suffix(',') {
            Some(rest) => {
                self.say(u, rest);
                u.mark(",");
            }
            None => self.say(u, text),
        }
    }

    /// A phrase from a list, where a leading ". " or ", " is a mark ("and", ". And").
    fn join(&mut self, u: &mut Utterance, joiner: &str) {
        if let Some(rest) = joiner.strip_prefix(". ") {
            u.mark(".");
            self.say_with_marks(u, rest);
        } else {
            self.say_with_marks(u, joiner);
        }
    }

    fn filler(&mut self, u: &mut Utterance) {
        let filler = self.pick_lang(vocab::EN_FILLERS, vocab::ES_FILLERS);
        u.say(filler);
        if self.chance(0.5) {
            u.mark(",");
        }
    }

    /// A menu name as this utterance says it: in lower case or as written, sometimes misheard.
    fn name(&mut self, text: &str) -> String {
        let slip = self.rng.random::<f32>() < self.settings.slip_rate;
        if slip && let Some(slipped) = slips::slip(&mut self.rng, text) {
            return slipped;
        }
        if self.lower_names {
            text.to_lowercase()
        } else {
            text.to_owned()
        }
    }

    fn end_sentence(&mut self, u: &mut Utterance) {
        let mark = if self.chance(0.9) { "." } else { "!" };
        u.mark(mark);
    }

    // ---- planning ----

    fn plan_line(&mut self, item: usize) -> Line {
        let lex = self.lex;
        let item_lex = &lex.items[item];
        let quantity = self.quantity();
        let size = (!item_lex.sizes.is_empty() && self.chance(0.75))
            .then(|| self.rng.random_range(0..item_lex.sizes.len()));
        let mut used: Vec<usize> = Vec::new();
        let mut before = Vec::new();
        if self.chance(0.2) {
            let candidates: Vec<usize> = self
                .item_options(item_lex)
                .into_iter()
                .filter(|&o| self.fits_before(item_lex, &lex.options[o]))
                .collect();
            let n = if self.chance(0.2) { 2 } else { 1 };
            for _ in 0..n {
                if let Some(&o) = candidates.choose(&mut self.rng)
                    && !used.contains(&o)
                    && !self.group_taken(&used, o)
                {
                    used.push(o);
                    before.push(o);
                }
            }
        }
        let clusters = match self.rng.random_range(0..100) {
            0..42 => 0,
            42..73 => 1,
            73..91 => 2,
            _ => 3,
        };
        let mut after: Vec<Cluster> = Vec::new();
        for _ in 0..clusters {
            if let Some(cluster) = self.plan_cluster(item_lex, &mut used) {
                match after.iter_mut().find(|c| c.portion == cluster.portion) {
                    Some(same) => same.options.extend(cluster.options),
                    None => after.push(cluster),
                }
            }
        }
        Line {
            item,
            quantity,
            size,
            before,
            after,
            implied: false,
        }
    }

    fn quantity(&mut self) -> u32 {
        match self.rng.random_range(0..100) {
            0..60 => 1,
            60..78 => 2,
            78..86 => 3,
            86..93 => self.rng.random_range(4..7),
            93..95 => 12,
            _ => self.rng.random_range(5..21),
        }
    }

    /// The options of the item's own groups.
    fn item_options(&self, item: &ItemLex) -> Vec<usize> {
        item.groups
            .iter()
            .flat_map(|&g| self.lex.groups[g].options.iter().copied())
            .collect()
    }

    /// Options said before an item: flavours, proteins, crusts, and toppings of items that come
    /// plain ("a mushroom pizza", not "a lettuce burger"); short, and with no cue in the name.
    fn fits_before(&self, item: &ItemLex, option: &OptionLex) -> bool {
        let short = option
            .en
            .first()
            .is_some_and(|form| form.core.split_whitespace().count() <= 3);
        option.cue.is_none() && short && (option.single || item.includes.is_empty())
    }

    /// Whether an option of a one-choice group already chosen shares the group with `option`.
    fn group_taken(&self, used: &[usize], option: usize) -> bool {
        let group = self.lex.options[option].group;
        self.lex.options[option].single && used.iter().any(|&o| self.lex.options[o].group == group)
    }

    /// How likely a caller asks for `option` at `portion` on `item` (0 when it makes no sense).
    fn portion_weight(&self, item: &ItemLex, option: usize, portion: Portion) -> f64 {
        let lex = &self.lex.options[option];
        let included = item.includes.contains(&option);
        match (lex.cue, portion) {
            (Some(Cue::No), Portion::No) => 1.0,
            (Some(Cue::No), _) | (Some(Cue::Extra | Cue::Add), Portion::No) => 0.0,
            (Some(Cue::Extra | Cue::Add), Portion::Regular) => 1.0,
            (Some(Cue::Extra | Cue::Add), _) => 0.0,
            (None, Portion::Regular) if included => 0.05,
            (None, Portion::Regular) => 1.0,
            (None, Portion::No) if included => 3.0,
            (None, Portion::No) if lex.single => 0.15,
            (None, Portion::No) => 1.0,
            (None, p) if lex.portions.price(p).is_some() => {
                if included || p == Portion::Side {
                    2.0
                } else {
                    1.0
                }
            }
            (None, Portion::Extra) if lex.single => 0.1,
            (None, Portion::Extra) => 0.4,
            (None, _) if lex.single => 0.0,
            (None, Portion::Light) => 0.2,
            (None, _) => 0.1,
        }
    }

    fn plan_cluster(&mut self, item: &ItemLex, used: &mut Vec<usize>) -> Option<Cluster> {
        let options = self.item_options(item);
        if options.is_empty() {
            return None;
        }
        let weights: [(Portion, u32); 5] = if item.includes.is_empty() {
            [
                (Portion::Regular, 50),
                (Portion::No, 18),
                (Portion::Extra, 17),
                (Portion::Light, 7),
                (Portion::Side, 8),
            ]
        } else {
            [
                (Portion::Regular, 28),
                (Portion::No, 36),
                (Portion::Extra, 18),
                (Portion::Light, 9),
                (Portion::Side, 9),
            ]
        };
        let portion = weights
            .choose_weighted(&mut self.rng, |(_, w)| *w)
            .map_or(Portion::Regular, |(p, _)| *p);
        let candidates: Vec<(usize, f64)> = options
            .iter()
            .filter(|o| !used.contains(o))
            .map(|&o| (o, self.portion_weight(item, o, portion)))
            .filter(|(_, w)| *w > 0.0)
            .collect();
        let wanted = match self.rng.random_range(0..100) {
            0..68 => 1,
            68..92 => 2,
            _ => 3,
        };
        let mut chosen = Vec::new();
        for _ in 0..wanted {
            let Ok(&(o, _)) = candidates.choose_weighted(&mut self.rng, |(_, w)| *w) else {
                break;
            };
            if used.contains(&o) || (portion != Portion::No && self.group_taken(used, o)) {
                continue;
            }
            used.push(o);
            chosen.push(o);
        }
        (!chosen.is_empty()).then_some(Cluster {
            portion,
            options: chosen,
        })
    }

    fn random_item(&mut self) -> usize {
        self.rng.random_range(0..self.lex.items.len())
    }

    // ---- saying things ----

    /// An item's name form for `quantity`: the menu name most often, then aliases, the name
    /// without its category word, or (with options before it) the bare category word.
    fn item_form(&mut self, item: &ItemLex, quantity: u32, head_ok: bool) -> (String, bool) {
        let many = quantity > 1;
        if head_ok
            && let Some(head) = &item.head
            && self.chance(0.4)
        {
            return (form_text(head, many), false);
        }
        if let Some(derived) = &item.derived
            && self.chance(0.18)
        {
            // "two hot and sours" is said, but "two hot and sour" as often.
            let many = many && self.chance(0.5);
            return (form_text(derived, many), false);
        }
        let forms: &[NameForm] = if self.en() { &item.en } else { &item.es };
        let usable: Vec<(usize, &NameForm)> = forms
            .iter()
            .enumerate()
            .filter(|(_, f)| many || f.one.is_some() || item.plural_name)
            .collect();
        let chosen = usable
            .choose_weighted(&mut self.rng, |(at, _)| if *at == 0 { 4 } else { 1 })
            .map(|(_, f)| *f)
            .ok()
            .or_else(|| forms.first());
        match chosen {
            Some(form) => (form_text(form, many), true),
            None => (String::new(), true),
        }
    }

    /// Says one line of an order.
    fn say_line(&mut self, u: &mut Utterance, line: &Line) {
        match self.lang {
            Lang::En => self.say_line_en(u, line),
            Lang::Es => self.say_line_es(u, line),
        }
    }

    /// Says a count before an item; a `bare` one ("garlic knots" without "an order of") takes
    /// no article.
    fn say_quantity_en(
        &mut self,
        u: &mut Utterance,
        quantity: u32,
        container: Option<&str>,
        bare: bool,
    ) {
        let mut of = false;
        match quantity {
            1 if bare => {}
            1 => match self.rng.random_range(0..100) {
                0..57 => self.article = true,
                57..80 => self.entity(u, QUANTITY, "one"),
                80..96 if container.is_some() => self.article = true,
                80..96 => {}
                _ => self.entity(u, QUANTITY, "1"),
            },
            2 if self.chance(0.12) => {
                self.entity(u, QUANTITY, "a couple");
                of = self.chance(0.7);
            }
            12 if self.chance(0.4) => {
                self.entity(u, QUANTITY, "a dozen");
            }
            6 if self.chance(0.3) => self.entity(u, QUANTITY, "half a dozen"),
            2 if self.chance(0.015) => self.entity(u, QUANTITY, "to"),
            4 if self.chance(0.01) => self.entity(u, QUANTITY, "for"),
            n if self.chance(0.25) => self.entity(u, QUANTITY, &n.to_string()),
            n => {
                let said = numbers::en_words(n);
                self.entity(u, QUANTITY, &said);
            }
        }
        if let Some(container) = container {
            let container = if quantity > 1 {
                format!("{container}s of")
            } else {
                format!("{container} of")
            };
            self.say(u, &container);
        } else if of {
            self.say(u, "of");
        }
    }

    fn container_word(&mut self, item: &ItemLex) -> Option<&'static str> {
        let p = if item.plural_name { 0.7 } else { 0.06 };
        if !self.chance(p) {
            return None;
        }
        Some(match item.container {
            Container::Order => "order",
            Container::Side => self.pick(&["order", "order", "side"]),
            Container::Cup => "cup",
            Container::Drink => self.pick(&["cup", "glass", "bottle", "can"]),
            Container::Bowl => self.pick(&["bowl", "order"]),
        })
    }

    fn size_text(&mut self, item: &ItemLex, size: usize, plural: bool, feminine: bool) -> String {
        let Some(size) = item.sizes.get(size) else {
            return String::new();
        };
        let text = if self.en() {
            size.en
                .choose_weighted(&mut self.rng, |s| if *s == size.en[0] { 4 } else { 1 })
                .cloned()
                .unwrap_or_default()
        } else {
            let (masc, fem) = size.es.choose(&mut self.rng).cloned().unwrap_or_default();
            let word = if feminine { fem } else { masc };
            if plural && size.es_agrees {
                word.split_whitespace()
                    .map(plural_es_word)
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                word
            }
        };
        self.name(&text)
    }

    fn say_line_en(&mut self, u: &mut Utterance, line: &Line) {
        let lex = self.lex;
        let item = &lex.items[line.item];
        let container = if line.implied {
            None
        } else {
            self.container_word(item)
        };
        let bare = item.plural_name && container.is_none() && !line.implied;
        if line.implied && line.quantity == 1 && line.size.is_none() {
            // "and one with beef", "and another with beef": not "and a with beef".
            if self.chance(0.7) {
                self.entity(u, QUANTITY, "one");
            } else {
                self.say(u, "another");
            }
        } else {
            self.say_quantity_en(u, line.quantity, container, bare);
        }
        let measure = line
            .size
            .and_then(|s| item.sizes.get(s))
            .is_some_and(|s| s.measure);
        let size_before = line.implied || (container.is_none() && self.chance(0.75));
        // The inline correction "a medium, no wait, a large".
        let correct_size = size_before && line.size.is_some() && self.chance(0.04);
        if let Some(size) = line.size
            && size_before
        {
            if correct_size && item.sizes.len() > 1 {
                let other = (size + 1) % item.sizes.len();
                let text = self.size_text(item, other, false, false);
                self.entity(u, SIZE, &text);
                u.mark(",");
                let cue = self.pick(&[
                    "{no wait}",
                    "{I mean}",
                    "{actually}",
                    "{wait}",
                    "{or actually}",
                ]);
                self.cue(u, cue, CORRECTION);
                u.mark(",");
                if line.quantity == 1 {
                    self.article = true;
                }
            }
            let text = self.size_text(item, size, false, false);
            // "two quarts of soup"; "two large soups" keeps its adjective.
            let text = if measure && line.quantity > 1 {
                plural_en(&text)
            } else {
                text
            };
            self.entity(u, SIZE, &text);
            if measure && !line.implied && self.chance(0.5) {
                self.say(u, "of");
            }
        }
        for (at, &option) in line.before.iter().enumerate() {
            if at > 0 {
                self.say(u, "and");
            }
            self.option_mention(u, option, line.quantity > 1);
        }
        if !line.implied {
            let head_ok = !line.before.is_empty();
            // "two cups of coffee", but "two orders of egg rolls".
            let counted = if container.is_some()
                && matches!(item.container, Container::Drink | Container::Cup)
            {
                1
            } else {
                line.quantity
            };
            let (text, _) = self.item_form(item, counted, head_ok);
            let text = self.name(&text);
            self.flush_article(u, &text);
            u.item(&text, item.index);
            if let Some(size) = line.size
                && !size_before
            {
                match self.rng.random_range(0..6) {
                    0 => {
                        u.mark(",");
                        let text = self.size_text(item, size, false, false);
                        self.entity(u, SIZE, &text);
                    }
                    1 => {
                        self.say(u, "in a");
                        let text = self.size_text(item, size, false, false);
                        self.entity(u, SIZE, &text);
                    }
                    2 => {
                        u.mark(",");
                        self.say(u, "the");
                        let text = self.size_text(item, size, false, false);
                        self.entity(u, SIZE, &text);
                    }
                    3 => {
                        self.say(u, "size");
                        let text = self.size_text(item, size, false, false);
                        self.entity(u, SIZE, &text);
                    }
                    _ => {
                        u.mark(",");
                        let text = self.size_text(item, size, false, false);
                        self.entity(u, SIZE, &text);
                        self.say(u, "size");
                    }
                }
            }
        }
        self.say_clusters(u, &line.after, line.implied);
        self.article = false;
    }

    fn say_line_es(&mut self, u: &mut Utterance, line: &Line) {
        let lex = self.lex;
        let item = &lex.items[line.item];
        let (text, _) = self.item_form(item, line.quantity, false);
        let fem = if line.implied {
            self.chance(0.5)
        } else {
            feminine(&text)
        };
        let plural = line.quantity > 1;
        let container = !line.implied && item.plural_name && self.chance(0.3);
        match line.quantity {
            1 if container => u.say("una"),
            1 if line.implied && line.size.is_none() => {
                if self.chance(0.7) {
                    self.entity(u, QUANTITY, if fem { "una" } else { "uno" });
                } else {
                    u.say(if fem { "otra" } else { "otro" });
                }
            }
            1 => match self.rng.random_range(0..100) {
                0..80 => u.say(if fem { "una" } else { "un" }),
                80..88 if line.implied => {
                    self.entity(u, QUANTITY, if fem { "una" } else { "uno" });
                }
                80..96 => {}
                _ => self.entity(u, QUANTITY, "1"),
            },
            2 if self.chance(0.12) => {
                self.entity(u, QUANTITY, "un par");
                u.say("de");
            }
            12 if self.chance(0.4) => {
                self.entity(u, QUANTITY, "una docena");
                u.say("de");
            }
            6 if self.chance(0.3) => {
                self.entity(u, QUANTITY, "media docena");
                u.say("de");
            }
            n if self.chance(0.25) => self.entity(u, QUANTITY, &n.to_string()),
            n => {
                let said = match (n, fem) {
                    (21, true) => "veintiuna".to_owned(),
                    _ => numbers::es_words(n),
                };
                self.entity(u, QUANTITY, &said);
            }
        }
        if container {
            u.say(if plural { "órdenes de" } else { "orden de" });
        }
        let measure = line
            .size
            .and_then(|s| item.sizes.get(s))
            .is_some_and(|s| s.measure);
        if (line.implied || (measure && self.chance(0.6)))
            && let Some(size) = line.size
        {
            let text = self.size_text(item, size, plural, fem);
            self.entity(u, SIZE, &text);
            if !line.implied {
                u.say("de");
            }
        }
        if !line.implied {
            let text = self.name(&text);
            u.item(&text, item.index);
            if let Some(size) = line.size
                && !measure
            {
                let text = self.size_text(item, size, plural, fem);
                let digits = text.chars().any(|c| c.is_ascii_digit());
                if digits || self.chance(0.08) {
                    u.say(if digits { "de" } else { "tamaño" });
                }
                self.entity(u, SIZE, &text);
            }
        }
        // Options said before an English item come after it in Spanish: "burrito de pollo".
        let mut clusters = line.after.clone();
        if !line.before.is_empty() {
            clusters.insert(
                0,
                Cluster {
                    portion: Portion::Regular,
                    options: line.before.clone(),
                },
            );
        }
        self.say_clusters(u, &clusters, line.implied);
    }

    /// One option said as the caller says it: the menu's own cue for an extra option ("an
    /// extra shot") as PORTION, then the core words as MODIFIER.
    fn option_mention(&mut self, u: &mut Utterance, option: usize, plural: bool) {
        let lex = self.lex;
        let option = &lex.options[option];
        let forms = if self.en() { &option.en } else { &option.es };
        let Some(form) = forms
            .choose_weighted(&mut self.rng, |f| if *f == forms[0] { 3 } else { 1 })
            .ok()
            .or_else(|| forms.first())
        else {
            return;
        };
        // A form without the cue ("very spicy" for "extra spicy") says it all in its words.
        if option.cue == Some(Cue::Extra)
            && let Some(cue) = form.cue.as_deref()
        {
            let lower = cue.to_lowercase();
            match lower.split_once(' ') {
                Some((first @ ("an" | "add" | "a"), rest)) => {
                    self.say(u, first);
                    self.entity(u, PORTION, rest);
                }
                _ => self.entity(u, PORTION, &lower),
            }
        }
        let core = if plural || self.chance(0.3) {
            countable_plural(&form.core)
        } else {
            form.core.clone()
        };
        let core = self.name(&core);
        self.entity(u, MODIFIER, &core);
    }

    /// A refusal cue over `options`: once before them all ("no onions or peppers", joined by
    /// "or" with chance `or_chance`), or, with `repeat`, before each ("no onions, no peppers").
    fn refusal(
        &mut self,
        u: &mut Utterance,
        template: &str,
        options: &[usize],
        repeat: bool,
        joiners: &[&'static str],
        or_chance: f64,
    ) {
        if repeat {
            for (at, &option) in options.iter().enumerate() {
                if at > 0 {
                    let joiner = self.pick(joiners);
                    self.join(u, joiner);
                }
                self.cue(u, template, NEGATION);
                self.option_mention(u, option, false);
            }
        } else {
            self.cue(u, template, NEGATION);
            let or = self.chance(or_chance);
            self.option_list(u, options, or);
        }
    }

    /// A list of options: "A", "A and B", "A, B and C", "A, B, or C", and in Spanish "A y B".
    fn option_list(&mut self, u: &mut Utterance, options: &[usize], or: bool) {
        let last = options.len().saturating_sub(1);
        for (at, &option) in options.iter().enumerate() {
            if at > 0 {
                if at < last || self.chance(0.2) {
                    u.mark(",");
                }
                if at == last {
                    let word = match (self.lang, or) {
                        (Lang::En, true) => "or",
                        (Lang::En, false) => "and",
                        (Lang::Es, true) => "ni",
                        (Lang::Es, false) => "y",
                    };
                    self.say(u, word);
                }
            }
            self.option_mention(u, option, false);
        }
    }

    /// Says a line's option clusters. A cue before options reaches forward over every option
    /// joined to it by "and", "or" or commas ("no onions or peppers"), so an option that is not
    /// in that scope is always introduced by "with", "add" or "plus" (Spanish "con"); a side
    /// cue after options reaches back to the last such word ("with the ranch and mayo on the
    /// side").
    fn say_clusters(&mut self, u: &mut Utterance, clusters: &[Cluster], implied: bool) {
        let mut scoped = false;
        for (at, cluster) in clusters.iter().enumerate() {
            let mut bare = false;
            if at > 0 {
                let needs_break = matches!(cluster.portion, Portion::Regular | Portion::Side)
                    && (scoped || cluster.portion == Portion::Side);
                let joiner = match (self.lang, cluster.portion) {
                    (Lang::En, Portion::No) => self.pick(&["and", "but", ",", ", and", ", but"]),
                    (Lang::En, _) if needs_break => self.pick(&["and", ", and", ",", "but"]),
                    (Lang::En, _) => self.pick(&["and", ", and", ",", "plus", "and"]),
                    (Lang::Es, Portion::No) => self.pick(&["y", "pero", ",", ", pero"]),
                    (Lang::Es, _) => self.pick(&["y", ",", "y también", "y"]),
                };
                self.join(u, joiner);
                bare = true;
                if needs_break {
                    let lead = self.pick_lang(&["with", "add", "with", "plus"], &["con"]);
                    self.say(u, lead);
                }
            } else if implied {
                // "a large with mushrooms"; other portions bring their own words ("one with no
                // onions", "one with extra cheese").
                if cluster.portion == Portion::Regular {
                    let lex = self.lex;
                    let single = cluster.options.iter().all(|&o| lex.options[o].single);
                    let de = single && self.chance(0.5);
                    let lead = match self.lang {
                        Lang::En => "with",
                        Lang::Es if de => "de",
                        Lang::Es => "con",
                    };
                    self.say(u, lead);
                    bare = true;
                }
            } else if self.chance(0.12) {
                u.mark(",");
            }
            match self.lang {
                Lang::En => self.cluster_en(u, cluster, at == 0, bare),
                Lang::Es => self.cluster_es(u, cluster, at == 0, bare),
            }
            scoped = matches!(
                cluster.portion,
                Portion::No | Portion::Extra | Portion::Light
            );
        }
    }

    /// One cluster in English. `bare` leaves out leading words ("with", "add") because the
    /// caller already said one ("one with ...").
    fn cluster_en(&mut self, u: &mut Utterance, cluster: &Cluster, first: bool, bare: bool) {
        let options = &cluster.options;
        match cluster.portion {
            Portion::Regular => {
                let lead = if bare {
                    ""
                } else if first {
                    self.pick(&[
                        "with",
                        "with",
                        "with",
                        "with",
                        "add",
                        "topped with",
                        "with some",
                        "",
                    ])
                } else {
                    self.pick(&["with", "", "add", "extra"])
                };
                if lead == "extra" {
                    // "and extra cheese" after other options: that is an extra portion.
                    self.entity(u, PORTION, "extra");
                } else {
                    self.say(u, lead);
                }
                self.option_list(u, options, false);
            }
            Portion::No => {
                let template = self.pick_cue(vocab::EN_NEGATION, bare);
                let repeat = options.len() > 1
                    && (template == "{no}" || template == "{without}")
                    && self.chance(0.35);
                self.refusal(u, template, options, repeat, &[",", "and", ", and"], 0.55);
                if self.chance(0.1) {
                    self.say(u, "please");
                }
            }
            Portion::Extra | Portion::Light => {
                let list = if cluster.portion == Portion::Extra {
                    vocab::EN_EXTRA
                } else {
                    vocab::EN_LIGHT
                };
                let template = self.pick_cue(list, bare);
                let repeat = options.len() > 1 && !template.contains(' ') && self.chance(0.4);
                if repeat {
                    for (at, &option) in options.iter().enumerate() {
                        if at > 0 {
                            self.say(u, "and");
                        }
                        self.cue(u, template, PORTION);
                        self.option_mention(u, option, false);
                    }
                } else {
                    self.cue(u, template, PORTION);
                    self.option_list(u, options, false);
                }
            }
            Portion::Side => {
                let lead = if bare {
                    self.pick(&["", "the"])
                } else {
                    self.pick(&["with", "with the", "and the", "", "with", "the"])
                };
                self.say(u, lead);
                self.option_list(u, options, false);
                let template = self.pick(vocab::EN_SIDE);
                self.cue(u, template, PORTION);
            }
        }
    }

    /// A cue template; with `bare`, only one that starts with the cue itself.
    fn pick_cue(&mut self, list: &[&'static str], bare: bool) -> &'static str {
        if bare {
            let starting: Vec<&'static str> = list
                .iter()
                .copied()
                .filter(|t| t.starts_with('{'))
                .collect();
            self.pick(&starting)
        } else {
            self.pick(list)
        }
    }

    /// One cluster in Spanish; see [`Self::cluster_en`] for `bare`.
    fn cluster_es(&mut self, u: &mut Utterance, cluster: &Cluster, first: bool, bare: bool) {
        let lex = self.lex;
        let options = &cluster.options;
        match cluster.portion {
            Portion::Regular => {
                let single = options.iter().all(|&o| lex.options[o].single);
                let lead = if bare {
                    ""
                } else if first && single && self.chance(0.6) {
                    "de"
                } else if first {
                    self.pick(&["con", "con", "con", "con extra"])
                } else {
                    self.pick(&["con", "", "con extra"])
                };
                if lead == "con extra" {
                    self.say(u, "con");
                    self.entity(u, PORTION, "extra");
                } else {
                    self.say(u, lead);
                }
                self.option_list(u, options, false);
            }
            Portion::No => {
                let template = self.pick_cue(vocab::ES_NEGATION, bare);
                let repeat = options.len() > 1 && template == "{sin}" && self.chance(0.35);
                self.refusal(u, template, options, repeat, &["y", ",", ""], 0.5);
            }
            Portion::Extra => match self.rng.random_range(0..10) {
                0..4 => {
                    let template = self.pick_cue(vocab::ES_EXTRA, bare);
                    self.cue(u, template, PORTION);
                    self.option_list(u, options, false);
                }
                4..7 => {
                    // "con queso extra": the portion after the option.
                    if !bare {
                        self.say(u, "con");
                    }
                    self.option_list(u, options, false);
                    let word = self.pick(&["extra", "extra", "doble"]);
                    self.entity(u, PORTION, word);
                }
                _ => {
                    if !bare {
                        self.say(u, "con");
                    }
                    self.agreeing(u, options, vocab::ES_MUCHO);
                }
            },
            Portion::Light => {
                if self.chance(0.5) {
                    let template = self.pick_cue(vocab::ES_LIGHT, bare);
                    self.cue(u, template, PORTION);
                    self.option_list(u, options, false);
                } else {
                    if !bare {
                        self.say(u, "con");
                    }
                    let words = if self.chance(0.6) {
                        vocab::ES_POCO
                    } else {
                        vocab::ES_POQUITO
                    };
                    self.agreeing(u, options, words);
                }
            }
            Portion::Side => {
                let lead = if bare {
                    ""
                } else {
                    self.pick(&["con", "con la", "y", "", "con el"])
                };
                self.say(u, lead);
                self.option_list(u, options, false);
                let template = self.pick(vocab::ES_SIDE);
                self.cue(u, template, PORTION);
            }
        }
    }

    /// "mucha salsa y mucho queso": a Spanish portion word agreeing with each option.
    fn agreeing(&mut self, u: &mut Utterance, options: &[usize], words: [&'static str; 4]) {
        let lex = self.lex;
        for (at, &option) in options.iter().enumerate() {
            if at > 0 {
                self.say(u, "y");
            }
            let forms = &lex.options[option].es;
            let core = forms
                .first()
                .map_or(String::new(), |form| form.core.to_lowercase());
            let fem = core.trim_end_matches('s').ends_with('a');
            let plural = core.ends_with('s');
            let word = words[usize::from(fem) + 2 * usize::from(plural)];
            self.entity(u, PORTION, word);
            let core = self.name(&core);
            self.entity(u, MODIFIER, &core);
        }
    }

    /// A reference to an item already ordered: "the burger", "la hamburguesa".
    fn item_reference(&mut self, u: &mut Utterance, item: usize, article: bool) {
        let lex = self.lex;
        let item_lex = &lex.items[item];
        let many = self.chance(0.15);
        let (text, _) = self.item_form(item_lex, if many { 2 } else { 1 }, true);
        let many = many || looks_plural(&text);
        if article {
            if self.en() {
                u.say("the");
            } else {
                let fem = feminine(&text);
                u.say(match (fem, many) {
                    (false, false) => "el",
                    (true, false) => "la",
                    (false, true) => "los",
                    (true, true) => "las",
                });
            }
        }
        let text = self.name(&text);
        u.item(&text, item_lex.index);
    }

    // ---- turns ----

    fn lines(&mut self) -> Vec<Line> {
        let n = match self.rng.random_range(0..100) {
            0..50 => 1,
            50..80 => 2,
            80..94 => 3,
            _ => 4,
        };
        let mut lines: Vec<Line> = Vec::with_capacity(n);
        for _ in 0..n {
            // "and a medium with mushrooms": another of the same item, left unnamed.
            if let Some(previous) = lines.last()
                && self.chance(0.15)
            {
                let item = previous.item;
                let mut line = self.plan_line(item);
                line.quantity = if self.chance(0.75) { 1 } else { 2 };
                let lex = self.lex;
                if line.size.is_none() && !lex.items[item].sizes.is_empty() {
                    line.size = Some(self.rng.random_range(0..lex.items[item].sizes.len()));
                }
                line.before.clear();
                // With neither a size nor options there is nothing to say it by.
                if line.size.is_some() || !line.after.is_empty() {
                    line.implied = true;
                    lines.push(line);
                    continue;
                }
            }
            let mut item = self.random_item();
            if lines.last().is_some_and(|previous| previous.item == item) {
                item = (item + 1) % self.lex.items.len();
            }
            lines.push(self.plan_line(item));
        }
        lines
    }

    fn order_turn(&mut self, u: &mut Utterance) {
        if self.chance(0.33) {
            let greeting = self.pick_lang(vocab::EN_GREETINGS, vocab::ES_GREETINGS);
            self.say_with_marks(u, greeting);
            u.mark(if self.chance(0.7) { "," } else { "." });
            if self.chance(0.3) {
                let preamble = self.pick_lang(vocab::EN_PREAMBLES, vocab::ES_PREAMBLES);
                self.say(u, preamble);
                if self.chance(0.25) {
                    self.fulfillment(u);
                }
                u.mark(".");
            }
        }
        if self.chance(0.1) {
            self.filler(u);
        }
        let mut question = false;
        if self.chance(0.85) {
            let opener = self.pick_lang(vocab::EN_OPENERS, vocab::ES_OPENERS);
            question = ["can ", "could ", "me puede", "me puedes", "nos puede"]
                .iter()
                .any(|q| opener.starts_with(q));
            self.say_with_marks(u, opener);
        }
        let lines = self.lines();
        for (at, line) in lines.iter().enumerate() {
            if at > 0 {
                let joiner = self.pick_lang(vocab::EN_LINE_JOINS, vocab::ES_LINE_JOINS);
                self.join(u, joiner);
            }
            let lex = self.lex;
            let splittable = (2..=3).contains(&line.quantity)
                && !line.implied
                && !lex.items[line.item].groups.is_empty();
            if splittable && self.chance(0.12) {
                self.say_split_line(u, line);
            } else {
                self.say_line(u, line);
            }
            if self.chance(0.04) {
                self.trailing_correction(u, line);
            }
        }
        if self.chance(0.3) {
            let closer = self.pick_lang(vocab::EN_CLOSERS, vocab::ES_CLOSERS);
            if self.chance(0.5) {
                u.mark(",");
            } else {
                self.end_sentence(u);
            }
            self.say(u, closer);
        }
        if self.chance(0.2) {
            if self.chance(0.5) {
                u.mark(",");
            } else {
                u.mark(".");
            }
            match self.rng.random_range(0..4) {
                0 | 1 => self.fulfillment(u),
                2 => self.person(u),
                _ => {
                    self.fulfillment(u);
                    u.mark(".");
                    self.person(u);
                }
            }
        }
        if question && !u.ends_sentence() && self.chance(0.6) {
            u.mark("?");
        } else {
            self.end_sentence(u);
        }
    }

    /// "two large pizzas, one with ham and one with onions": each of a line's two or three
    /// items with options of its own.
    fn say_split_line(&mut self, u: &mut Utterance, line: &Line) {
        let mut whole = line.clone();
        whole.after.clear();
        self.say_line(u, &whole);
        u.mark(",");
        let lex = self.lex;
        let item = &lex.items[line.item];
        let fem = item
            .es
            .first()
            .and_then(|f| f.one.as_deref())
            .is_some_and(feminine);
        let mut used = Vec::new();
        for part in 0..line.quantity {
            if part > 0 {
                let joiner = self.pick_lang(&["and", ", and", ","], &["y", ","]);
                self.join(u, joiner);
            }
            let last = part + 1 == line.quantity;
            if last && self.chance(0.3) {
                let other = match (self.lang, fem) {
                    (Lang::En, _) => "the other",
                    (Lang::Es, false) => "el otro",
                    (Lang::Es, true) => "la otra",
                };
                self.say(u, other);
            } else {
                let one = match (self.lang, fem) {
                    (Lang::En, _) => "one",
                    (Lang::Es, false) => "uno",
                    (Lang::Es, true) => "una",
                };
                self.entity(u, QUANTITY, one);
            }
            let Some(cluster) = self.plan_cluster(item, &mut used) else {
                // Not "plain" or "regular": those are option and size names on some menus.
                let plain = match (self.lang, fem) {
                    (Lang::En, _) => self.pick(&["with nothing", "as is", "with nothing on it"]),
                    (Lang::Es, false) => self.pick(&["sencillo", "tal cual", "así nomás"]),
                    (Lang::Es, true) => self.pick(&["sencilla", "tal cual", "así nomás"]),
                };
                self.say(u, plain);
                continue;
            };
            self.say_clusters(u, std::slice::from_ref(&cluster), true);
        }
    }

    fn pick_lang_static(&self, en: &'static str, es: &'static str) -> &'static str {
        if self.en() { en } else { es }
    }

    /// "..., actually make that a large" after a line.
    fn trailing_correction(&mut self, u: &mut Utterance, line: &Line) {
        let lex = self.lex;
        let item = &lex.items[line.item];
        u.mark(",");
        let template = self.pick_lang(vocab::EN_CORRECT, vocab::ES_CORRECT);
        self.cue(u, template, CORRECTION);
        if !item.sizes.is_empty() && self.chance(0.6) {
            let size = self.rng.random_range(0..item.sizes.len());
            let fem = self.chance(0.5);
            if self.en() {
                self.article = true;
            } else {
                u.say(if fem { "una" } else { "un" });
            }
            let text = self.size_text(item, size, false, fem);
            self.entity(u, SIZE, &text);
        } else {
            let n = self.rng.random_range(2..6);
            let said = if self.chance(0.7) {
                numbers::words(self.lang, n)
            } else {
                n.to_string()
            };
            self.entity(u, QUANTITY, &said);
        }
        self.article = false;
    }

    fn follow_up_turn(&mut self, u: &mut Utterance) {
        let item = self.random_item();
        match self.rng.random_range(0..10) {
            // Another line.
            0..5 => {
                let lead = self.pick_lang(vocab::EN_ADD_LEADS, vocab::ES_ADD_LEADS);
                self.say_with_marks(u, lead);
                let line = self.plan_line(item);
                self.say_line(u, &line);
                if self.chance(0.3) {
                    let closer = self.pick_lang(vocab::EN_CLOSERS, vocab::ES_CLOSERS);
                    self.say(u, closer);
                }
            }
            // Options for a line already ordered.
            5..8 => {
                let lex = self.lex;
                let item_lex = &lex.items[item];
                let mut used = Vec::new();
                let Some(cluster) = self.plan_cluster(item_lex, &mut used) else {
                    let line = self.plan_line(item);
                    return self.say_line(u, &line);
                };
                let (before, after) = if self.en() {
                    *vocab::EN_ATTACH
                        .choose(&mut self.rng)
                        .unwrap_or(&("add", ""))
                } else {
                    *vocab::ES_ATTACH
                        .choose(&mut self.rng)
                        .unwrap_or(&("póngale", ""))
                };
                if cluster.portion == Portion::Regular {
                    self.say(u, before);
                    self.option_list(u, &cluster.options, false);
                } else {
                    if self.chance(0.5) {
                        self.say(u, self.pick_lang_static("and", "y"));
                    }
                    self.say_clusters(u, std::slice::from_ref(&cluster), true);
                }
                match after {
                    "@" => {
                        let at_the = self.chance(0.5);
                        self.say(u, if at_the { "a" } else { "en" });
                        self.item_reference(u, item, true);
                    }
                    after
                        if after.ends_with("the")
                            || after.ends_with(" la")
                            || after.ends_with(" el") =>
                    {
                        self.say(u, after);
                        self.item_reference(u, item, false);
                    }
                    after => self.say(u, after),
                }
            }
            // "For the burger, no onions."
            _ => {
                let lex = self.lex;
                let item_lex = &lex.items[item];
                let mut used = Vec::new();
                let Some(cluster) = self.plan_cluster(item_lex, &mut used) else {
                    let line = self.plan_line(item);
                    return self.say_line(u, &line);
                };
                if self.en() {
                    let lead = self.pick(&["for the", "on the", "and the", "the"]);
                    self.say(u, lead);
                    self.item_reference(u, item, false);
                } else {
                    // The article agrees with the item: "para la hamburguesa", "en el burrito".
                    let lead = self.pick(&["para", "en", ""]);
                    self.say(u, lead);
                    self.item_reference(u, item, true);
                }
                if self.chance(0.6) {
                    u.mark(",");
                }
                self.say_clusters(u, std::slice::from_ref(&cluster), true);
            }
        }
        if self.chance(0.5) {
            self.end_sentence(u);
        }
    }

    fn correction_turn(&mut self, u: &mut Utterance) {
        let lex = self.lex;
        let item = self.random_item();
        let item_lex = &lex.items[item];
        let cue = self.pick_lang(vocab::EN_CORRECT, vocab::ES_CORRECT);
        match self.rng.random_range(0..12) {
            // "Actually make that a large."
            0..3 if !item_lex.sizes.is_empty() => {
                self.cue(u, cue, CORRECTION);
                let size = self.rng.random_range(0..item_lex.sizes.len());
                let fem = self.chance(0.5);
                if self.en() {
                    self.article = self.chance(0.8);
                } else if self.chance(0.7) {
                    u.say(if fem { "una" } else { "un" });
                }
                let text = self.size_text(item_lex, size, false, fem);
                self.entity(u, SIZE, &text);
                if self.en() && self.chance(0.3) {
                    let (text, _) = self.item_form(item_lex, 1, true);
                    let text = self.name(&text);
                    u.item(&text, item_lex.index);
                }
                if self.chance(0.2) {
                    self.entity(u, CORRECTION, self.pick_lang_static("instead", "mejor"));
                }
            }
            // "Make it three."
            3..5 => {
                self.cue(u, cue, CORRECTION);
                let mut line = self.plan_line(item);
                line.quantity = self.rng.random_range(2..6);
                if self.chance(0.5) {
                    let said = if self.chance(0.7) {
                        numbers::words(self.lang, line.quantity)
                    } else {
                        line.quantity.to_string()
                    };
                    self.entity(u, QUANTITY, &said);
                } else {
                    line.after.clear();
                    self.say_line(u, &line);
                }
            }
            // "Change the coke to a sprite." / "A sprite instead of the coke."
            5..8 => {
                let mut other = self.random_item();
                if other == item && lex.items.len() > 1 {
                    other = (other + 1) % lex.items.len();
                }
                let mut line = self.plan_line(other);
                line.quantity = 1;
                match self.rng.random_range(0..3) {
                    0 => {
                        let (change, to) = if self.en() {
                            (
                                self.pick(&["{change}", "{switch}", "can you {change}", "{swap}"]),
                                "to",
                            )
                        } else {
                            (self.pick(&["{cambie}", "{cámbieme}", "{cambia}"]), "por")
                        };
                        self.cue(u, change, CORRECTION);
                        self.item_reference(u, item, true);
                        self.say(u, to);
                        self.say_line(u, &line);
                    }
                    1 => {
                        if self.en() && self.chance(0.5) {
                            let words = self.pick(&[
                                "can I get",
                                "can I do",
                                "I'd rather have",
                                "let me get",
                            ]);
                            self.say(u, words);
                        }
                        self.say_line(u, &line);
                        let instead = self.pick_lang(vocab::EN_INSTEAD, vocab::ES_INSTEAD);
                        self.cue(u, instead, CORRECTION);
                        self.item_reference(u, item, true);
                    }
                    _ => {
                        self.cue(u, cue, CORRECTION);
                        self.say_line(u, &line);
                        if self.chance(0.3) {
                            self.entity(u, CORRECTION, self.pick_lang_static("instead", "mejor"));
                        }
                    }
                }
            }
            // "Scratch the wings."
            8..10 => {
                let cancel = self.pick_lang(vocab::EN_CANCEL, vocab::ES_CANCEL);
                self.cue(u, cancel, CORRECTION);
                let article = self.en() || !cancel.ends_with(" de") || self.chance(0.5);
                self.item_reference(u, item, article);
                if self.chance(0.3) {
                    self.say(u, self.pick_lang_static("please", "por favor"));
                }
            }
            // "Mushrooms instead of onions." / "Actually, no onions."
            _ => {
                let mut used = Vec::new();
                let options = self.item_options(item_lex);
                let Some(cluster) = self.plan_cluster(item_lex, &mut used) else {
                    self.cue(u, cue, CORRECTION);
                    let line = self.plan_line(item);
                    return self.say_line(u, &line);
                };
                let swap: Vec<usize> = options
                    .iter()
                    .copied()
                    .filter(|o| !used.contains(o) && lex.options[*o].cue.is_none())
                    .collect();
                if cluster.portion == Portion::Regular
                    && let Some(&old) = swap.choose(&mut self.rng)
                {
                    self.option_list(u, &cluster.options, false);
                    let instead = self.pick_lang(vocab::EN_INSTEAD, vocab::ES_INSTEAD);
                    self.cue(u, instead, CORRECTION);
                    self.option_mention(u, old, false);
                    if self.chance(0.4) {
                        let on = self.pick_lang_static("on", "en");
                        self.say(u, on);
                        self.item_reference(u, item, true);
                    }
                } else {
                    let cue = self.pick_lang(
                        &["{actually}", "{actually}", "oh {actually}", "{wait}"],
                        &["{mejor}", "{de hecho}"],
                    );
                    self.cue(u, cue, CORRECTION);
                    u.mark(",");
                    self.say_clusters(u, std::slice::from_ref(&cluster), true);
                }
            }
        }
        self.article = false;
        if self.chance(0.5) {
            self.end_sentence(u);
        }
    }

    fn info_turn(&mut self, u: &mut Utterance) {
        let mut parts: Vec<u8> = Vec::new();
        let n = match self.rng.random_range(0..10) {
            0..5 => 1,
            5..8 => 2,
            _ => 3,
        };
        while parts.len() < n {
            let part = self.rng.random_range(0..4u8);
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        for (at, part) in parts.into_iter().enumerate() {
            if at > 0 {
                let joiner = self.pick_lang(&[". ", ", and", "and", ","], &[". ", ", y", "y", ","]);
                if joiner == ". " {
                    u.mark(".");
                } else {
                    self.join(u, joiner);
                }
            }
            match part {
                0 => self.person(u),
                1 => self.phone(u),
                2 => self.address(u),
                _ => self.fulfillment(u),
            }
        }
        self.end_sentence(u);
    }

    fn person(&mut self, u: &mut Utterance) {
        let cue = self.pick_lang(vocab::EN_NAME_CUES, vocab::ES_NAME_CUES);
        if self.chance(0.9) {
            self.say(u, cue);
        }
        let first = self.pick(vocab::FIRST_NAMES);
        let name = match self.rng.random_range(0..10) {
            0..6 => first.to_owned(),
            6..9 => format!("{first} {}", self.pick(vocab::LAST_NAMES)),
            _ => self.pick(vocab::LAST_NAMES).to_owned(),
        };
        self.entity(u, PERSON, &name);
        if self.chance(0.1) {
            u.mark(",");
            if self.chance(0.5) {
                let words = self.pick_lang(&["that's", "spelled"], &["se escribe", "es"]);
                self.say(u, words);
            }
            let letters: Vec<String> = first
                .chars()
                .filter(|c| c.is_alphabetic())
                .flat_map(char::to_uppercase)
                .map(String::from)
                .collect();
            let joiner = if self.chance(0.7) { " " } else { "-" };
            self.entity(u, PERSON, &letters.join(joiner));
        }
    }

    fn phone(&mut self, u: &mut Utterance) {
        if self.chance(0.85) {
            let cue = self.pick_lang(vocab::EN_PHONE_CUES, vocab::ES_PHONE_CUES);
            self.say(u, cue);
        }
        let number = numbers::phone(&mut self.rng, self.lang);
        self.entity(u, PHONE, &number);
    }

    fn address(&mut self, u: &mut Utterance) {
        if self.chance(0.85) {
            let cue = self.pick_lang(vocab::EN_ADDRESS_CUES, vocab::ES_ADDRESS_CUES);
            self.cue(u, cue, FULFILLMENT);
        }
        let number = numbers::house_number(&mut self.rng, self.lang);
        let mut address = if self.en() || self.chance(0.4) {
            let mut parts = vec![number];
            if self.chance(0.2) {
                parts.push(self.pick(vocab::DIRECTIONS).to_owned());
            }
            parts.push(self.pick(vocab::STREETS).to_owned());
            if self.chance(0.92) {
                parts.push(self.pick(vocab::STREET_TYPES).to_owned());
            }
            parts.join(" ")
        } else {
            format!(
                "{} {} {number}",
                self.pick(vocab::ES_STREET_TYPES),
                self.pick(vocab::ES_STREETS)
            )
        };
        if self.chance(0.25) {
            let unit = self.pick_lang(vocab::EN_UNITS, vocab::ES_UNITS);
            let n = self.rng.random_range(1..40);
            let letter = if self.chance(0.2) { "B" } else { "" };
            let sep = if self.chance(0.5) { ", " } else { " " };
            let unit = if unit == "#" {
                format!("#{n}{letter}")
            } else {
                format!("{unit} {n}{letter}")
            };
            address = format!("{address}{sep}{unit}");
        }
        if self.chance(0.12) {
            address = format!("{address}, {}", self.pick(vocab::CITIES));
        }
        self.entity(u, ADDRESS, &address);
    }

    fn fulfillment(&mut self, u: &mut Utterance) {
        let delivery = self.chance(if self.lex.delivery { 0.5 } else { 0.25 });
        let template = match (self.lang, delivery) {
            (Lang::En, false) => self.pick(vocab::EN_PICKUP),
            (Lang::En, true) => self.pick(vocab::EN_DELIVERY),
            (Lang::Es, false) => self.pick(vocab::ES_PICKUP),
            (Lang::Es, true) => self.pick(vocab::ES_DELIVERY),
        };
        self.cue(u, template, FULFILLMENT);
    }

    fn answer_turn(&mut self, u: &mut Utterance) {
        let lex = self.lex;
        let item = self.random_item();
        let item_lex = &lex.items[item];
        if self.chance(0.12) {
            self.filler(u);
        }
        if self.chance(0.12) {
            let words =
                self.pick_lang(&["yes,", "yeah", "yeah,", "okay"], &["sí,", "sí", "bueno,"]);
            self.say_with_marks(u, words);
        }
        match self.rng.random_range(0..10) {
            0..3 if !item_lex.sizes.is_empty() => {
                let size = self.rng.random_range(0..item_lex.sizes.len());
                let lead = self.pick_lang(
                    &["", "", "a", "the", "let's do", "let's go with", "I'll do"],
                    &["", "", "una", "la", "el", "de"],
                );
                if lead == "a" {
                    self.article = true;
                } else {
                    self.say(u, lead);
                }
                let fem = self.chance(0.5);
                let text = self.size_text(item_lex, size, false, fem);
                self.entity(u, SIZE, &text);
                if self.chance(0.25) {
                    let words = self.pick_lang(
                        &["please", "one", "I guess", "size"],
                        &["por favor", "está bien"],
                    );
                    self.say(u, words);
                }
            }
            3..6 => {
                let mut used = Vec::new();
                match self.plan_cluster(item_lex, &mut used) {
                    Some(cluster) if cluster.portion == Portion::Regular && self.chance(0.6) => {
                        self.option_list(u, &cluster.options, false);
                    }
                    Some(cluster) => {
                        self.say_clusters(u, std::slice::from_ref(&cluster), true);
                    }
                    None => {
                        let line = self.plan_line(item);
                        self.say_line(u, &line);
                    }
                }
                if self.chance(0.25) {
                    self.say(u, self.pick_lang_static("please", "por favor"));
                }
            }
            6 => {
                let n = self.rng.random_range(1..6);
                if self.chance(0.3) {
                    self.say(u, self.pick_lang_static("just", "nada más"));
                }
                let said = if self.chance(0.8) {
                    numbers::words(self.lang, n)
                } else {
                    n.to_string()
                };
                self.entity(u, QUANTITY, &said);
            }
            7 => self.fulfillment(u),
            8 => {
                let line = self.plan_line(item);
                self.say_line(u, &line);
            }
            _ => match self.rng.random_range(0..3) {
                0 => {
                    let name = self.pick(vocab::FIRST_NAMES);
                    self.entity(u, PERSON, name);
                }
                1 => {
                    let number = numbers::phone(&mut self.rng, self.lang);
                    self.entity(u, PHONE, &number);
                }
                _ => self.address(u),
            },
        }
        self.article = false;
        if self.chance(0.4) {
            self.end_sentence(u);
        }
    }

    fn question_turn(&mut self, u: &mut Utterance) {
        let lex = self.lex;
        let item = self.random_item();
        let item_lex = &lex.items[item];
        if self.chance(0.2) {
            let greeting = self.pick_lang(vocab::EN_GREETINGS, vocab::ES_GREETINGS);
            self.say_with_marks(u, greeting);
            u.mark(",");
        }
        match self.rng.random_range(0..10) {
            0..4 => {
                let ask = self.pick_lang(vocab::EN_PRICE_QUESTIONS, vocab::ES_PRICE_QUESTIONS);
                if let Some(rest) = ask.strip_prefix('¿') {
                    u.open("¿");
                    self.say(u, rest);
                } else {
                    self.say(u, ask);
                }
                let mut line = self.plan_line(item);
                line.after.truncate(1);
                self.say_line(u, &line);
                if ask == "how much would" {
                    self.say(u, "be");
                }
            }
            4..8 => {
                let (before, after) = if self.en() {
                    *vocab::EN_ITEM_QUESTIONS
                        .choose(&mut self.rng)
                        .unwrap_or(&("do you have", "?"))
                } else {
                    *vocab::ES_ITEM_QUESTIONS
                        .choose(&mut self.rng)
                        .unwrap_or(&("¿tienen", "?"))
                };
                if let Some(rest) = before.strip_prefix('¿') {
                    u.open("¿");
                    self.say(u, rest);
                } else {
                    self.say(u, before);
                }
                let plural = before.ends_with("have")
                    || before.ends_with("are the")
                    || before.ends_with("tienen");
                if self.en() || plural {
                    let (text, _) = self.item_form(item_lex, if plural { 2 } else { 1 }, true);
                    let text = self.name(&text);
                    u.item(&text, item_lex.index);
                } else {
                    self.item_reference(u, item, true);
                }
                let rest = after.trim_end_matches('?');
                self.say(u, rest);
            }
            8 => {
                let ask = self.pick_lang(
                    &[
                        "do you {deliver}",
                        "do you guys {deliver}",
                        "do you do {delivery}",
                        "can I do {pickup}",
                        "how long for {delivery}",
                        "how long for {pickup}",
                    ],
                    &[
                        "¿hacen {entregas a domicilio}",
                        "¿tienen {servicio a domicilio}",
                        "¿puedo {recoger}",
                    ],
                );
                if let Some(rest) = ask.strip_prefix('¿') {
                    u.open("¿");
                    self.cue(u, rest, FULFILLMENT);
                } else {
                    self.cue(u, ask, FULFILLMENT);
                }
            }
            _ => {
                let mut used = Vec::new();
                let cluster = self.plan_cluster(item_lex, &mut used);
                let Some(&option) = cluster.as_ref().and_then(|c| c.options.first()) else {
                    self.say(u, self.pick_lang_static("do you have", "tienen"));
                    let (text, _) = self.item_form(item_lex, 2, false);
                    let text = self.name(&text);
                    return u.item(&text, item_lex.index);
                };
                if self.en() {
                    let (before, after) = *[
                        ("does the", "come with"),
                        ("can I get the", "with"),
                        ("does the", "have"),
                        ("can you do the", "with"),
                    ]
                    .choose(&mut self.rng)
                    .unwrap_or(&("does the", "come with"));
                    self.say(u, before);
                    self.item_reference(u, item, false);
                    self.say(u, after);
                } else {
                    u.open("¿");
                    self.say(u, "el");
                    self.item_reference(u, item, false);
                    let words = self.pick(&["trae", "lleva", "viene con"]);
                    self.say(u, words);
                }
                self.option_mention(u, option, false);
            }
        }
        u.mark("?");
    }

    fn no_entity_turn(&mut self, u: &mut Utterance) {
        if self.chance(0.15) {
            let template = self.pick_lang(vocab::EN_STORE_CHAT, vocab::ES_STORE_CHAT);
            let text = template.replace("{}", &self.lex.store_name);
            return self.say_sentence(u, &text);
        }
        let text = self.pick_lang(vocab::EN_NO_ENTITY, vocab::ES_NO_ENTITY);
        self.say_sentence(u, text);
    }

    /// A whole sentence of plain words with its punctuation as marks.
    fn say_sentence(&mut self, u: &mut Utterance, text: &str) {
        let mut rest = text.trim();
        if let Some(after) = rest.strip_prefix('¿') {
            u.open("¿");
            rest = after;
        }
        let (body, end) = match rest.char_indices().last() {
            Some((at, c @ ('?' | '!' | '.'))) => (&rest[..at], Some(c)),
            _ => (rest, None),
        };
        for (at, chunk) in body.split(',').enumerate() {
            if at > 0 {
                u.mark(",");
            }
            self.say(u, chunk);
        }
        match end {
            Some('?') => u.mark("?"),
            Some('!') => u.mark("!"),
            _ => u.mark("."),
        }
    }

    // ---- disfluencies ----

    /// Fillers between words ("two, uh, large"), stutters on small words ("a, a large") and
    /// false starts of menu words ("pep- pepperoni").
    fn disfluencies(&mut self, u: &mut Utterance) {
        let mut inserted = 0;
        let mut at = 1;
        while at < u.pieces.len() {
            if inserted < 2 && !u.pieces[at].glued && self.chance(0.03) {
                let filler = self.pick_lang(vocab::EN_FILLERS, vocab::ES_FILLERS);
                u.pieces.insert(at, plain(filler));
                inserted += 1;
                at += 1;
            }
            at += 1;
        }
        if self.chance(0.1) {
            let list = if self.en() {
                vocab::EN_STUTTER
            } else {
                vocab::ES_STUTTER
            };
            let candidates: Vec<usize> = (0..u.pieces.len())
                .filter(|&at| {
                    let piece = &u.pieces[at];
                    piece.is_plain()
                        && piece
                            .text
                            .split_whitespace()
                            .next()
                            .is_some_and(|w| list.contains(&w))
                })
                .collect();
            if let Some(&at) = candidates.choose(&mut self.rng) {
                let piece = &mut u.pieces[at];
                let first = piece
                    .text
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let sep = *["", ",", "..."].choose(&mut self.rng).unwrap_or(&"");
                piece.text = format!("{first}{sep} {}", piece.text);
            }
        }
        if self.chance(0.04) {
            let candidates: Vec<usize> = (0..u.pieces.len())
                .filter(|&at| {
                    matches!(u.pieces[at].label, Some(l) if l == ITEM || l == SIZE || l == MODIFIER)
                        && u.pieces[at].text.chars().take(4).all(char::is_alphabetic)
                        && u.pieces[at].text.chars().count() > 4
                })
                .collect();
            if let Some(&at) = candidates.choose(&mut self.rng) {
                let len = self.rng.random_range(2..=4);
                let start: String = u.pieces[at].text.chars().take(len).collect();
                u.pieces.insert(at, plain(&format!("{start}-")));
            }
        }
    }
}

fn plain(text: &str) -> Piece {
    Piece {
        text: text.to_owned(),
        label: None,
        glued: false,
        item: None,
    }
}

fn form_text(form: &NameForm, many: bool) -> String {
    match (&form.one, many) {
        (Some(one), false) => one.clone(),
        _ => form.many.clone(),
    }
}

/// Words counted in the plural when said as toppings ("no onions", "extra pickles").
const COUNTABLE: &[&str] = &[
    "onion",
    "tomato",
    "pickle",
    "olive",
    "mushroom",
    "pepper",
    "jalapeno",
    "jalapeño",
    "anchovy",
    "egg",
    "cucumber",
    "banana pepper",
    "chili",
    "shot",
    "pump",
];

fn countable_plural(core: &str) -> String {
    let lower = core.to_lowercase();
    let last = lower.split_whitespace().last().unwrap_or("");
    if COUNTABLE.iter().any(|w| lower == *w || last == *w) {
        plural_en(core)
    } else {
        core.to_owned()
    }
}

/// Whether English writes "an" before this word: it starts with a vowel sound, as far as
/// spelling tells (digits 8, 11 and 18 too: "an 8 piece").
fn starts_with_vowel_sound(word: &str) -> bool {
    let lower = word.to_lowercase();
    if lower.starts_with("8") || lower.starts_with("11 ") || lower.starts_with("18 ") {
        return true;
    }
    if ["uni", "use", "usu", "one", "eu"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return false;
    }
    if lower.starts_with("hour") || lower.starts_with("honest") {
        return true;
    }
    lower.starts_with(['a', 'e', 'i', 'o', 'u'])
}
