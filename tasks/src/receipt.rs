//! The texts kea sends callers, as pure functions of the order (English and Spanish).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// One line as the caller ordered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine<'a> {
    /// How many.
    pub quantity: i32,
    /// The size, when the item has sizes.
    pub size: Option<&'a str>,
    /// The item's name.
    pub name: &'a str,
    /// Its options as a kitchen reads them ("No Onions", "Extra Cheese"), for stores with
    /// portions (other stores' receipts name items only, as before).
    pub options: Vec<String>,
}

/// What a text about an order says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderText<'a> {
    /// The store's name.
    pub store_name: &'a str,
    /// The store's phone number (E.164), for the caller to call back.
    pub store_phone: &'a str,
    /// The store's IANA time zone, for the ready time.
    pub timezone: &'a str,
    /// The caller's name, if given.
    pub customer_name: Option<&'a str>,
    /// The lines.
    pub lines: Vec<ReceiptLine<'a>>,
    /// What the caller pays, in cents.
    pub total_cents: i64,
    /// `pickup` or `delivery`.
    pub fulfillment: &'a str,
    /// When the order will be ready (or leave the store).
    pub ready_at: Option<DateTime<Utc>>,
    /// The call's language (BCP 47); Spanish for `es…`, English otherwise.
    pub language: &'a str,
}

/// `$12.34`: whole dollars and two-digit cents, with no rounding anywhere.
#[must_use]
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}${}.{:02}", c / 100, c % 100)
}

fn spanish(t: &OrderText<'_>) -> bool {
    t.language.starts_with("es")
}

