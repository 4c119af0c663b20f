//! Reading one utterance in the light of the question it answers.
//!
//! A turn of speech goes through three stages, and this module keeps them apart so that each can
//! grow on its own:
//!
//! 1. [`on_speech`] handles what the caller may say whatever was asked: a person, cancel, "what
//!    do I have?", "what was that?", a name, an address, a number or pickup/delivery said in
//!    passing, and questions about the menu or prices.
//! 2. The handler of the question just asked ([`Asked`]) reads the rest: one function per
//!    question, grouped by family in the submodules. A handler that finds no answer to its
//!    question in the words reads them as order words ([`items::order`]), since callers often
//!    answer a question with an order.
//! 3. [`settle`] writes the order as edited back to the state, and decides what is said about it
//!    (the acknowledgement, a greeting, "sorry, I didn't catch that").
//!
//! Handlers share one [`Answer`]: the state, the utterance read, the order being edited, and what
//! the turn has found so far (`understood`, `edited`). They return [`ControlFlow::Break`] only to
//! end the turn early (transfer, cancel, place, or a question that needs no settling).

mod customer;
mod enquiry;
mod fulfillment;
mod items;
mod options;
mod read_back;

use std::ops::ControlFlow;

use kea_menu::Menu;

use crate::order::{Ack, Clarify, Work};
use crate::prompts::{self, Handoff};
use crate::speech::describe;
use crate::state::{Asked, DialogState, Question, Split};
use crate::understand::{Analysis, Volunteered};
use crate::{Context, Language, speaks_spanish};

use enquiry::not_understood;

/// What the turn says and asks, built up while the utterance is read.
#[derive(Default)]
pub(crate) struct Reply {
    /// Sentences to say before the question.
    pub say: Vec<String>,
    /// A sentence in Spanish after them ("También hablamos español.").
    pub extra_es: Option<String>,
    /// The question to end with; `None` leaves it to [`crate::questions::next_question`].
    pub question: Option<Question>,
}

/// How a turn of speech ends.
pub(crate) enum Flow {
    /// Ask the next question and listen.
    Listen,
    /// Hand the call to a person, and why.
    Transfer(Handoff),
    /// The caller cancelled.
    Cancel,
    /// The caller confirmed the read-back.
    Place,
}

/// One utterance being read: what every question's handler needs, and what it found.
pub(crate) struct Answer<'t, 'c> {
    /// The call's state, changed in place.
    pub s: &'t mut DialogState,
    pub ctx: &'t Context<'c>,
    /// The transcript as heard (names and addresses are read from it).
    pub text: &'t str,
    /// The transcript read against the menu, with volunteered details blanked out.
    pub an: &'t Analysis,
    /// A name or address said in passing.
    pub vol: &'t Volunteered,
    /// The order (confirmed and held lines) as this turn edits it.
    pub work: Work<'c>,
    pub reply: &'t mut Reply,
    /// The question the utterance answers.
    pub asked: Asked,
    /// The recogniser's confidence, in thousandths.
    pub asr: u16,
    /// A new name or address was said in passing: a yes or no is about that, not the question.
    pub details: bool,
    /// The first name of a name said in passing, to thank the caller by.
    pub greet: Option<String>,
    /// Something in the utterance was understood (no "sorry, I didn't catch that").
    pub understood: bool,
    /// The order words changed the order.
    pub edited: bool,
}

impl<'c> Answer<'_, 'c> {
    pub(crate) fn lang(&self) -> Language {
        self.s.language
    }

    pub(crate) fn menu(&self) -> &'c Menu {
        &self.ctx.store.menu
    }

    /// Ends the turn with `question` instead of the next one in line.
    pub(crate) fn ask(&mut self, question: Question) {
        self.reply.question = Some(question);
    }

    /// Applies the utterance's order words; notes whether they changed anything.
    pub(crate) fn apply_order_words(&mut self) {
        self.edited = self.work.apply(self.an);
    }
}

