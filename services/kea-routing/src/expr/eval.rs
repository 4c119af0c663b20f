//! Evaluation of an [`Expr`] against worker and task attributes.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::{CompareOp, Expr, Operand, Path, Root, Scalar};

/// Whose attributes an unprefixed path (`languages`, not `worker.languages`) reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// The worker: a queue's `target_workers` and a target's expression.
    Worker,
    /// The task: a workflow filter's expression.
    Task,
}

/// The attributes an expression is evaluated against.
///
/// An attribute of an absent worker or task is missing, like any other missing attribute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Context<'a> {
    /// Whose attributes unprefixed paths read.
    pub subject: Subject,
    /// The worker's attributes (a JSON object), if there is a worker.
    pub worker: Option<&'a Value>,
    /// The task's attributes (a JSON object), if there is a task.
    pub task: Option<&'a Value>,
}

impl<'a> Context<'a> {
    /// A context about a worker, as for a queue's `target_workers`, with the task if known.
    #[must_use]
    pub const fn for_worker(worker: &'a Value, task: Option<&'a Value>) -> Self {
        Self {
            subject: Subject::Worker,
            worker: Some(worker),
            task,
        }
    }

    /// A context about a task alone, as for a workflow filter.
    #[must_use]
    pub const fn for_task(task: &'a Value) -> Self {
        Self {
            subject: Subject::Task,
            worker: None,
            task: Some(task),
        }
    }

    /// Looks `path` up, walking JSON objects; `None` if anything along the way is missing.
    fn find(&self, path: &Path) -> Option<&'a Value> {
        let root = match (path.root, self.subject) {
            (Root::Worker, _) | (Root::Subject, Subject::Worker) => self.worker,
            (Root::Task, _) | (Root::Subject, Subject::Task) => self.task,
        }?;
        path.segments
            .iter()
            .try_fold(root, |value, key| value.as_object()?.get(key))
    }
}

impl Expr {
    /// Decides the expression against `ctx`.
    ///
    /// - A missing attribute is null, and every comparison with null is false, except `!=`,
    ///   which is true when exactly one side is null.
    /// - `==` and `!=` compare values of the same type (strings case-sensitively, numbers
    ///   numerically, arrays element by element); values of different types are unequal.
    /// - `<`, `<=`, `>`, `>=` order two numbers numerically or two strings lexicographically, and
    ///   are false for anything else.
    /// - `HAS`: the left array has an element equal to the right; a scalar left acts as a
    ///   one-element array.
    /// - `CONTAINS`: the left string contains the right string, or as `HAS`.
    /// - `IN`: the right array has an element equal to the left; a scalar right acts as a
    ///   one-element array. `NOT IN` is its negation, but false when either side is null.
    ///
    /// ```
    /// use kea_routing::expr::{Context, parse};
    /// use serde_json::json;
    ///
    /// let task = json!({"kind": "transfer", "language": "es"});
    /// let filter = parse(r#"kind == "transfer" AND language IN ["es", "en"]"#).unwrap();
    /// assert!(filter.eval(&Context::for_task(&task)));
    /// ```
    #[must_use]
    pub fn eval(&self, ctx: &Context<'_>) -> bool {
        match self {
            Self::Or(items) => items.iter().any(|item| item.eval(ctx)),
            Self::And(items) => items.iter().all(|item| item.eval(ctx)),
            Self::Not(inner) => !inner.eval(ctx),
            Self::Bool(value) => *value,
            Self::Compare { left, op, right } => {
                compare(&resolve(left, ctx), *op, &resolve(right, ctx))
            }
        }
    }
}

/// A value during evaluation, borrowed from either the expression or the JSON attributes.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Str(&'a str),
    Array(Items<'a>),
    Object(&'a Map<String, Value>),
}

/// The elements of an array value.
#[derive(Debug, Clone, Copy)]
enum Items<'a> {
    Json(&'a [Value]),
    Literal(&'a [Scalar]),
}

impl<'a> Items<'a> {
    fn len(self) -> usize {
        match self {
            Self::Json(items) => items.len(),
            Self::Literal(items) => items.len(),
        }
    }

    fn iter(self) -> impl Iterator<Item = Val<'a>> {
        let (json, literal) = match self {
            Self::Json(items) => (items, &[][..]),
            Self::Literal(items) => (&[][..], items),
        };
        json.iter()
            .map(Val::from_json)
            .chain(literal.iter().map(Val::from_scalar))
    }
}

impl<'a> Val<'a> {
    fn from_json(value: &'a Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => n.as_f64().map_or(Self::Null, Self::Number),
            Value::String(s) => Self::Str(s),
            Value::Array(items) => Self::Array(Items::Json(items)),
            Value::Object(map) => Self::Object(map),
        }
    }

    fn from_scalar(scalar: &'a Scalar) -> Self {
        match scalar {
            Scalar::String(s) => Self::Str(s),
            Scalar::Number(n) => Self::Number(*n),
            Scalar::Bool(b) => Self::Bool(*b),
        }
    }

    const fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// Whether this value, taken as an array (a scalar being a one-element array), has an
    /// element equal to `needle`.
    fn has(&self, needle: &Self) -> bool {
        match self {
            Self::Array(items) => items.iter().any(|item| equals(&item, needle)),
            other => equals(other, needle),
        }
    }
}

fn resolve<'a>(operand: &'a Operand, ctx: &Context<'a>) -> Val<'a> {
    match operand {
        Operand::Path(path) => ctx.find(path).map_or(Val::Null, Val::from_json),
        Operand::Scalar(scalar) => Val::from_scalar(scalar),
        Operand::Array(items) => Val::Array(Items::Literal(items)),
    }
}

/// Equality of two values of the same type; null equals nothing, not even null.
fn equals(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Number(x), Val::Number(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Array(x), Val::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equals(&p, &q))
        }
        (Val::Object(x), Val::Object(y)) => x == y,
        _ => false,
    }
}

fn ordering(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Number(x), Val::Number(y)) => x.partial_cmp(y),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare(left: &Val<'_>, op: CompareOp, right: &Val<'_>) -> bool {
    if left.is_null() || right.is_null() {
        return op == CompareOp::Ne && left.is_null() != right.is_null();
    }
    match op {
        CompareOp::Eq => equals(left, right),
        CompareOp::Ne => !equals(left, right),
        CompareOp::Lt => ordering(left, right) == Some(Ordering::Less),
        CompareOp::Le => ordering(left, right).is_some_and(Ordering::is_le),
        CompareOp::Gt => ordering(left, right) == Some(Ordering::Greater),
        CompareOp::Ge => ordering(left, right).is_some_and(Ordering::is_ge),
        CompareOp::Has => left.has(right),
        CompareOp::Contains => match (left, right) {
            (Val::Str(haystack), Val::Str(needle)) => haystack.contains(needle),
            _ => left.has(right),
        },
        CompareOp::In => right.has(left),
        CompareOp::NotIn => !right.has(left),
    }
}
