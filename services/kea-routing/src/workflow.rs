//! TaskRouter-like workflows: which queue and which workers a task is offered to, and when it
//! escalates.
//!
//! A [`WorkflowConfig`] is the JSON document (the shape of TaskRouter's workflow
//! `configuration`); [`Workflow::compile`] checks it against the [`Queue`]s and parses every
//! expression once. [`Workflow::route`] then picks, for a task of a given age, the [`Step`] that
//! applies, and [`choose_worker`] picks the worker to offer it to.
//!
//! ```
//! use kea_routing::workflow::{Candidate, Workflow, WorkflowConfig, choose_worker, default_queues};
//! use serde_json::json;
//!
//! let workflow = Workflow::compile(&WorkflowConfig::default_for_kea(), &default_queues()).unwrap();
//! let task = json!({"kind": "order", "store_id": "la-casita", "language": "es"});
//! let agents = [
//!     Candidate {
//!         id: "ana".into(),
//!         attributes: json!({"skills": ["order"], "stores": ["la-casita"], "languages": ["es"]}),
//!         free_capacity: 1,
//!         idle_secs: 5.0,
//!     },
//!     Candidate {
//!         id: "bo".into(),
//!         attributes: json!({"skills": ["order"], "stores": ["other"], "languages": ["es"]}),
//!         free_capacity: 1,
//!         idle_secs: 500.0,
//!     },
//! ];
//!
//! // A fresh task goes to the store's own agents first...
//! let step = workflow.route(&task, 0.0).unwrap();
//! assert_eq!(choose_worker(&step, &task, &agents).map(|c| c.id.as_str()), Some("ana"));
//! // ...and after 30 s to anyone speaking the language, longest idle first.
//! let step = workflow.route(&task, 45.0).unwrap();
//! assert_eq!(choose_worker(&step, &task, &agents).map(|c| c.id.as_str()), Some("bo"));
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::expr::{Context, Expr, ParseError, parse};

/// The [`Step::filter`] name of a workflow's default filter.
pub const DEFAULT_FILTER_NAME: &str = "default";

/// The name of kea's one queue, whose `target_workers` is everyone (`1==1`).
pub const EVERYONE_QUEUE: &str = "everyone";

/// A task queue: a name and the workers it may offer tasks to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// The name targets refer to it by.
    pub name: String,
    /// An expression over worker attributes (unprefixed paths are the worker's; `task.` paths
    /// read the task), e.g. `languages HAS "es"`; `1==1` is everyone.
    pub target_workers: String,
}

impl Queue {
    /// A queue named `name` with the given `target_workers` expression.
    #[must_use]
    pub fn new(name: impl Into<String>, target_workers: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            target_workers: target_workers.into(),
        }
    }
}

/// kea's queues: the single queue `everyone` (`1==1`); targets narrow it down.
#[must_use]
pub fn default_queues() -> Vec<Queue> {
    vec![Queue::new(EVERYONE_QUEUE, "1==1")]
}

/// A workflow's configuration document, as TaskRouter's workflow `configuration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowConfig {
    /// The routing rules.
    pub task_routing: TaskRoutingConfig,
}

/// The `task_routing` section: filters tried in order, then the default filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRoutingConfig {
    /// Tried in order; the first whose expression matches the task routes it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<FilterConfig>,
    /// Routes tasks that no filter matches.
    pub default_filter: DefaultFilterConfig,
}

/// A named filter: tasks matching `expression` go through `targets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// The filter's name, reported as [`Step::filter`].
    pub filter_friendly_name: String,
    /// An expression over task attributes (unprefixed paths are the task's).
    pub expression: String,
    /// Tried in escalation order: each applies until its `timeout` has passed.
    pub targets: Vec<TargetConfig>,
}

/// One escalation step of a filter: a queue, optionally narrowed by an expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// The name of the [`Queue`] whose workers are eligible.
    pub queue: String,
    /// An expression over worker attributes (unprefixed paths are the worker's, `task.` paths
    /// the task's) that eligible workers must also satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Seconds this target applies before the next one does. Only the last target of a filter
    /// may omit it; it must be greater than 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// The task's priority while this target applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