/// Reads one utterance: the cross-cutting intents, then the handler of the question asked, then
/// the order and the reply are settled.
pub(crate) fn on_speech(
    s: &mut DialogState,
    text: &str,
    confidence: f32,
    ctx: &Context,
    reply: &mut Reply,
) -> Flow {
    // A name or an address said in passing is kept away from the menu words.
    let vol = Volunteered::find(text, ctx.matcher, &ctx.store.name);
    let an = Analysis::new(&vol.menu_text(text), ctx.matcher);
    if speaks_spanish(ctx)
        && let Some(language) = an.language()
    {
        s.language = language;
    }
    if let ControlFlow::Break(flow) = requests(s, &an, ctx, reply) {
        return flow;
    }
    let mut a = Answer::new(s, ctx, text, &an, &vol, reply, confidence);
    // A correction ("no, I said two Cokes", or anything said to the read-back) restates lines
    // instead of adding them, unless the caller asks for more.
    a.work.correcting = (a.asked == Asked::ReadBack || an.is_correction()) && !an.asks_for_more();
    take_volunteered(&mut a);
    if (an.menu_question() || an.price_question()) && !a.asked.takes_free_text() {
        enquiry::answer(a.s, &an, ctx, a.reply);
        return Flow::Listen;
    }
    let handled = match a.asked {
        Asked::Nothing | Asked::Order => items::order(&mut a),
        Asked::ConfirmItems => items::confirm_items(&mut a),
        Asked::Clarify => items::clarify(&mut a),
        Asked::Offer => items::offer(&mut a),
        Asked::Size { line } => options::size(&mut a, line),
        Asked::Choice { line, group } => options::choice(&mut a, line, group),
        Asked::Fulfillment => fulfillment::pickup_or_delivery(&mut a),
        Asked::AddMore => fulfillment::add_more(&mut a),
        Asked::SwitchToPickup => fulfillment::switch_to_pickup(&mut a),
        Asked::Address => fulfillment::address(&mut a),
        Asked::Name => customer::name(&mut a),
        Asked::ConfirmPhone | Asked::Phone => customer::phone(&mut a),
        Asked::ReadBack => read_back::answer(&mut a),
    };
    match handled {
        ControlFlow::Break(flow) => flow,
        ControlFlow::Continue(()) => settle(a),
    }
}

/// Requests that end or redirect the turn whatever was asked: a person, cancel, "what do I
/// have?", "what was that?".
fn requests(
    s: &mut DialogState,
    an: &Analysis,
    ctx: &Context,
    reply: &mut Reply,
) -> ControlFlow<Flow> {
    let lang = s.language;
    let menu = &ctx.store.menu;
    if an.wants_person() {
        return ControlFlow::Break(Flow::Transfer(Handoff::Asked));
    }
    if an.wants_cancel() && !s.asked.takes_free_text() {
        return ControlFlow::Break(Flow::Cancel);
    }
    if !s.lines.is_empty() && an.asks_for_order_so_far() {
        let work = Work::new(menu, &s.lines, &[], None);
        let items: Vec<String> = work
            .lines
            .iter()
            .map(|d| describe(lang, menu, d, true))
            .collect();
        reply.say.push(prompts::so_far(lang, &items));
        return ControlFlow::Break(Flow::Listen);
    }
    if an.wants_repeat() {
        s.misses = s.misses.saturating_add(1);
        if s.misses >= 3 {
            return ControlFlow::Break(Flow::Transfer(Handoff::NotUnderstood));
        }
        reply.say.push(prompts::sure(lang));
        return ControlFlow::Break(Flow::Listen);
    }
    ControlFlow::Continue(())
}

