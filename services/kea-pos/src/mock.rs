//! An in-memory [`PosAdapter`] for other crates' tests (cargo feature `mock`).

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use crate::{Accepted, PosAdapter, PosError, PosOrder};

/// Records every order pushed to it and answers 200, or with the errors queued by
/// [`MockPos::fail_next`]. Like a real POS honouring idempotency keys, an order pushed again
/// after it was accepted is not recorded twice.
#[derive(Debug, Default)]
pub struct MockPos {
    accepted: Mutex<Vec<PosOrder>>,
    attempts: Mutex<usize>,
    failures: Mutex<VecDeque<PosError>>,
}

impl MockPos {
    /// A mock that accepts everything.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next push fail with `err` (pushes take queued errors first, in order).
    pub fn fail_next(&self, err: PosError) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(err);
    }

    /// The orders accepted so far, each once, in order.
    #[must_use]
    pub fn accepted(&self) -> Vec<PosOrder> {
        self.accepted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many times `push` was called, failures and repeats included.
    #[must_use]
    pub fn attempts(&self) -> usize {
        *self.attempts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl PosAdapter for MockPos {
    async fn push(&self, order: &PosOrder) -> Result<Accepted, PosError> {
        *self.attempts.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        if let Some(err) = self
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
        {
            return Err(err);
        }
        let mut accepted = self.accepted.lock().unwrap_or_else(PoisonError::into_inner);
        if !accepted.iter().any(|o| o.id == order.id) {
            accepted.push(order.clone());
        }
        Ok(Accepted {
            pos_ref: Some(format!("mock-{}", order.id)),
            status: 200,
        })
    }

    fn kind(&self) -> &'static str {
        "mock"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[tokio::test]
    async fn fails_then_accepts_once() {
        let pos = MockPos::new();
        pos.fail_next(PosError::Transient {
            status: Some(500),
            message: "boom".to_owned(),
        });
        let order = fixtures::pickup();
        assert!(pos.push(&order).await.is_err());
        assert!(pos.push(&order).await.is_ok());
        assert!(pos.push(&order).await.is_ok());
        assert_eq!(pos.attempts(), 3);
        assert_eq!(pos.accepted(), vec![order]);
    }
}