impl TargetConfig {
    /// A target on `queue` with no expression, timeout or priority.
    #[must_use]
    pub fn new(queue: impl Into<String>) -> Self {
        Self {
            queue: queue.into(),
            expression: None,
            timeout: None,
            priority: None,
        }
    }

    /// Sets the worker expression.
    #[must_use]
    pub fn with_expression(mut self, expression: impl Into<String>) -> Self {
        self.expression = Some(expression.into());
        self
    }

    /// Sets the timeout, in seconds.
    #[must_use]
    pub const fn with_timeout(mut self, secs: u32) -> Self {
        self.timeout = Some(secs);
        self
    }

    /// Sets the priority.
    #[must_use]
    pub const fn with_priority(mut self, priority: i64) -> Self {
        self.priority = Some(priority);
        self
    }
}

/// The default filter: the targets for tasks no filter matches.
///
/// It reads either TaskRouter's single-target shape, `{"queue": "everyone"}` (with the optional
/// `expression`, `timeout` and `priority` of a target), or an escalating list,
/// `{"targets": [...]}`. It is written in the single-target shape when it has exactly one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawDefaultFilter", into = "RawDefaultFilter")]
pub struct DefaultFilterConfig {
    /// Tried in escalation order, as [`FilterConfig::targets`].
    pub targets: Vec<TargetConfig>,
}

/// The wire form of [`DefaultFilterConfig`]: either `targets` or a single target's fields.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaultFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    targets: Option<Vec<TargetConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timeout: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    priority: Option<i64>,
}

impl TryFrom<RawDefaultFilter> for DefaultFilterConfig {
    type Error = String;

    fn try_from(raw: RawDefaultFilter) -> Result<Self, Self::Error> {
        let single_fields =
            raw.expression.is_some() || raw.timeout.is_some() || raw.priority.is_some();
        match (raw.targets, raw.queue) {
            (Some(targets), None) if !single_fields => Ok(Self { targets }),
            (Some(_), _) => Err(
                "default_filter: give either `targets` or a single target's `queue`, not both"
                    .to_owned(),
            ),
            (None, Some(queue)) => Ok(Self {
                targets: vec![TargetConfig {
                    queue,
                    expression: raw.expression,
                    timeout: raw.timeout,
                    priority: raw.priority,
                }],
            }),
            (None, None) => Err("default_filter: missing `queue` (or `targets`)".to_owned()),
        }
    }
}

impl From<DefaultFilterConfig> for RawDefaultFilter {
    fn from(config: DefaultFilterConfig) -> Self {
        let mut targets = config.targets;
        if targets.len() == 1
            && let Some(target) = targets.pop()
        {
            return Self {
                targets: None,
                queue: Some(target.queue),
                expression: target.expression,
                timeout: target.timeout,
                priority: target.priority,
            };
        }
        Self {
            targets: Some(targets),
            queue: None,
            expression: None,
            timeout: None,
            priority: None,
        }
    }
}

impl WorkflowConfig {
    /// kea's default workflow, for use with [`default_queues`]: no filters, and a default filter
    /// that escalates within the `everyone` queue:
    ///
    /// 0. for 30 s, agents with the task's skill, store and language
    ///    (`worker.skills HAS task.kind AND worker.stores HAS task.store_id AND
    ///    worker.languages HAS task.language`);
    /// 1. for the next 90 s, agents with the skill and the language, from any store;
    /// 2. from then on (2 minutes in), any agent with the skill.
    #[must_use]
    pub fn default_for_kea() -> Self {
        Self {
            task_routing: TaskRoutingConfig {
                filters: Vec::new(),
                default_filter: DefaultFilterConfig {
                    targets: vec![
                        TargetConfig::new(EVERYONE_QUEUE)
                            .with_expression(
                                "worker.skills HAS task.kind AND worker.stores HAS task.store_id \
                                 AND worker.languages HAS task.language",
                            )
                            .with_timeout(30),
                        TargetConfig::new(EVERYONE_QUEUE)
                            .with_expression(
                                "worker.skills HAS task.kind AND worker.languages HAS task.language",
                            )
                            .with_timeout(90),
                        TargetConfig::new(EVERYONE_QUEUE).with_expression("worker.skills HAS task.kind"),
                    ],
                },
            },
        }
    }
}