fn items(t: &OrderText<'_>) -> String {
    t.lines
        .iter()
        .map(|l| {
            let line = match l.size {
                Some(size) => format!("{} {} {}", l.quantity, size, l.name),
                None => format!("{} {}", l.quantity, l.name),
            };
            if l.options.is_empty() {
                line
            } else {
                format!("{line} ({})", l.options.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "7:45 PM" in the store's time zone (UTC if the zone is unknown).
fn local_time(at: DateTime<Utc>, timezone: &str) -> String {
    match timezone.parse::<Tz>() {
        Ok(tz) => at.with_timezone(&tz).format("%-I:%M %p").to_string(),
        Err(_) => at.format("%-I:%M %p UTC").to_string(),
    }
}

/// The receipt: store, items, total in dollars and cents, and when it will be ready.
#[must_use]
pub fn receipt(t: &OrderText<'_>) -> String {
    let es = spanish(t);
    let hello = match (t.customer_name.filter(|n| !n.is_empty()), es) {
        (Some(name), false) => format!("Thanks, {name}! "),
        (Some(name), true) => format!("¡Gracias, {name}! "),
        (None, false) => "Thanks! ".to_owned(),
        (None, true) => "¡Gracias! ".to_owned(),
    };
    let when = t.ready_at.map(|at| local_time(at, t.timezone));
    let ready = match (t.fulfillment, when, es) {
        ("delivery", Some(w), false) => format!(" Out for delivery around {w}."),
        ("delivery", Some(w), true) => format!(" Sale para entrega alrededor de las {w}."),
        (_, Some(w), false) => format!(" Ready for pickup around {w}."),
        (_, Some(w), true) => format!(" Listo para recoger alrededor de las {w}."),
        (_, None, _) => String::new(),
    };
    if es {
        format!(
            "{}: {hello}Su pedido: {}. Total {}.{ready}",
            t.store_name,
            items(t),
            dollars(t.total_cents)
        )
    } else {
        format!(
            "{}: {hello}Your order: {}. Total {}.{ready}",
            t.store_name,
            items(t),
            dollars(t.total_cents)
        )
    }
}

/// Why kea could not place the order after all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem<'a> {
    /// An agent rejected it, saying why to the caller (or not).
    Rejected(Option<&'a str>),
    /// The store's POS did not take it (an agent is phoning the store).
    PosFailed,
}

/// The text telling the caller their order did not go through, and what happens next.
#[must_use]
pub fn problem(t: &OrderText<'_>, problem: Problem<'_>) -> String {
    let total = dollars(t.total_cents);
    let why = |reason: Option<&str>| {
        reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| format!(" {}", r.trim_end_matches('.').to_owned() + "."))
            .unwrap_or_default()
    };
    match (problem, spanish(t)) {
        (Problem::Rejected(reason), false) => format!(
            "{}: sorry, we could not accept your order ({total}).{} You have not been charged. \
             Please call us at {} to order.",
            t.store_name,
            why(reason),
            t.store_phone
        ),
        (Problem::Rejected(reason), true) => format!(
            "{}: lo sentimos, no pudimos aceptar su pedido ({total}).{} No se le ha cobrado. \
             Llámenos al {} para pedir.",
            t.store_name,
            why(reason),
            t.store_phone
        ),
        (Problem::PosFailed, false) => format!(
            "{}: we're having trouble sending your order ({total}) to the kitchen. A team member \
             is calling the store now; if you don't hear from us, please call {}.",
            t.store_name, t.store_phone
        ),
        (Problem::PosFailed, true) => format!(
            "{}: tenemos problemas para enviar su pedido ({total}) a la cocina. Alguien de \
             nuestro equipo está llamando a la tienda; si no le contactamos, llame al {}.",
            t.store_name, t.store_phone
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(language: &'static str, fulfillment: &'static str) -> OrderText<'static> {
        OrderText {
            store_name: "Tony's Pizza",
            store_phone: "+15550100001",
            timezone: "America/New_York",
            customer_name: Some("Dana"),
            lines: vec![
                ReceiptLine {
                    quantity: 1,
                    size: Some("large"),
                    name: "Pepperoni Pizza",
                    options: Vec::new(),
                },
                ReceiptLine {
                    quantity: 2,
                    size: None,
                    name: "Garlic Knots",
                    options: Vec::new(),
                },
            ],
            total_cents: 2718,
            fulfillment,
            // 2026-11-26 23:45 UTC is 6:45 PM in New York.
            ready_at: "2026-11-26T23:45:00Z".parse().ok(),
            language,
        }
    }

    #[test]
    fn dollars_and_cents_are_exact() {
        let cases = [
            (0, "$0.00"),
            (5, "$0.05"),
            (99, "$0.99"),
            (100, "$1.00"),
            (2718, "$27.18"),
            (123_456_789, "$1234567.89"),
            (-250, "-$2.50"),
        ];
        for (cents, want) in cases {
            assert_eq!(dollars(cents), want);
        }
    }

    #[test]
    fn receipt_names_store_items_total_and_local_ready_time() {
        assert_eq!(
            receipt(&text("en-US", "pickup")),
            "Tony's Pizza: Thanks, Dana! Your order: 1 large Pepperoni Pizza, 2 Garlic Knots. \
             Total $27.18. Ready for pickup around 6:45 PM."
        );
        assert!(receipt(&text("en-US", "delivery")).ends_with("Out for delivery around 6:45 PM."));
    }

    #[test]
    fn spanish_callers_get_spanish_texts() {
        let r = receipt(&text("es-US", "pickup"));
        assert!(r.contains("Su pedido: 1 large Pepperoni Pizza"), "{r}");
        assert!(r.contains("Total $27.18"), "{r}");
        let p = problem(&text("es-US", "pickup"), Problem::Rejected(None));
        assert!(
            p.contains("no pudimos aceptar") && p.contains("+15550100001"),
            "{p}"
        );
    }

    #[test]
    fn a_receipt_names_the_options_it_was_given() {
        let mut t = text("en-US", "pickup");
        t.lines[0].options = vec!["No Onions".to_owned(), "Extra Cheese".to_owned()];
        let r = receipt(&t);
        assert!(
            r.contains("1 large Pepperoni Pizza (No Onions, Extra Cheese), 2 Garlic Knots"),
            "{r}"
        );
    }

    #[test]
    fn problem_texts_say_what_happens_next() {
        let t = text("en-US", "pickup");
        assert!(problem(&t, Problem::Rejected(None)).contains("not been charged"));
        let p = problem(&t, Problem::Rejected(Some(" We don't deliver that far ")));
        assert!(
            p.contains("($27.18). We don't deliver that far. You have not"),
            "{p}"
        );
        assert!(problem(&t, Problem::PosFailed).contains("calling the store"));
        assert!(problem(&t, Problem::PosFailed).contains("$27.18"));
    }

    #[test]
    fn unknown_zone_and_missing_name_still_make_a_text() {
        let mut t = text("en-US", "pickup");
        t.timezone = "Mars/Olympus";
        t.customer_name = None;
        let r = receipt(&t);
        assert!(
            r.contains("Thanks! ") && r.ends_with("11:45 PM UTC."),
            "{r}"
        );
    }
}