impl<'t, 'c> Answer<'t, 'c> {
    /// Loads the order for editing. Low recogniser confidence holds new lines for a "did you
    /// say …?".
    fn new(
        s: &'t mut DialogState,
        ctx: &'t Context<'c>,
        text: &'t str,
        an: &'t Analysis,
        vol: &'t Volunteered,
        reply: &'t mut Reply,
        confidence: f32,
    ) -> Self {
        let confidence = if confidence.is_finite() {
            confidence.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let asr = (confidence * 1000.0) as u16;
        let mut work = Work::new(&ctx.store.menu, &s.lines, &s.held, s.last);
        work.take_off_sold_out();
        work.asr = asr;
        work.hold_new = confidence < 0.6;
        let asked = s.asked;
        Answer {
            s,
            ctx,
            text,
            an,
            vol,
            work,
            reply,
            asked,
            asr,
            details: false,
            greet: None,
            understood: false,
            edited: false,
        }
    }
}

/// Details the caller may give at any point: a name or a delivery address offered before being
/// asked ("hi, this is Maria", "for delivery to 42 Elm Street"), a phone number, pickup or
/// delivery. They are kept so the question is not asked later; answers to those very questions
/// are read by their handlers.
fn take_volunteered(a: &mut Answer) {
    let lang = a.lang();
    let (asked, vol, an) = (a.asked, a.vol, a.an);
    if asked != Asked::Name
        && let Some(name) = &vol.name
        && (asked != Asked::Address || vol.name_certain)
    {
        a.understood = true;
        if a.s.name.as_ref() != Some(name) {
            a.s.name = Some(name.clone());
            a.details = true;
            a.greet = name.split_whitespace().next().map(str::to_owned);
        }
    }
    if asked != Asked::Address
        && let Some(address) = &vol.address
        && a.ctx.store.fulfillment.delivery
    {
        a.understood = true;
        if a.s.address.as_ref() != Some(address) {
            a.s.address = Some(address.clone());
            a.details = true;
        }
    }
    if let Some(phone) = &an.phone {
        a.s.phone = Some(phone.clone());
        a.s.phone_confirmed = true;
        a.understood = true;
    }
    if let Some(time) = vol.time {
        // "For 6:30": an order for later today, when the store takes them and is open then.
        a.understood = true;
        let store = a.ctx.store;
        let scheduled = match a.ctx.now {
            Some(now) => store.schedule_today(now, time.hour, time.minute, time.pm),
            None => Err(kea_menu::Unschedulable::NotOffered),
        };
        match scheduled {
            Ok(at) => {
                a.s.ready_at = Some(at.with_timezone(&chrono::Utc));
                a.reply
                    .say
                    .push(prompts::scheduled_for(lang, &prompts::clock_time(lang, at)));
            }
            Err(why) => a.reply.say.push(prompts::cannot_schedule(lang, &why)),
        }
    }
    if !asked.takes_free_text()
        && let Some(kind) = an.fulfillment()
    {
        if fulfillment::offers(a.ctx.store, kind) {
            a.s.fulfillment = Some(kind);
        } else {
            a.reply
                .say
                .push(prompts::we_only_do(lang, a.ctx.store.fulfillment.pickup));
        }
        a.understood = true;
    }
}

/// Writes the edited order back to the state, and says what happened to it: the
/// acknowledgement, a greeting for a name said in passing, or "sorry, I didn't catch that"
/// (three of those in a row go to a person).
fn settle(a: Answer) -> Flow {
    let Answer {
        s,
        ctx,
        an,
        work,
        reply,
        asked,
        greet,
        understood,
        edited,
        ..
    } = a;
    let lang = s.language;
    let (ack, noticed) = write_order(s, &ctx.store.menu, work, asked, edited);
    if let Some(ack) = ack {
        reply.say.push(ack);
    }
    if let Some(name) = greet {
        reply.say.insert(0, prompts::thanks_name(lang, &name));
    }
    if understood || edited || noticed {
        s.misses = 0;
    } else {
        s.misses = s.misses.saturating_add(1);
        if s.misses >= 3 {
            return Flow::Transfer(Handoff::NotUnderstood);
        }
        reply.say.push(not_understood(an, ctx, lang));
        if reply.question.is_none()
            && matches!(asked, Asked::Order | Asked::Nothing)
            && s.lines.is_empty()
        {
            reply.question = Some(Question::new(
                Asked::Order,
                prompts::what_would_you_like(lang),
            ));
        }
    }
    Flow::Listen
}

/// Writes the order as the turn left it into the state, with any question it raised (which
/// option of a conflict, which item of a category). Returns the acknowledgement, and whether
/// the order shows that the utterance was understood (it changed, or raised a question).
fn write_order(
    s: &mut DialogState,
    menu: &Menu,
    mut work: Work,
    asked: Asked,
    edited: bool,
) -> (Option<String>, bool) {
    let mut understood = false;
    let before = (s.lines.clone(), s.held.clone());
    // Acknowledge what changed, describing lines as they ended up.
    let ack = acknowledge(s.language, menu, &work);
    let clarify = work.clarify.take();
    if let Some(split) = conflict_split(menu, &work) {
        s.split = Some(split);
        understood = true;
    }
    let (lines, held, last) = work.into_lines();
    s.lines = lines;
    s.held = held;
    s.last = last;
    if let Some(asking) = clarify {
        s.clarify = Some(Clarify {
            skus: asking
                .items
                .iter()
                .map(|&i| menu.items[i].sku.clone())
                .collect(),
            quantity: asking.quantity,
            size: asking.size,
            modifiers: asking.modifiers,
        });
        understood = true;
    }
    if (s.lines.clone(), s.held.clone()) != before {
        understood = true;
        if asked == Asked::ReadBack || s.ordering_done && edited {
            // Re-read after a fix; the caller is still finishing up.
            s.ordering_done = asked == Asked::ReadBack;
        }
    }
    (ack, understood)
}

/// The first conflict of the turn (two sauces for a one-sauce line) as a pending [`Split`], the
/// line's index counted as the state will store it (confirmed lines, then held ones).
fn conflict_split(menu: &Menu, work: &Work) -> Option<Split> {
    let c = work.conflicts.first()?;
    let (line, draft) = work
        .lines
        .iter()
        .filter(|d| !d.held)
        .chain(work.lines.iter().filter(|d| d.held))
        .enumerate()
        .find(|(_, d)| d.id == c.id)?;
    let group = menu.modifier_groups.get(c.group)?;
    Some(Split {
        line,
        sku: menu.items[draft.item].sku.clone(),
        group: group.id.clone(),
        options: c
            .options
            .iter()
            .filter_map(|&o| group.options.get(o).map(|o| o.sku.clone()))
            .collect(),
    })
}

/// What the turn did to the order, in words: lines added, removed and changed, each described
/// as it ended up; a line both added and removed in the turn is not mentioned.
fn acknowledge(lang: Language, menu: &Menu, work: &Work) -> Option<String> {
    let mut added_ids: Vec<u32> = Vec::new();
    let mut added: Vec<String> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    let mut changed_ids: Vec<u32> = Vec::new();
    let mut sold_out: Vec<String> = Vec::new();
    // Lines both added and removed in this turn ("a hawaiian… scratch the hawaiian") net out.
    let fresh: Vec<u32> = work
        .acks
        .iter()
        .filter_map(|a| match a {
            Ack::Added(d, false) => Some(d.id),
            _ => None,
        })
        .collect();
    for ack in &work.acks {
        match ack {
            Ack::Added(d, merged) => {
                if !merged && (added_ids.contains(&d.id) || work.by_id(d.id).is_none()) {
                    continue;
                }
                let current = work.by_id(d.id).filter(|_| !merged);
                let line = current.unwrap_or(d);
                if !line.held {
                    added.push(describe(lang, menu, line, true));
                }
                added_ids.push(d.id);
            }
            Ack::Removed(d) if !d.held && !fresh.contains(&d.id) => {
                removed.push(describe(lang, menu, d, true))
            }
            Ack::Changed(d) if !changed_ids.contains(&d.id) => changed_ids.push(d.id),
            Ack::SoldOut(item) => {
                let it = &menu.items[*item];
                let name = kea_menu::localized(&it.name, &it.names, lang.bcp47()).to_owned();
                if !sold_out.contains(&name) {
                    sold_out.push(name);
                }
            }
            _ => {}
        }
    }
    let changed: Vec<String> = changed_ids
        .iter()
        .filter(|id| !added_ids.contains(id))
        .filter_map(|id| work.by_id(*id))
        .filter(|d| !d.held)
        .map(|d| describe(lang, menu, d, true))
        .collect();
    let said = prompts::acknowledgement(lang, &added, &removed, &changed);
    if sold_out.is_empty() {
        return said;
    }
    let sorry = prompts::sold_out(lang, &sold_out);
    Some(match said {
        Some(s) => format!("{sorry} {s}"),
        None => sorry,
    })
}