/// Which part of a configuration a [`WorkflowError`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A queue, by name.
    Queue {
        /// The queue's name.
        name: String,
    },
    /// A filter, by friendly name.
    Filter {
        /// The filter's `filter_friendly_name`.
        name: String,
    },
    /// The default filter.
    DefaultFilter,
    /// A target of a filter (`None`: of the default filter), by 0-based index.
    Target {
        /// The filter's friendly name, or `None` for the default filter.
        filter: Option<String>,
        /// The target's 0-based position in its filter.
        index: usize,
    },
}

impl Location {
    /// The configuration field holding this location's expression.
    const fn expression_field(&self) -> &'static str {
        match self {
            Self::Queue { .. } => "target_workers",
            _ => "expression",
        }
    }
}

impl fmt::Display for Location {
    /// `queue "everyone"`, `filter "transfers"`, `default filter`, `filter "transfers", target 1`
    /// or `default filter, target 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Queue { name } => write!(f, "queue {name:?}"),
            Self::Filter { name } => write!(f, "filter {name:?}"),
            Self::DefaultFilter => f.write_str("default filter"),
            Self::Target {
                filter: Some(name),
                index,
            } => write!(f, "filter {name:?}, target {index}"),
            Self::Target {
                filter: None,
                index,
            } => write!(f, "default filter, target {index}"),
        }
    }
}

/// Why [`Workflow::compile`] rejected a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// An expression (a queue's `target_workers`, a filter's or a target's `expression`) does
    /// not parse.
    #[error("{location}: {}: {source}", .location.expression_field())]
    Expression {
        /// Where the expression is.
        location: Location,
        /// The parse error, with its column within the expression.
        source: ParseError,
    },
    /// A target names a queue that does not exist.
    #[error("{location}: unknown queue {queue:?} (known queues: {})", quoted_list(.known))]
    UnknownQueue {
        /// The target.
        location: Location,
        /// The queue name it gave.
        queue: String,
        /// The queues that do exist.
        known: Vec<String>,
    },
    /// A target other than its filter's last has no `timeout`.
    #[error("{location}: only the last target of a filter may omit timeout")]
    MissingTimeout {
        /// The target.
        location: Location,
    },
    /// A target's `timeout` is 0.
    #[error("{location}: timeout must be greater than 0")]
    ZeroTimeout {
        /// The target.
        location: Location,
    },
    /// A filter (or the default filter) has no targets.
    #[error("{location}: has no targets")]
    NoTargets {
        /// The filter.
        location: Location,
    },
    /// Two queues share a name.
    #[error("queue {name:?} is defined more than once")]
    DuplicateQueue {
        /// The repeated name.
        name: String,
    },
}

fn quoted_list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A checked workflow with every expression parsed, ready to [`route`](Workflow::route) tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    queues: Vec<CompiledQueue>,
    filters: Vec<CompiledFilter>,
    default_filter: CompiledFilter,
}

#[derive(Debug, Clone, PartialEq)]
struct CompiledQueue {
    name: String,
    target_workers: Expr,
}

#[derive(Debug, Clone, PartialEq)]
struct CompiledFilter {
    name: String,
    /// `None` for the default filter, which matches every task.
    expression: Option<Expr>,
    /// Never empty.
    targets: Vec<CompiledTarget>,
}

#[derive(Debug, Clone, PartialEq)]
struct CompiledTarget {
    /// Index into [`Workflow::queues`].
    queue: usize,
    expression: Option<Expr>,
    /// Seconds; only the last target may lack one.
    timeout: Option<u32>,
    priority: Option<i64>,
}

