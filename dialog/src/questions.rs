//! Which question comes next, computed from the state alone.
//!
//! Why from the state alone: a turn's handler only records what the caller said; it never has
//! to know what to ask next. The order of the checks below is the order a call goes through
//! (confirm guesses, settle the items, finish ordering, then pickup or delivery, the address,
//! the name, the number, and the read-back), so a caller who volunteers something early simply
//! skips its question, and a fix at the read-back lands back at the right step.

use kea_menu::{FulfillmentKind, Menu, OrderLine, price_order};

use crate::order::{Draft, Work};
use crate::pricing::subtotal_unchecked;
use crate::prompts::{self, Total};
use crate::speech::{self, describe};
use crate::state::{Asked, DialogState, Question, Split, to_order_line};
use crate::understand::parse_phone;
use crate::{Context, Language};

/// The next thing to ask, given everything known; fills in what needs no question (the only
/// fulfillment a store offers, a number the caller already gave).
pub(crate) fn next_question(s: &mut DialogState, ctx: &Context) -> Question {
    let lang = s.language;
    let menu = &ctx.store.menu;
    let work = Work::new(menu, &s.lines, &s.held, None);
    if let Some(question) = confirm_held(lang, menu, &work) {
        return question;
    }
    if let Some(question) = which_item(s, menu) {
        return question;
    }
    if let Some(split) = s.split.clone() {
        match split_question(lang, menu, &work, &split) {
            Some(question) => return question,
            None => s.split = None,
        }
    }
    if let Some(question) = line_details(lang, menu, &work) {
        return question;
    }
    if let Some(question) = still_ordering(s) {
        return question;
    }
    if let Some(question) = fulfillment(s, ctx) {
        return question;
    }
    if s.name.is_none() {
        return Question::new(Asked::Name, prompts::ask_name(lang));
    }
    if let Some(question) = phone(s) {
        return question;
    }
    Question::with_hints(
        Asked::ReadBack,
        read_back(s, ctx),
        prompts::yes_no_hints(lang),
    )
}

/// "Did you say …?" about the lines held for confirmation.
fn confirm_held(lang: Language, menu: &Menu, work: &Work) -> Option<Question> {
    let held: Vec<&Draft> = work.lines.iter().filter(|d| d.held).collect();
    if held.is_empty() {
        return None;
    }
    let said: Vec<String> = held.iter().map(|d| describe(lang, menu, d, true)).collect();
    Some(Question::with_hints(
        Asked::ConfirmItems,
        prompts::did_you_say(lang, &said),
        prompts::yes_no_hints(lang),
    ))
}

/// "Which pizza would you like: …?" after a category word.
fn which_item(s: &DialogState, menu: &Menu) -> Option<Question> {
    let c = s.clarify.as_ref()?;
    let items: Vec<usize> = c
        .skus
        .iter()
        .filter_map(|sku| menu.items.iter().position(|i| i.sku == *sku))
        .collect();
    let names: Vec<String> = items
        .iter()
        .map(|&i| speech::short_name(&menu.items[i]))
        .collect();
    let kind = speech::category_word(menu, &items);
    let text = prompts::which_item(s.language, kind.as_deref(), &names);
    Some(Question::with_hints(Asked::Clarify, text, names))
}

/// "Sorry, I can only put one wing sauce on the Buffalo Wings. Which would you like: hot or
/// mild?" — or `None` when the line has since gone or been settled.
fn split_question(lang: Language, menu: &Menu, work: &Work, split: &Split) -> Option<Question> {
    let (g, options) = split.resolve(menu)?;
    let draft = work.lines.get(split.line)?;
    let group = &menu.modifier_groups[g];
    let item = &menu.items[draft.item];
    if item.sku != split.sku
        || !item.modifier_groups.contains(&group.id)
        || draft.mods.iter().any(|(dg, _)| *dg == g)
    {
        return None;
    }
    let names: Vec<String> = options
        .iter()
        .map(|&o| group.options[o].name.clone())
        .collect();
    let max = group.max.max(1);
    let each = draft.quantity as usize == options.len();
    let text = prompts::too_many_options(lang, menu, draft, &group.name, (max, each), &names);
    Some(Question::with_hints(
        Asked::Choice {
            line: split.line,
            group: g,
        },
        text,
        names,
    ))
}

