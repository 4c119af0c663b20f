//! Every sentence the engine says, in English and Spanish, side by side.
//!
//! Why one module: the wording is what callers hear, and it is tuned (and checked word for word
//! by the scenario tests) far more often than the flow that decides when to say it. Keeping each
//! English sentence next to its Spanish one makes a change to one language show what the other
//! needs, and keeps the flow modules free of string literals. The grammar the sentences are built
//! from (numbers, sizes, lists, noun agreement, money) lives in [`crate::speech`]; the data they
//! describe (item descriptions, lists of names) is computed by the callers.

use chrono::{DateTime, Datelike, Timelike};
use chrono_tz::Tz;
use kea_menu::ClosedBecause;
use kea_menu::{FulfillmentKind, Menu};

use crate::Language;
use crate::order::Draft;
use crate::speech::{self, describe, list, money};

/// Picks the English or Spanish text.
fn pick(lang: Language, en: &str, es: &str) -> String {
    match lang {
        Language::En => en.to_owned(),
        Language::Es => es.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Opening, closing and handing over the call.

/// The greeting: "Thanks for calling Tony's Pizza!".
pub(crate) fn welcome(lang: Language, store: &str) -> String {
    pick(
        lang,
        &format!("Thanks for calling {store}!"),
        &format!("¡Gracias por llamar a {store}!"),
    )
}

/// The store is not taking orders: why, and when it opens next ("today at 5 PM", "tomorrow at
/// 11 AM", "on Monday at 11:30 AM"), relative to `now` in the store's time zone.
pub(crate) fn closed(
    lang: Language,
    store: &str,
    because: ClosedBecause,
    opens_and_now: Option<(DateTime<Tz>, DateTime<Tz>)>,
) -> String {
    let when = opens_and_now.map(|(at, now)| when_opens(lang, at, now));
    let (en, es) = match (because, when) {
        (ClosedBecause::Paused, _) => (
            format!(
                "Thanks for calling {store}. We're not taking phone orders right now. Please try again a little later. Goodbye!"
            ),
            format!(
                "Gracias por llamar a {store}. En este momento no estamos tomando pedidos por teléfono. Por favor llame más tarde. ¡Adiós!"
            ),
        ),
        (ClosedBecause::Closure, Some(w)) => (
            format!("Thanks for calling {store}. We're closed today; we open again {w}. Goodbye!"),
            format!(
                "Gracias por llamar a {store}. Hoy estamos cerrados; abrimos de nuevo {w}. ¡Adiós!"
            ),
        ),
        (ClosedBecause::Hours, Some(w)) => (
            format!(
                "Thanks for calling {store}. We're closed right now; we open again {w}. Please call back then. Goodbye!"
            ),
            format!(
                "Gracias por llamar a {store}. En este momento estamos cerrados; abrimos de nuevo {w}. Llámenos entonces, por favor. ¡Adiós!"
            ),
        ),
        (_, None) => (
            format!("Thanks for calling {store}. We're closed right now. Goodbye!"),
            format!("Gracias por llamar a {store}. En este momento estamos cerrados. ¡Adiós!"),
        ),
    };
    pick(lang, &en, &es)
}

/// "today at 5 PM", "tomorrow at 11:30 AM", "on Monday at 11 AM"; Spanish "hoy a las 5 de la
/// tarde", "mañana a las 11:30 de la mañana", "el lunes a las 11 de la mañana".
fn when_opens(lang: Language, at: DateTime<Tz>, now: DateTime<Tz>) -> String {
    let days = (at.date_naive() - now.date_naive()).num_days();
    let clock_en = clock_time(Language::En, at);
    let clock_es = clock_time(Language::Es, at);
    const DAYS_EN: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const DAYS_ES: [&str; 7] = [
        "lunes",
        "martes",
        "miércoles",
        "jueves",
        "viernes",
        "sábado",
        "domingo",
    ];
    let weekday = at.weekday().num_days_from_monday() as usize;
    let (day_en, day_es) = match days {
        0 => ("today".to_owned(), "hoy".to_owned()),
        1 => ("tomorrow".to_owned(), "mañana".to_owned()),
        _ => (
            format!("on {}", DAYS_EN[weekday]),
            format!("el {}", DAYS_ES[weekday]),
        ),
    };
    pick(
        lang,
        &format!("{day_en} at {clock_en}"),
        &format!("{day_es} {clock_es}"),
    )
}

/// "6:30 PM", "11 AM"; Spanish "a las 6:30 de la tarde", "a la 1 de la tarde".
pub(crate) fn clock_time(lang: Language, at: DateTime<Tz>) -> String {
    let (hour, minute) = (at.hour(), at.minute());
    let h12 = match hour % 12 {
        0 => 12,
        h => h,
    };
    let hm = if minute == 0 {
        h12.to_string()
    } else {
        format!("{h12}:{minute:02}")
    };
    match lang {
        Language::En => format!("{hm} {}", if hour < 12 { "AM" } else { "PM" }),
        Language::Es => {
            let part = match hour {
                0..=11 => "de la mañana",
                12..=19 => "de la tarde",
                _ => "de la noche",
            };
            let article = if h12 == 1 { "a la" } else { "a las" };
            format!("{article} {hm} {part}")
        }
    }
}

/// "It'll be ready for pickup at 6:30 PM." for an order for later today.
pub(crate) fn ready_at(lang: Language, kind: FulfillmentKind, time: &str) -> String {
    match kind {
        FulfillmentKind::Pickup => pick(
            lang,
            &format!("It'll be ready for pickup at {time}."),
            &format!("Estará lista para recoger {time}."),
        ),
        FulfillmentKind::Delivery => pick(
            lang,
            &format!("We'll deliver it at {time}."),
            &format!("Se la entregamos {time}."),
        ),
    }
}

/// The order is now for later today.
pub(crate) fn scheduled_for(lang: Language, time: &str) -> String {
    pick(
        lang,
        &format!("Sure, we'll have it ready at {time}."),
        &format!("Claro, la tendremos lista {time}."),
    )
}

/// Why an order cannot be for the time the caller said.
pub(crate) fn cannot_schedule(lang: Language, why: &kea_menu::Unschedulable) -> String {
    match why {
        kea_menu::Unschedulable::NotOffered | kea_menu::Unschedulable::Closed => pick(
            lang,
            "Sorry, we can only take orders for as soon as possible.",
            "Lo siento, solo tomamos pedidos para lo antes posible.",
        ),
        kea_menu::Unschedulable::OutsideHours { until: Some(close) } => pick(
            lang,
            &format!(
                "Sorry, we can only take orders for later today before we close at {}.",
                clock_time(Language::En, *close)
            ),
            &format!(
                "Lo siento, solo tomamos pedidos para más tarde hoy antes de cerrar, {}.",
                clock_time(Language::Es, *close)
            ),
        ),
        kea_menu::Unschedulable::OutsideHours { until: None } => pick(
            lang,
            "Sorry, we can only take orders for later today.",
            "Lo siento, solo tomamos pedidos para más tarde hoy.",
        ),
    }
}

/// Said in Spanish after an English greeting when the store also speaks Spanish.
pub(crate) fn we_also_speak_spanish() -> String {
    "También hablamos español.".to_owned()
}

/// The first question of a call.
pub(crate) fn what_can_i_get(lang: Language) -> String {
    pick(lang, "What can I get for you?", "¿Qué le puedo ofrecer?")
}

/// Any event after the call has ended.
pub(crate) fn goodbye(lang: Language) -> String {
    pick(
        lang,
        "Thanks for calling. Goodbye!",
        "Gracias por llamar. ¡Adiós!",
    )
}

/// The caller cancelled.
pub(crate) fn cancelled(lang: Language, store: &str) -> String {
    pick(
        lang,
        &format!("Okay, I've cancelled your order. Thanks for calling {store}. Goodbye!"),
        &format!("Muy bien, cancelé su orden. Gracias por llamar a {store}. ¡Adiós!"),
    )
}

/// Why a call goes to a person, which decides what the caller is told: only a caller who asked
/// hears "Sure".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handoff {
    /// The caller asked for a person.
    Asked,
    /// The caller has not been heard.
    Silent,
    /// kea did not understand the caller, several times in a row.
    NotUnderstood,
    /// What the caller wants is for the store's staff (e.g. an order kea cannot price).
    ForStaff,
}

/// Handing the call to a person.
pub(crate) fn transferring(lang: Language, why: Handoff) -> String {
    match why {
        Handoff::Asked => pick(
            lang,
            "Sure, let me connect you with someone at the store. Please hold.",
            "Claro, le comunico con una persona de la tienda. Un momento, por favor.",
        ),
        Handoff::Silent => pick(
            lang,
            "I'm having trouble hearing you, so let me connect you with someone at the store. Please hold.",
            "No le escucho bien; le comunico con una persona de la tienda. Un momento, por favor.",
        ),
        Handoff::NotUnderstood => pick(
            lang,
            "I'm sorry, I'm having trouble understanding. Let me connect you with someone at the store who can help. Please hold.",
            "Disculpe, no le estoy entendiendo bien; le comunico con una persona de la tienda que le puede ayudar. Un momento, por favor.",
        ),
        Handoff::ForStaff => pick(
            lang,
            "Let me connect you with someone at the store who can help with that. Please hold.",
            "Le comunico con una persona de la tienda que le puede ayudar con eso. Un momento, por favor.",
        ),
    }
}

/// "It'll be ready for pickup in about 20 minutes."
pub(crate) fn ready_in(lang: Language, kind: FulfillmentKind, minutes: u32) -> String {
    match kind {
        FulfillmentKind::Pickup => pick(
            lang,
            &format!("It'll be ready for pickup in about {minutes} minutes."),
            &format!("Estará lista para recoger en unos {minutes} minutos."),
        ),
        FulfillmentKind::Delivery => pick(
            lang,
            &format!("It'll be delivered in about {minutes} minutes."),
            &format!("Llegará a su domicilio en unos {minutes} minutos."),
        ),
    }
}

/// The order is placed; `when` is [`ready_in`].
pub(crate) fn order_placed(lang: Language, when: &str, store: &str) -> String {
    pick(
        lang,
        &format!("Great, your order is in! {when} Thanks for calling {store}. Goodbye!"),
        &format!("¡Listo, su orden está confirmada! {when} Gracias por llamar a {store}. ¡Adiós!"),
    )
}

// ---------------------------------------------------------------------------------------------
// Not heard, not understood.

/// A `<Gather>` timed out.
pub(crate) fn heard_nothing(lang: Language) -> String {
    pick(
        lang,
        "Sorry, I didn't hear anything.",
        "Perdón, no le escuché.",
    )
}

/// Keys pressed where speech was expected.
pub(crate) fn say_it_instead(lang: Language) -> String {
    pick(
        lang,
        "Sorry, please tell me instead.",
        "Perdón, por favor dígamelo.",
    )
}

/// Before repeating the question the caller did not catch.
pub(crate) fn sure(lang: Language) -> String {
    pick(lang, "Sure.", "Claro.")
}

/// Nothing in the utterance made sense.
pub(crate) fn didnt_catch(lang: Language) -> String {
    pick(
        lang,
        "Sorry, I didn't catch that.",
        "Perdón, no le entendí.",
    )
}

/// Thanks the caller by the name they just gave.
pub(crate) fn thanks_name(lang: Language, name: &str) -> String {
    pick(
        lang,
        &format!("Thanks, {name}."),
        &format!("Gracias, {name}."),
    )
}

/// Words the recogniser should expect after a yes/no question.
pub(crate) fn yes_no_hints(lang: Language) -> Vec<String> {
    match lang {
        Language::En => vec!["yes".into(), "no".into()],
        Language::Es => vec!["sí".into(), "no".into()],
    }
}

// ---------------------------------------------------------------------------------------------
// Taking the order.

/// Asked again after the caller said nothing orderable.
pub(crate) fn what_would_you_like(lang: Language) -> String {
    pick(lang, "What would you like?", "¿Qué le gustaría ordenar?")
}

/// Asked when the order is (again) empty after the first turn.
pub(crate) fn what_would_you_like_to_order(lang: Language) -> String {
    pick(
        lang,
        "What would you like to order?",
        "¿Qué le gustaría ordenar?",
    )
}

/// Asked while the caller is still ordering.
pub(crate) fn anything_else(lang: Language) -> String {
    pick(lang, "Anything else?", "¿Algo más?")
}

/// "Anything else?" — "Yes."
pub(crate) fn what_else(lang: Language) -> String {
    pick(
        lang,
        "Sure, what else would you like?",
        "Claro, ¿qué más le gustaría ordenar?",
    )
}

/// "That's all" with nothing ordered.
pub(crate) fn nothing_ordered_yet(lang: Language) -> String {
    pick(
        lang,
        "I don't have anything on your order yet. What would you like to order?",
        "Todavía no tengo nada en su orden. ¿Qué le gustaría ordenar?",
    )
}

/// The caller said no to "did you say …?".
pub(crate) fn sorry_about_that(lang: Language) -> String {
    pick(lang, "Sorry about that.", "Perdón.")
}

/// The caller said no to the offer of an item they asked about.
pub(crate) fn no_problem(lang: Language) -> String {
    pick(lang, "No problem.", "Está bien.")
}

/// The caller said no to the read-back.
pub(crate) fn what_to_change(lang: Language) -> String {
    pick(
        lang,
        "Sorry about that. What would you like to change?",
        "Perdón. ¿Qué le gustaría cambiar?",
    )
}

/// "What do I have?": the order so far.
pub(crate) fn so_far(lang: Language, items: &[String]) -> String {
    pick(
        lang,
        &format!("So far I have {}.", list(lang, items, false)),
        &format!("Hasta ahora tengo {}.", list(lang, items, false)),
    )
}

/// "Did you say two Pepperoni Pizzas?" about lines held for confirmation.
pub(crate) fn did_you_say(lang: Language, said: &[String]) -> String {
    pick(
        lang,
        &format!("Did you say {}?", list(lang, said, false)),
        &format!("Entendí {}. ¿Es correcto?", list(lang, said, false)),
    )
}

/// "Which pizza would you like: …?" after a category word; `word` is the category word when
/// the item names use it.
pub(crate) fn which_item(lang: Language, word: Option<&str>, names: &[String]) -> String {
    match word {
        Some(word) => pick(
            lang,
            &format!("Which {word} would you like: {}?", list(lang, names, true)),
            &format!("¿Cuál {word} quiere: {}?", list(lang, names, true)),
        ),
        None => pick(
            lang,
            &format!("Which one would you like: {}?", list(lang, names, true)),
            &format!("¿Cuál quiere: {}?", list(lang, names, true)),
        ),
    }
}

/// "What size would you like for the Pepperoni Pizza: small, medium or large?"
pub(crate) fn what_size(lang: Language, menu: &Menu, line: &Draft, sizes: &[String]) -> String {
    match lang {
        Language::En => format!(
            "What size would you like for the {}: {}?",
            describe(lang, menu, line, false),
            list(lang, sizes, true)
        ),
        Language::Es => format!(
            "¿De qué tamaño quiere {}: {}?",
            speech::the(lang, menu, line),
            list(lang, sizes, true)
        ),
    }
}

/// "Which wing sauce would you like for the Buffalo Wings: hot, mild or barbecue?"
pub(crate) fn which_option(
    lang: Language,
    menu: &Menu,
    line: &Draft,
    group: &str,
    options: &[String],
) -> String {
    let what = group.to_lowercase();
    match lang {
        Language::En => format!(
            "Which {what} would you like for the {}: {}?",
            describe(lang, menu, line, false),
            list(lang, options, true)
        ),
        Language::Es => format!(
            "¿Cuál {what} quiere para {}: {}?",
            speech::the(lang, menu, line),
            list(lang, options, true)
        ),
    }
}

/// More options of one group said for a line than the group allows ("hot and mild" for one
/// sauce). `max` is the group's maximum; `each` when the line is as many orders as options said,
/// so "one of each" is offered.
pub(crate) fn too_many_options(
    lang: Language,
    menu: &Menu,
    line: &Draft,
    group: &str,
    (max, each): (u32, bool),
    names: &[String],
) -> String {
    let what = group.to_lowercase();
    let name = describe(lang, menu, line, false);
    let the = speech::the(lang, menu, line);
    let one = describe(
        lang,
        menu,
        &Draft {
            quantity: 1,
            ..line.clone()
        },
        false,
    );
    let each_one = if menu.items[line.item].name.ends_with('s') {
        format!("each order of {one}")
    } else {
        format!("each {one}")
    };
    match (max, each) {
        (1, true) => pick(
            lang,
            &format!(
                "Sorry, {each_one} comes with one {what}. Which would you like: {}, or one of each?",
                list(lang, names, true)
            ),
            &format!(
                "Lo siento, cada orden lleva solo una opción de {what}. ¿Cuál prefiere: {}, o una de cada una?",
                list(lang, names, true)
            ),
        ),
        (1, false) => pick(
            lang,
            &format!(
                "Sorry, I can only put one {what} on the {name}. Which would you like: {}?",
                list(lang, names, true)
            ),
            &format!(
                "Lo siento, solo puedo poner una opción de {what} en {the}. ¿Cuál prefiere: {}?",
                list(lang, names, true)
            ),
        ),
        (max, _) => pick(
            lang,
            &format!(
                "Sorry, the {name} can have up to {max} {what} choices. Which {max} would you like: {}?",
                list(lang, names, false)
            ),
            &format!(
                "Lo siento, {the} lleva como máximo {max} opciones de {what}. ¿Cuáles prefiere: {}?",
                list(lang, names, false)
            ),
        ),
    }
}

/// What a turn did to the order: lines swapped, removed, added, changed (each list may be
/// empty). `None` when nothing is to be said.
/// "Sorry, we're out of the Margherita Pizza today."
pub(crate) fn sold_out(lang: Language, names: &[String]) -> String {
    let names = list(lang, names, false);
    pick(
        lang,
        &format!("Sorry, we're out of the {names} today."),
        &format!("Lo siento, hoy no nos queda {names}."),
    )
}

pub(crate) fn acknowledgement(
    lang: Language,
    added: &[String],
    removed: &[String],
    changed: &[String],
) -> Option<String> {
    let mut parts = Vec::new();
    if !removed.is_empty() && !added.is_empty() && changed.is_empty() {
        parts.push(pick(
            lang,
            &format!(
                "Okay, {} instead of {}.",
                list(lang, added, false),
                list(lang, removed, false)
            ),
            &format!(
                "Muy bien, {} en lugar de {}.",
                list(lang, added, false),
                list(lang, removed, false)
            ),
        ));
        return Some(parts.join(" "));
    }
    if !removed.is_empty() {
        parts.push(pick(
            lang,
            &format!("Okay, I took off {}.", list(lang, removed, false)),
            &format!("Muy bien, quité {}.", list(lang, removed, false)),
        ));
    }
    if !added.is_empty() {
        parts.push(pick(
            lang,
            &format!("Got it: {}.", list(lang, added, false)),
            &format!("Muy bien: {}.", list(lang, added, false)),
        ));
    }
    if !changed.is_empty() {
        parts.push(pick(
            lang,
            &format!("Okay, {}.", list(lang, changed, false)),
            &format!("Muy bien, {}.", list(lang, changed, false)),
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

// ---------------------------------------------------------------------------------------------
// Answers to the caller's questions about the menu.

/// "We have pizzas, wings and drinks."
pub(crate) fn we_have(lang: Language, names: &[String]) -> String {
    pick(
        lang,
        &format!("We have {}.", list(lang, names, false)),
        &format!("Tenemos {}.", list(lang, names, false)),
    )
}

/// "For pizzas we have Pepperoni, Margherita and Hawaiian."
pub(crate) fn for_kind_we_have(lang: Language, kind: &str, names: &[String]) -> String {
    pick(
        lang,
        &format!("For {kind} we have {}.", list(lang, names, false)),
        &format!("De {kind} tenemos {}.", list(lang, names, false)),
    )
}

/// "Sorry, we don't have calzones. We do have …"; `close` are the nearest item names, and
/// `otherwise` what to say when there are none.
pub(crate) fn dont_have(lang: Language, what: &str, close: &[String], otherwise: String) -> String {
    let alternatives = if close.is_empty() {
        otherwise
    } else {
        pick(
            lang,
            &format!("We do have {}.", list(lang, close, false)),
            &format!("Sí tenemos {}.", list(lang, close, false)),
        )
    };
    pick(
        lang,
        &format!("Sorry, we don't have {what}. {alternatives}"),
        &format!("Lo siento, no tenemos {what}. {alternatives}"),
    )
}

/// "Yes, we have Oat Milk for $0.75 extra."
pub(crate) fn yes_we_have_option(lang: Language, name: &str, price_cents: i64) -> String {
    let extra = if price_cents > 0 {
        pick(
            lang,
            &format!(" for {} extra", money(price_cents)),
            &format!(" por {} extra", money(price_cents)),
        )
    } else {
        String::new()
    };
    pick(
        lang,
        &format!("Yes, we have {name}{extra}."),
        &format!("Sí, tenemos {name}{extra}."),
    )
}

/// "How much is that?": the order so far.
pub(crate) fn total_so_far(lang: Language, total: i64) -> String {
    pick(
        lang,
        &format!("So far your total is {} with tax.", money(total)),
        &format!("Hasta ahora su total es {} con impuestos.", money(total)),
    )
}

/// One size's price in a price range: "$12.99 for small" / "$12.99 el chico".
pub(crate) fn price_for_size(lang: Language, cents: i64, size: &str) -> String {
    pick(
        lang,
        &format!("{} for {size}", money(cents)),
        &format!("{} el {size}", money(cents)),
    )
}

/// "Garlic Knots are $5.99." / "Pepperoni Pizza is $12.99 for small, …"; `range` is the price
/// or the sizes' prices.
pub(crate) fn item_costs_range(lang: Language, name: &str, range: &str) -> String {
    let plural = name.ends_with('s');
    pick(
        lang,
        &format!("{} {} {}.", name, if plural { "are" } else { "is" }, range),
        &format!(
            "{} {} {}.",
            name,
            if plural { "cuestan" } else { "cuesta" },
            range
        ),
    )
}

/// "A large Pepperoni Pizza is $15.99." for one unit of `line`.
pub(crate) fn line_costs(lang: Language, menu: &Menu, line: &Draft, unit: Option<i64>) -> String {
    let price = unit.map_or_else(String::new, money);
    match lang {
        Language::En => format!(
            "{} is {price}.",
            capitalise(&describe(lang, menu, line, true))
        ),
        Language::Es => format!(
            "{} cuesta {price}.",
            capitalise(&speech::the(lang, menu, line))
        ),
    }
}

/// "Yes, we have the Supreme Pizza: …. " before the price, when the item has a description.
pub(crate) fn yes_we_have_described(
    lang: Language,
    name: &str,
    description: &str,
    sentence: &str,
) -> String {
    pick(
        lang,
        &format!("Yes, we have {name}: {description}. {sentence}"),
        &format!("Sí, tenemos {name}: {description}. {sentence}"),
    )
}

/// "A Classic Burger comes with lettuce, tomato and pickles. It's $8.99." for "what comes on…?".
pub(crate) fn comes_with(lang: Language, name: &str, options: &[String], sentence: &str) -> String {
    let list = crate::speech::list(lang, options, false);
    pick(
        lang,
        &format!("The {name} comes with {list}. {sentence}"),
        &format!("{name} viene con {list}. {sentence}"),
    )
}

/// "The Burrito comes with your choice of protein: al pastor, … or veggie.", for an item whose
/// store lists no `includes` but makes the caller choose.
pub(crate) fn comes_with_a_choice(
    lang: Language,
    name: &str,
    group: &str,
    options: &[String],
    sentence: &str,
) -> String {
    let list = crate::speech::list(lang, options, true);
    let group = group.to_lowercase();
    pick(
        lang,
        &format!("The {name} comes with your choice of {group}: {list}. {sentence}"),
        &format!("{name} viene con {group} a escoger: {list}. {sentence}"),
    )
}

/// "Yes, we have it." before the price, for "do you have …?".
pub(crate) fn yes_we_have_it(lang: Language, sentence: &str) -> String {
    pick(
        lang,
        &format!("Yes, we have it. {sentence}"),
        &format!("Sí, lo tenemos. {sentence}"),
    )
}

/// The offer after answering about an item.
pub(crate) fn would_you_like_one(lang: Language) -> String {
    pick(lang, "Would you like one?", "¿Quiere que se lo agregue?")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Pickup or delivery.

/// "Will that be for pickup or delivery?"
pub(crate) fn pickup_or_delivery(lang: Language) -> String {
    pick(
        lang,
        "Will that be for pickup or delivery?",
        "¿Es para recoger o a domicilio?",
    )
}

/// The caller asked for the one the store does not do; `pickup` is what it does.
pub(crate) fn we_only_do(lang: Language, pickup: bool) -> String {
    if pickup {
        pick(
            lang,
            "Sorry, we only do pickup.",
            "Perdón, solo tenemos servicio para recoger.",
        )
    } else {
        pick(
            lang,
            "Sorry, we only do delivery.",
            "Perdón, solo tenemos entrega a domicilio.",
        )
    }
}

/// The order is below the delivery minimum.
pub(crate) fn below_delivery_minimum(lang: Language, minimum: i64, subtotal: i64) -> String {
    pick(
        lang,
        &format!(
            "Delivery orders need at least {} before tax, and you're at {} so far. What else would you like to add?",
            money(minimum),
            money(subtotal)
        ),
        &format!(
            "Para entrega a domicilio el mínimo es {} antes de impuestos y su orden va en {}. ¿Desea agregar algo más?",
            money(minimum),
            money(subtotal)
        ),
    )
}

/// Offered when the caller will not add more to reach the delivery minimum.
pub(crate) fn switch_to_pickup(lang: Language) -> String {
    pick(
        lang,
        "Would you like to make it a pickup order instead?",
        "¿Quiere cambiarla a una orden para recoger?",
    )
}

/// The caller will neither reach the minimum nor pick up.
pub(crate) fn cannot_deliver_below_minimum(lang: Language) -> String {
    pick(
        lang,
        "Sorry, we can't deliver an order below the minimum.",
        "Lo siento, no podemos entregar una orden por debajo del mínimo.",
    )
}

/// "What's the delivery address?"
pub(crate) fn ask_address(lang: Language) -> String {
    pick(
        lang,
        "What's the delivery address?",
        "¿Cuál es la dirección de entrega?",
    )
}

// ---------------------------------------------------------------------------------------------
// Name and phone.

/// "What name should I put the order under?"
pub(crate) fn ask_name(lang: Language) -> String {
    pick(
        lang,
        "What name should I put the order under?",
        "¿A nombre de quién pongo la orden?",
    )
}

/// "Is the number ending in 4321 the best one?"
pub(crate) fn confirm_phone(lang: Language, last4: &str) -> String {
    pick(
        lang,
        &format!("And is the number ending in {last4} the best one to reach you?"),
        &format!("¿Le podemos llamar al número que termina en {last4}?"),
    )
}

/// "What's the best phone number to reach you?"
pub(crate) fn ask_phone(lang: Language) -> String {
    pick(
        lang,
        "What's the best phone number to reach you?",
        "¿A qué número le podemos llamar?",
    )
}

// ---------------------------------------------------------------------------------------------
// The read-back.

/// What the read-back says about the money: the total, with the delivery fee for delivery.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Total {
    /// The order could not be priced: nothing is said.
    Unknown,
    /// Pickup: the total with tax.
    Pickup(i64),
    /// Delivery: the fee, and the total with tax and fee.
    Delivery { fee: i64, total: i64 },
}

/// "Here's your order: a large Pepperoni Pizza, for pickup under Sam. Your total with tax is
/// $16.39. Is that correct?"; `address` only for delivery.
pub(crate) fn read_back(
    lang: Language,
    items: &[String],
    name: &str,
    address: Option<&str>,
    at: Option<&str>,
    total: Total,
) -> String {
    let mut how = match (address, lang) {
        (None, Language::En) => format!("for pickup under {name}"),
        (None, Language::Es) => format!("para recoger a nombre de {name}"),
        (Some(address), Language::En) => format!("for delivery to {address} under {name}"),
        (Some(address), Language::Es) => format!("a domicilio en {address} a nombre de {name}"),
    };
    if let Some(at) = at {
        how = match lang {
            Language::En => format!("{how}, ready at {at}"),
            Language::Es => format!("{how}, lista {at}"),
        };
    }
    let total_text = match total {
        Total::Pickup(cents) => pick(
            lang,
            &format!("Your total with tax is {}.", money(cents)),
            &format!("El total con impuestos es {}.", money(cents)),
        ),
        Total::Delivery { fee, total } => pick(
            lang,
            &format!(
                "With tax and the {} delivery fee, your total is {}.",
                money(fee),
                money(total)
            ),
            &format!(
                "Con impuestos y {} de entrega, el total es {}.",
                money(fee),
                money(total)
            ),
        ),
        Total::Unknown => String::new(),
    };
    pick(
        lang,
        &format!(
            "Here's your order: {}, {how}. {total_text} Is that correct?",
            list(lang, items, false)
        ),
        &format!(
            "Su orden: {}, {how}. {total_text} ¿Es correcto?",
            list(lang, items, false)
        ),
    )
}
