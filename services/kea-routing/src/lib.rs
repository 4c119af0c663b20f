#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
//!
//! # Modules
//!
//! - [`expr`]: TaskRouter-style expressions: [`parse`], [`Expr::eval`] and canonical printing.
//! - [`workflow`]: workflow configuration, [`Workflow::compile`], [`Workflow::route`] and
//!   [`choose_worker`].

pub mod expr;
pub mod workflow;

pub use expr::{Context, Expr, ParseError, Subject, parse};
pub use workflow::{
    Candidate, DefaultFilterConfig, FilterConfig, Location, Queue, Step, TargetConfig,
    TaskRoutingConfig, Workflow, WorkflowConfig, WorkflowError, choose_worker, default_queues,
};