/// The first line missing a size, or a choice its item requires.
fn line_details(lang: Language, menu: &Menu, work: &Work) -> Option<Question> {
    for (index, draft) in work.lines.iter().enumerate() {
        let item = &menu.items[draft.item];
        if !item.sizes.is_empty() && draft.size.is_none() && item.default_size.is_none() {
            let sizes: Vec<String> = item
                .sizes
                .iter()
                .map(|z| speech::size_word(lang, &z.name))
                .collect();
            return Some(Question::with_hints(
                Asked::Size { line: index },
                prompts::what_size(lang, menu, draft, &sizes),
                item.sizes.iter().map(|z| z.name.clone()).collect(),
            ));
        }
        for id in &item.modifier_groups {
            let Some(g) = menu.modifier_groups.iter().position(|g| g.id == *id) else {
                continue;
            };
            let group = &menu.modifier_groups[g];
            let chosen = draft.mods.iter().filter(|(dg, _)| *dg == g).count();
            if group.min > 0 && u32::try_from(chosen).unwrap_or(u32::MAX) < group.min {
                let options: Vec<String> = group.options.iter().map(|o| o.name.clone()).collect();
                let text = prompts::which_option(lang, menu, draft, &group.name, &options);
                return Some(Question::with_hints(
                    Asked::Choice {
                        line: index,
                        group: g,
                    },
                    text,
                    options,
                ));
            }
        }
    }
    None
}

/// "What can I get for you?" while the order is empty, "Anything else?" until the caller is
/// done.
fn still_ordering(s: &mut DialogState) -> Option<Question> {
    let lang = s.language;
    if s.lines.is_empty() {
        s.ordering_done = false;
        let text = if s.asked == Asked::Nothing || s.turns <= 1 {
            prompts::what_can_i_get(lang)
        } else {
            prompts::what_would_you_like_to_order(lang)
        };
        return Some(Question::new(Asked::Order, text));
    }
    if !s.ordering_done {
        return Some(Question::new(Asked::Order, prompts::anything_else(lang)));
    }
    None
}

/// Pickup or delivery (chosen without asking when the store offers one), then for delivery the
/// minimum and the address.
fn fulfillment(s: &mut DialogState, ctx: &Context) -> Option<Question> {
    let lang = s.language;
    let store = ctx.store;
    let f = &store.fulfillment;
    if s.fulfillment.is_none() {
        match (f.pickup, f.delivery) {
            (true, true) => {
                return Some(Question::with_hints(
                    Asked::Fulfillment,
                    prompts::pickup_or_delivery(lang),
                    vec!["pickup".into(), "delivery".into()],
                ));
            }
            (false, true) => s.fulfillment = Some(FulfillmentKind::Delivery),
            _ => s.fulfillment = Some(FulfillmentKind::Pickup),
        }
    }
    if s.fulfillment != Some(FulfillmentKind::Delivery) {
        return None;
    }
    let lines: Vec<OrderLine> = s.lines.iter().map(to_order_line).collect();
    let subtotal: i64 = subtotal_unchecked(store, &lines);
    if subtotal < f.delivery_minimum_cents {
        s.ordering_done = false;
        return Some(Question::new(
            Asked::AddMore,
            prompts::below_delivery_minimum(lang, f.delivery_minimum_cents, subtotal),
        ));
    }
    if s.address.is_none() {
        return Some(Question::new(Asked::Address, prompts::ask_address(lang)));
    }
    None
}

/// The callback number: the caller ID confirmed, or a number asked for when there is none.
fn phone(s: &mut DialogState) -> Option<Question> {
    if s.phone_confirmed {
        return None;
    }
    let lang = s.language;
    let caller = parse_phone(&s.caller_id);
    match (&s.phone, caller) {
        (None, Some(number)) => {
            let last4: String = number
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            Some(Question::with_hints(
                Asked::ConfirmPhone,
                prompts::confirm_phone(lang, &last4),
                prompts::yes_no_hints(lang),
            ))
        }
        (Some(_), _) => {
            s.phone_confirmed = true;
            None
        }
        (None, None) => Some(Question::new(Asked::Phone, prompts::ask_phone(lang))),
    }
}

/// "Here's your order: …, for pickup under Sam. Your total with tax is $16.39. Is that
/// correct?"
fn read_back(s: &DialogState, ctx: &Context) -> String {
    let lang = s.language;
    let menu = &ctx.store.menu;
    let work = Work::new(menu, &s.lines, &[], None);
    let items: Vec<String> = work
        .lines
        .iter()
        .map(|d| describe(lang, menu, d, true))
        .collect();
    let kind = s.fulfillment.unwrap_or(FulfillmentKind::Pickup);
    let lines: Vec<OrderLine> = s.lines.iter().map(to_order_line).collect();
    let total = match (price_order(ctx.store, &lines, kind), kind) {
        (Ok(p), FulfillmentKind::Pickup) => Total::Pickup(p.total_cents),
        (Ok(p), FulfillmentKind::Delivery) => Total::Delivery {
            fee: ctx.store.fulfillment.delivery_fee_cents,
            total: p.total_cents,
        },
        (Err(_), _) => Total::Unknown,
    };
    let name = s.name.clone().unwrap_or_default();
    let address = match kind {
        FulfillmentKind::Pickup => None,
        FulfillmentKind::Delivery => Some(s.address.clone().unwrap_or_default()),
    };
    let at = s
        .ready_at
        .map(|at| prompts::clock_time(lang, at.with_timezone(&ctx.store.time_zone())));
    prompts::read_back(
        lang,
        &items,
        &name,
        address.as_deref(),
        at.as_deref(),
        total,
    )
}
