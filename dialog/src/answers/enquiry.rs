//! The caller's own questions ("what pizzas do you have?", "how much is a large?", "do you have
//! oat milk?"), and what to say about things that are not on the menu.
//!
//! A question is answered whatever was asked before it (except a name or an address, which
//! are read whole), and the dialog then goes back to taking the order. An answer about one item
//! offers it ("Would you like one?"), remembering it as discussed for "I'll take one".

use kea_menu::matcher::Target;
use kea_menu::{FulfillmentKind, Item, Menu, OrderLine, price_order};

use super::Reply;
use crate::order::{Draft, Work};
use crate::pricing::{line_price, subtotal_unchecked};
use crate::speech::{self, list};
use crate::state::{Asked, DialogState, Question, to_order_line};
use crate::understand::{Analysis, Mention};
use crate::{Context, Language, prompts};

/// Answers a menu or price question, and offers the item when it was about one.
pub(super) fn answer(s: &mut DialogState, an: &Analysis, ctx: &Context, reply: &mut Reply) {
    let lang = s.language;
    let menu = &ctx.store.menu;
    let mut scratch = Work::new(menu, &[], &[], None);
    let _ = scratch.apply(an);
    let what_next = || Question::new(Asked::Order, prompts::what_would_you_like(lang));
    let question = match (scratch.lines.first(), scratch.clarify.clone()) {
        (None, Some(asking)) => {
            reply
                .say
                .push(about_category(lang, an, menu, &asking.items));
            what_next()
        }
        (Some(first), _) => {
            let first = first.clone();
            reply.say.push(about_item(s, an, ctx, &scratch, &first));
            Question::with_hints(
                Asked::Offer,
                prompts::would_you_like_one(lang),
                prompts::yes_no_hints(lang),
            )
        }
        (None, None) => {
            if let Some(option) = about_option(lang, an, menu) {
                reply.say.push(option);
                what_next()
            } else if let Some(total) = about_total(s, an, ctx) {
                reply.say.push(total);
                Question::new(Asked::Order, prompts::anything_else(lang))
            } else {
                let content = an.content_words();
                if content.is_empty() || an.price_question() {
                    reply.say.push(categories_sentence(lang, menu));
                } else {
                    reply.say.push(refusal(&content.join(" "), ctx, lang));
                }
                what_next()
            }
        }
    };
    reply.question = Some(question);
    s.misses = 0;
}

/// "What pizzas do you have?": the items of the category (with their prices, for "how much
/// are your pizzas?").
fn about_category(lang: Language, an: &Analysis, menu: &Menu, items: &[usize]) -> String {
    let names: Vec<String> = items
        .iter()
        .map(|&i| {
            let item = &menu.items[i];
            if an.price_question() {
                format!("{} {}", speech::short_name(item), price_range(lang, item))
            } else {
                speech::short_name(item)
            }
        })
        .collect();
    let kind = speech::category_word(menu, items)
        .map(|w| format!("{w}s"))
        .or_else(|| {
            let first = menu.items.get(*items.first()?)?.category.clone()?;
            items
                .iter()
                .all(|&i| menu.items[i].category.as_ref() == Some(&first))
                .then(|| first.to_lowercase())
        });
    match kind {
        Some(kind) => prompts::for_kind_we_have(lang, &kind, &names),
        None => prompts::we_have(lang, &names),
    }
}

/// "Do you have oat milk?": an option, with what it costs.
fn about_option(lang: Language, an: &Analysis, menu: &Menu) -> Option<String> {
    let option = an.matches.iter().find_map(|m| {
        m.targets.iter().find_map(|(t, _)| match t {
            Target::Option { group, option } => {
                menu.modifier_groups.get(*group)?.options.get(*option)
            }
            _ => None,
        })
    })?;
    Some(prompts::yes_we_have_option(
        lang,
        &option.name,
        option.price_cents,
    ))
}

/// "How much is that?" with something on the order: the total so far.
fn about_total(s: &DialogState, an: &Analysis, ctx: &Context) -> Option<String> {
    let lines: Vec<OrderLine> = s.lines.iter().map(to_order_line).collect();
    if !an.price_question() || lines.is_empty() {
        return None;
    }
    let kind = s.fulfillment.unwrap_or(FulfillmentKind::Pickup);
    let total = price_order(ctx.store, &lines, kind)
        .or_else(|_| price_order(ctx.store, &lines, FulfillmentKind::Pickup))
        .map(|p| p.total_cents)
        .unwrap_or_else(|_| subtotal_unchecked(ctx.store, &lines));
    Some(prompts::total_so_far(s.language, total))
}