impl Workflow {
    /// Checks `config` against `queues` and parses every expression.
    ///
    /// # Errors
    ///
    /// The first problem found, naming where it is ([`Location`]): an expression that does not
    /// parse (with its column), a target naming an unknown queue, a target other than the last
    /// without a `timeout`, a `timeout` of 0, a filter without targets, or two queues with the
    /// same name. For example:
    /// `filter "transfers", target 1: expression: column 12: expected a value after HAS, found end of expression`.
    pub fn compile(config: &WorkflowConfig, queues: &[Queue]) -> Result<Self, WorkflowError> {
        let mut compiled_queues: Vec<CompiledQueue> = Vec::with_capacity(queues.len());
        for queue in queues {
            if compiled_queues.iter().any(|q| q.name == queue.name) {
                return Err(WorkflowError::DuplicateQueue {
                    name: queue.name.clone(),
                });
            }
            let target_workers =
                parse(&queue.target_workers).map_err(|source| WorkflowError::Expression {
                    location: Location::Queue {
                        name: queue.name.clone(),
                    },
                    source,
                })?;
            compiled_queues.push(CompiledQueue {
                name: queue.name.clone(),
                target_workers,
            });
        }

        let routing = &config.task_routing;
        let mut filters = Vec::with_capacity(routing.filters.len());
        for filter in &routing.filters {
            let name = &filter.filter_friendly_name;
            let expression =
                parse(&filter.expression).map_err(|source| WorkflowError::Expression {
                    location: Location::Filter { name: name.clone() },
                    source,
                })?;
            filters.push(CompiledFilter {
                name: name.clone(),
                expression: Some(expression),
                targets: compile_targets(Some(name), &filter.targets, &compiled_queues)?,
            });
        }
        let default_filter = CompiledFilter {
            name: DEFAULT_FILTER_NAME.to_owned(),
            expression: None,
            targets: compile_targets(None, &routing.default_filter.targets, &compiled_queues)?,
        };

        Ok(Self {
            queues: compiled_queues,
            filters,
            default_filter,
        })
    }

    /// The step that applies to `task` (its attributes) when it has waited `age_secs`.
    ///
    /// The filter is the first whose expression matches the task (unprefixed paths reading the
    /// task), else the default filter. Within it, target `i` applies while `age_secs` is less
    /// than the sum of the timeouts of targets `0..=i`; a last target without a timeout applies
    /// forever, and once every timeout has passed the last target still applies, so a task is
    /// never dropped. A negative or NaN age counts as 0.
    ///
    /// Always `Some` for a compiled workflow, since compiling rejects filters without targets.
    #[must_use]
    pub fn route(&self, task: &Value, age_secs: f64) -> Option<Step<'_>> {
        let age = if age_secs > 0.0 { age_secs } else { 0.0 };
        let ctx = Context::for_task(task);
        let filter = self
            .filters
            .iter()
            .find(|filter| filter.expression.as_ref().is_some_and(|e| e.eval(&ctx)))
            .unwrap_or(&self.default_filter);

        let last = filter.targets.len().checked_sub(1)?;
        let mut deadline = 0.0;
        for (index, target) in filter.targets.iter().enumerate() {
            let Some(timeout) = target.timeout else {
                return self.step(filter, index, None);
            };
            deadline += f64::from(timeout);
            if age < deadline {
                let escalates_in = (index != last).then_some(deadline - age);
                return self.step(filter, index, escalates_in);
            }
        }
        self.step(filter, last, None)
    }

    fn step<'a>(
        &'a self,
        filter: &'a CompiledFilter,
        index: usize,
        escalates_in_secs: Option<f64>,
    ) -> Option<Step<'a>> {
        let target = filter.targets.get(index)?;
        let queue = self.queues.get(target.queue)?;
        Some(Step {
            filter: &filter.name,
            target_index: index,
            queue: &queue.name,
            priority: target.priority,
            escalates_in_secs,
            target_workers: &queue.target_workers,
            target_expression: target.expression.as_ref(),
        })
    }
}

