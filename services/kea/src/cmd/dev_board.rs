//! What `kea dev`'s stand-ins have seen, for the `/dev` page: the kitchen tickets the dev POS
//! printed and the texts the dev inbox took, with their delivery statuses. Kept in memory (a
//! laptop's session, not a record: the orders and texts themselves are in PostgreSQL), newest
//! first, at most [`KEEP`] of each; every change is announced so open pages update at once.

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

/// How many tickets and texts the page keeps.
const KEEP: usize = 100;

/// What changed, so a page re-renders only that part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Tickets,
    Texts,
    /// A webhook turn or a status callback: the call list may read differently.
    Calls,
}

/// One order as the kitchen sees it.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// The dev POS's reference for it (what the POS answered kea).
    pub reference: String,
    pub store_id: String,
    pub received_at: DateTime<Utc>,
    pub fulfillment: String,
    pub customer: String,
    pub ready_at: Option<String>,
    /// "1 × Pepperoni Pizza (large): Extra Cheese".
    pub lines: Vec<String>,
    pub total_cents: i64,
    /// The POS saw the same order again (same idempotency key) and did not print it twice.
    pub repeats: u32,
}

/// One text as Twilio's Messages API received it.
#[derive(Debug, Clone)]
pub struct Text {
    pub sid: String,
    pub to: String,
    pub from: String,
    pub body: String,
    pub received_at: DateTime<Utc>,
    /// `queued`, then what the status callbacks reported (`sent`, `delivered`).
    pub status: String,
    /// How kea answered the last status callback (its HTTP status), if one was sent.
    pub callback_answer: Option<u16>,
}

#[derive(Debug, Default)]
struct Seen {
    tickets: Vec<Ticket>,
    texts: Vec<Text>,
}

/// Shared by the dev POS, the dev inbox and the `/dev` page.
#[derive(Debug, Clone)]
pub struct Board {
    seen: Arc<Mutex<Seen>>,
    changes: broadcast::Sender<Change>,
}

impl Default for Board {
    fn default() -> Self {
        Self {
            seen: Arc::default(),
            changes: broadcast::channel(64).0,
        }
    }
}

impl Board {
    /// A receiver of every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Announces a change (nobody listening is fine).
    pub fn changed(&self, change: Change) {
        let _ = self.changes.send(change);
    }

    fn seen(&self) -> MutexGuard<'_, Seen> {
        // A panic while holding the lock leaves plain data behind; keep showing it.
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a printed ticket.
    pub fn ticket(&self, ticket: Ticket) {
        let mut seen = self.seen();
        seen.tickets.insert(0, ticket);
        seen.tickets.truncate(KEEP);
        drop(seen);
        self.changed(Change::Tickets);
    }

    /// Counts a repeated delivery of the ticket `reference`.
    pub fn repeated(&self, reference: &str) {
        let mut seen = self.seen();
        if let Some(t) = seen.tickets.iter_mut().find(|t| t.reference == reference) {
            t.repeats += 1;
        }
        drop(seen);
        self.changed(Change::Tickets);
    }

    /// Records a text Twilio's API took.
    pub fn text(&self, text: Text) {
        let mut seen = self.seen();
        seen.texts.insert(0, text);
        seen.texts.truncate(KEEP);
        drop(seen);
        self.changed(Change::Texts);
    }

    /// Records a text's new delivery status and how kea answered the callback.
    pub fn text_status(&self, sid: &str, status: &str, callback_answer: Option<u16>) {
        let mut seen = self.seen();
        if let Some(t) = seen.texts.iter_mut().find(|t| t.sid == sid) {
            status.clone_into(&mut t.status);
            t.callback_answer = callback_answer;
        }
        drop(seen);
        self.changed(Change::Texts);
    }

    /// The tickets, newest first.
    pub fn tickets(&self) -> Vec<Ticket> {
        self.seen().tickets.clone()
    }

    /// The texts, newest first.
    pub fn texts(&self) -> Vec<Text> {
        self.seen().texts.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(sid: &str) -> Text {
        Text {
            sid: sid.to_owned(),
            to: "+15551230000".to_owned(),
            from: "+15550001111".to_owned(),
            body: "Thanks".to_owned(),
            received_at: Utc::now(),
            status: "queued".to_owned(),
            callback_answer: None,
        }
    }

    #[test]
    fn newest_first_bounded_and_announced() {
        let board = Board::default();
        for n in 0..(KEEP + 5) {
            board.text(text(&format!("SM{n}")));
        }
        let texts = board.texts();
        assert_eq!(texts.len(), KEEP);
        assert_eq!(texts[0].sid, format!("SM{}", KEEP + 4));
        let mut changes = board.subscribe();
        board.text_status(&format!("SM{}", KEEP + 4), "delivered", Some(204));
        assert_eq!(changes.try_recv().ok(), Some(Change::Texts));
        assert_eq!(board.texts()[0].status, "delivered");
        assert_eq!(board.texts()[0].callback_answer, Some(204));
    }
}