/// "How much is a large pepperoni?", "do you have wings?": the item's price (all its sizes' when
/// none was said), after its description or a "yes, we have it" for a "do you have"; the item
/// is remembered for "I'll take one".
fn about_item(
    s: &mut DialogState,
    an: &Analysis,
    ctx: &Context,
    scratch: &Work,
    first: &Draft,
) -> String {
    let lang = s.language;
    let menu = &ctx.store.menu;
    let item = &menu.items[first.item];
    let mut sentence = match (&first.size, item.sizes.is_empty()) {
        (None, false) => prompts::item_costs_range(lang, &item.name, &price_range(lang, item)),
        _ => {
            let mut one = first.clone();
            one.quantity = 1;
            let line = scratch.to_line(&one);
            let unit = line_price(ctx.store, &line);
            prompts::line_costs(lang, menu, &one, unit)
        }
    };
    let asked_have = an.asks_if_we_have();
    // What it comes with (store.md's `includes`), in the caller's language.
    let comes_with: Vec<String> = item
        .includes
        .iter()
        .filter_map(|(group_id, skus)| Some((menu.group(group_id)?, skus)))
        .flat_map(|(group, skus)| {
            skus.iter().filter_map(move |sku| {
                let option = group.option(sku)?;
                Some(kea_menu::localized(&option.name, &option.names, lang.bcp47()).to_owned())
            })
        })
        .collect();
    // Else the choice it comes with ("your choice of protein").
    let choice = item
        .modifier_groups
        .iter()
        .filter_map(|id| menu.group(id))
        .find(|g| g.min >= 1);
    if !an.price_question() && !comes_with.is_empty() {
        sentence = prompts::comes_with(lang, &item.name, &comes_with, &sentence);
    } else if !an.price_question()
        && item.description.is_none()
        && let Some(group) = choice
    {
        let options: Vec<String> = group
            .options
            .iter()
            .map(|o| kea_menu::localized(&o.name, &o.names, lang.bcp47()).to_owned())
            .collect();
        let group_name = kea_menu::localized(&group.name, &group.names, lang.bcp47());
        sentence = prompts::comes_with_a_choice(lang, &item.name, group_name, &options, &sentence);
    } else if !an.price_question()
        && let Some(description) = &item.description
    {
        sentence = prompts::yes_we_have_described(lang, &item.name, description, &sentence);
    } else if !an.price_question() && asked_have {
        sentence = prompts::yes_we_have_it(lang, &sentence);
    }
    let mut one = first.clone();
    one.quantity = 1;
    one.held = false;
    s.discussed = Some(scratch.to_line(&one));
    sentence
}

/// "$12.99 for small, $15.99 for medium or $18.99 for large", or the single price.
fn price_range(lang: Language, item: &Item) -> String {
    if item.sizes.is_empty() {
        return item.price_cents.map_or_else(String::new, speech::money);
    }
    let parts: Vec<String> = item
        .sizes
        .iter()
        .map(|size| {
            let word = speech::size_word(lang, &size.name);
            prompts::price_for_size(lang, size.price_cents, &word)
        })
        .collect();
    list(lang, &parts, true)
}

/// What to say when nothing in an utterance was understood: "sorry, we don't have …" when the
/// caller was clearly ordering something (an ordering word, a menu question, a size or a number
/// with nothing the menu knows), otherwise "sorry, I didn't catch that".
pub(crate) fn not_understood(an: &Analysis, ctx: &Context, lang: Language) -> String {
    let content = an.content_words();
    // "A small hot chocolate, please": a size or a number says it was an order.
    let sized = an
        .matches
        .iter()
        .all(|m| m.targets.iter().all(|(t, _)| matches!(t, Target::Size(_))))
        && (an.has_menu() || an.mentions.iter().any(|m| matches!(m, Mention::Num(_))));
    let ordering = an.has_any_order_word() || an.menu_question() || sized;
    if content.is_empty() || !ordering || (an.has_menu() && !sized) {
        return prompts::didnt_catch(lang);
    }
    refusal(&content.join(" "), ctx, lang)
}

/// "Sorry, we don't have calzones. We do have …" with the closest items, or the categories.
fn refusal(what: &str, ctx: &Context, lang: Language) -> String {
    let menu = &ctx.store.menu;
    let close: Vec<String> = ctx
        .matcher
        .closest_items(what, 3)
        .into_iter()
        .filter(|(_, score)| *score >= 0.5)
        .map(|(i, _)| menu.items[i].name.clone())
        .collect();
    let otherwise = if close.is_empty() {
        categories_sentence(lang, menu)
    } else {
        String::new()
    };
    prompts::dont_have(lang, what, &close, otherwise)
}

/// "We have pizzas, wings and drinks." (or the first items, for a menu without categories).
fn categories_sentence(lang: Language, menu: &Menu) -> String {
    let mut categories: Vec<String> = Vec::new();
    for item in &menu.items {
        if let Some(c) = &item.category
            && !categories.iter().any(|x| x.eq_ignore_ascii_case(c))
        {
            categories.push(c.to_lowercase());
        }
    }
    if categories.is_empty() {
        let names: Vec<String> = menu.items.iter().take(5).map(|i| i.name.clone()).collect();
        return prompts::we_have(lang, &names);
    }
    prompts::we_have(lang, &categories)
}