fn compile_targets(
    filter: Option<&str>,
    targets: &[TargetConfig],
    queues: &[CompiledQueue],
) -> Result<Vec<CompiledTarget>, WorkflowError> {
    if targets.is_empty() {
        return Err(WorkflowError::NoTargets {
            location: filter.map_or(Location::DefaultFilter, |name| Location::Filter {
                name: name.to_owned(),
            }),
        });
    }
    let last = targets.len() - 1;
    let mut compiled = Vec::with_capacity(targets.len());
    for (index, target) in targets.iter().enumerate() {
        let location = || Location::Target {
            filter: filter.map(str::to_owned),
            index,
        };
        let queue = queues
            .iter()
            .position(|q| q.name == target.queue)
            .ok_or_else(|| WorkflowError::UnknownQueue {
                location: location(),
                queue: target.queue.clone(),
                known: queues.iter().map(|q| q.name.clone()).collect(),
            })?;
        let expression = target
            .expression
            .as_deref()
            .map(parse)
            .transpose()
            .map_err(|source| WorkflowError::Expression {
                location: location(),
                source,
            })?;
        match target.timeout {
            Some(0) => {
                return Err(WorkflowError::ZeroTimeout {
                    location: location(),
                });
            }
            None if index != last => {
                return Err(WorkflowError::MissingTimeout {
                    location: location(),
                });
            }
            _ => {}
        }
        compiled.push(CompiledTarget {
            queue,
            expression,
            timeout: target.timeout,
            priority: target.priority,
        });
    }
    Ok(compiled)
}

/// Where a task is at a moment: its filter, the target that applies, and who may take it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step<'a> {
    /// The matching filter's friendly name, or [`DEFAULT_FILTER_NAME`] (`"default"`).
    pub filter: &'a str,
    /// The 0-based index of the target that applies.
    pub target_index: usize,
    /// The target's queue name.
    pub queue: &'a str,
    /// The target's priority, if it sets one.
    pub priority: Option<i64>,
    /// Seconds until the next target applies; `None` on the last target.
    pub escalates_in_secs: Option<f64>,
    target_workers: &'a Expr,
    target_expression: Option<&'a Expr>,
}

impl Step<'_> {
    /// Whether `worker` (its attributes) may take `task` at this step: it satisfies the queue's
    /// `target_workers` and the target's expression, if any (unprefixed paths reading the worker,
    /// `task.` paths the task).
    #[must_use]
    pub fn matches(&self, task: &Value, worker: &Value) -> bool {
        let ctx = Context::for_worker(worker, Some(task));
        self.target_workers.eval(&ctx) && self.target_expression.is_none_or(|e| e.eval(&ctx))
    }
}

/// A worker that might be offered a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The worker's id; breaks ties between equally idle workers (smallest first).
    pub id: String,
    /// The worker's attributes (a JSON object).
    pub attributes: Value,
    /// How many more tasks the worker can take now; 0 means busy.
    pub free_capacity: u32,
    /// Seconds since the worker last finished or was offered a task.
    pub idle_secs: f64,
}

/// The candidate to offer `task` to at `step`: among those with free capacity that
/// [`Step::matches`], the longest idle (TaskRouter's default order), ties going to the smallest
/// id. A negative or NaN `idle_secs` counts as 0. `None` if nobody qualifies.
#[must_use]
pub fn choose_worker<'a>(
    step: &Step<'_>,
    task: &Value,
    candidates: impl IntoIterator<Item = &'a Candidate>,
) -> Option<&'a Candidate> {
    let idle = |c: &Candidate| if c.idle_secs > 0.0 { c.idle_secs } else { 0.0 };
    candidates
        .into_iter()
        .filter(|c| c.free_capacity > 0 && step.matches(task, &c.attributes))
        .max_by(|a, b| idle(a).total_cmp(&idle(b)).then_with(|| b.id.cmp(&a.id)))
}

#[cfg(test)]
mod tests;
