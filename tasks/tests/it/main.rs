//! The pipeline against real PostgreSQL (kea-test-db), a POS over loopback HTTP whose answers
//! each test scripts, and an in-memory Twilio. The workers run in-process with short backoffs.
#![expect(clippy::unwrap_used, reason = "tests")]

mod harness;
mod pipeline;
mod routing;
