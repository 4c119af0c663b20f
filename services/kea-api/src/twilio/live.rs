//! The calls this process is taking, as their last turn here left them: the next turn of a call
//! starts from this copy instead of reading the call back from PostgreSQL (one statement fewer
//! per turn). The copy is only a shortcut: the turn is saved only if the call is still at the
//! turn the copy says ([`kea_store::calls::save_turn`]), and when another replica took a turn in
//! between, the save says so and the turn is taken again from the database. A call keeps the
//! store version it was read with until it ends (a re-import mid-call applies to the next call).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use kea_dialog::DialogState;

/// More live calls than this in one process and the copies are dropped (the database has them).
const MAX_CALLS: usize = 50_000;

/// A call between two turns.
#[derive(Debug, Clone)]
pub struct LiveCall {
    /// The store called.
    pub store_id: String,
    /// The store's version the call is taken with.
    pub store_updated_at: DateTime<Utc>,
    /// Turns taken.
    pub turns: i32,
    /// The dialog's state after the last turn.
    pub state: DialogState,
}

/// The live calls of this process, by CallSid.
#[derive(Debug, Default)]
pub struct LiveCalls {
    calls: Mutex<HashMap<String, LiveCall>>,
}

impl LiveCalls {
    /// Takes the copy of a call out (a second delivery of the same turn, arriving meanwhile,
    /// finds none and reads the database: the save lets only one of them through).
    pub fn take(&self, call_sid: &str) -> Option<LiveCall> {
        self.lock().remove(call_sid)
    }

    /// Keeps the call as its turn left it.
    pub fn put(&self, call_sid: &str, call: LiveCall) {
        let mut calls = self.lock();
        if calls.len() >= MAX_CALLS {
            calls.clear();
        }
        calls.insert(call_sid.to_owned(), call);
    }

    /// Forgets a call that ended.
    pub fn forget(&self, call_sid: &str) {
        self.lock().remove(call_sid);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LiveCall>> {
        // Plain data: a panic elsewhere while holding the lock leaves nothing half-written.
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(turns: i32) -> LiveCall {
        LiveCall {
            store_id: "tonys-pizza".to_owned(),
            store_updated_at: Utc::now(),
            turns,
            state: DialogState::new("+15551230000"),
        }
    }

    #[test]
    fn a_copy_is_taken_once() {
        let live = LiveCalls::default();
        live.put("CA1", call(3));
        assert_eq!(live.take("CA1").map(|c| c.turns), Some(3));
        assert!(
            live.take("CA1").is_none(),
            "a second delivery reads the database"
        );
        live.put("CA1", call(4));
        live.forget("CA1");
        assert!(live.take("CA1").is_none());
    }

    #[test]
    fn it_never_grows_without_bound() {
        let live = LiveCalls::default();
        for n in 0..(MAX_CALLS + 10) {
            live.put(&format!("CA{n}"), call(1));
        }
        assert!(live.lock().len() <= MAX_CALLS);
    }
}
