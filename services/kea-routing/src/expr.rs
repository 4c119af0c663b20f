//! TaskRouter-style expressions: parsing, evaluation and canonical printing.
//!
//! An expression is a boolean condition over JSON attributes, such as a queue's
//! `target_workers` (`languages HAS "es" AND stores HAS "la-casita"`) or a workflow filter
//! (`kind == "transfer"`). [`parse`] turns source text into an [`Expr`], [`Expr::eval`] decides it
//! against a [`Context`], and [`Expr`]'s `Display` prints a canonical form that parses back to the
//! same tree.
//!
//! # Grammar
//!
//! Keywords (`AND`, `OR`, `NOT`, `HAS`, `CONTAINS`, `IN`, `true`, `false`) are case-insensitive;
//! `&&` and `||` are synonyms for `AND` and `OR`.
//!
//! ```text
//! expr       := or
//! or         := and ( ("OR" | "||") and )*
//! and        := unary ( ("AND" | "&&") unary )*
//! unary      := "NOT" unary | "(" expr ")" | comparison
//! comparison := operand ( op operand )?        -- a lone operand must be true or false
//! op         := "==" | "=" | "!=" | "<" | "<=" | ">" | ">=" | "HAS" | "CONTAINS" | "IN" | "NOT" "IN"
//! operand    := string | number | "true" | "false" | array | path
//! array      := "[" ( scalar ( "," scalar )* )? "]"
//! path       := ident ( "." ident )*
//! ```
//!
//! Strings are in double or single quotes, with the escapes `\"`, `\'` and `\\`. Numbers are
//! decimal, optionally negative (`-3`, `2.5`). A path's first segment `worker` or `task` (followed
//! by at least one more segment) addresses the worker or the task explicitly; any other path
//! addresses the [`Context::subject`].
//!
//! ```
//! use kea_routing::expr::{Context, parse};
//! use serde_json::json;
//!
//! let queue = parse(r#"languages HAS "es" AND stores HAS task.store_id"#).unwrap();
//! let worker = json!({"languages": ["en", "es"], "stores": ["la-casita"]});
//! let task = json!({"store_id": "la-casita"});
//! assert!(queue.eval(&Context::for_worker(&worker, Some(&task))));
//! assert_eq!(queue.to_string(), r#"languages HAS "es" AND stores HAS task.store_id"#);
//! ```

mod eval;
mod lexer;
mod parser;

use std::fmt;
use std::str::FromStr;

pub use eval::{Context, Subject};
pub use parser::{MAX_DEPTH, parse};

/// A parsed expression.
///
/// Trees built by [`parse`] always give [`Expr::Or`] and [`Expr::And`] at least two operands;
/// printing a tree built by hand with fewer still works (an empty `Or` prints as `false`, an empty
/// `And` as `true`), but then the printed form parses back to the simplified tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// True if any operand is true.
    Or(Vec<Expr>),
    /// True if every operand is true.
    And(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// A lone `true` or `false`.
    Bool(bool),
    /// A comparison of two operands.
    Compare {
        /// The left-hand side.
        left: Operand,
        /// The operator.
        op: CompareOp,
        /// The right-hand side.
        right: Operand,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `==` (also written `=`): equal values of the same type.
    Eq,
    /// `!=`: not equal; true when exactly one side is missing.
    Ne,
    /// `<`: numbers numerically, strings lexicographically.
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `HAS`: the left array contains the right value (a scalar left acts as a one-element array).
    Has,
    /// `CONTAINS`: the left string contains the right substring, or the left array contains the
    /// right value.
    Contains,
    /// `IN`: the left value is an element of the right array (a scalar right acts as a
    /// one-element array).
    In,
    /// `NOT IN`: the negation of `IN`, except that it is false when either side is missing.
    NotIn,
}

impl CompareOp {
    /// The operator's canonical spelling, as [`Expr`]'s `Display` prints it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Has => "HAS",
            Self::Contains => "CONTAINS",
            Self::In => "IN",
            Self::NotIn => "NOT IN",
        }
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// An attribute looked up at evaluation time.
    Path(Path),
    /// A string, number or boolean literal.
    Scalar(Scalar),
    /// An array literal such as `["es", 'en', 1]`.
    Array(Vec<Scalar>),
}

/// A literal string, number or boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// A string literal (already unescaped).
    String(String),
    /// A number literal. Parsed literals are always finite.
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
}

/// Whose attributes a [`Path`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Root {
    /// An unprefixed path: the [`Context::subject`]'s attributes.
    Subject,
    /// A `worker.` path.
    Worker,
    /// A `task.` path.
    Task,
}

/// An attribute path such as `languages`, `worker.languages` or `task.customer.vip`.
///
/// Segments are identifiers (`[A-Za-z_][A-Za-z0-9_]*`). A [`Root::Subject`] path whose first
/// segment is `worker` or `task` and that has more segments cannot be written in the source
/// language (it would read as a prefixed path), so parsed paths never have that shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    /// Whose attributes to read.
    pub root: Root,
    /// The object keys to walk, outermost first.
    pub segments: Vec<String>,
}

impl FromStr for Expr {
    type Err = ParseError;

    fn from_str(src: &str) -> Result<Self, Self::Err> {
        parse(src)
    }
}

/// Why an expression did not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    /// The 1-based column of the problem, counted in characters (not bytes). One past the last
    /// character means "at the end of the expression".
    pub column: usize,
    /// What is wrong, e.g. `expected a value after HAS, found end of expression`.
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(column: usize, message: impl Into<String>) -> Self {
        Self {
            column,
            message: message.into(),
        }
    }

    /// Renders the source line containing the error with a caret under the column, for CLI
    /// output:
    ///
    /// ```
    /// let src = "languages HAS";
    /// let err = kea_routing::expr::parse(src).unwrap_err();
    /// assert_eq!(err.render(src), "languages HAS\n             ^");
    /// ```
    ///
    /// Tabs before the column are kept so the caret lines up; for a multi-line source only the
    /// line holding the column is shown.
    #[must_use]
    pub fn render(&self, src: &str) -> String {
        let target = self.column.saturating_sub(1);
        let mut line_start = 0;
        for (index, c) in src.chars().enumerate() {
            if index >= target {
                break;
            }
            if c == '\n' {
                line_start = index + 1;
            }
        }
        let line: String = src
            .chars()
            .skip(line_start)
            .take_while(|&c| c != '\n')
            .collect();
        let line = line.strip_suffix('\r').unwrap_or(&line);
        let mut out = String::with_capacity(2 * line.len() + 2);
        out.push_str(line);
        out.push('\n');
        out.extend(
            line.chars()
                .chain(std::iter::repeat(' '))
                .take(target - line_start)
                .map(|c| if c == '\t' { '\t' } else { ' ' }),
        );
        out.push('^');
        out
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Or(items) => {
                write_joined(f, items, " OR ", "false", |e| matches!(e, Self::Or(_)))
            }
            Self::And(items) => write_joined(f, items, " AND ", "true", |e| {
                matches!(e, Self::Or(_) | Self::And(_))
            }),
            Self::Not(inner) => {
                f.write_str("NOT ")?;
                write_child(f, inner, matches!(**inner, Self::Or(_) | Self::And(_)))
            }
            Self::Bool(value) => write!(f, "{value}"),
            Self::Compare { left, op, right } => write!(f, "{left} {op} {right}"),
        }
    }
}

/// Writes `items` separated by `separator`, parenthesising those for which `needs_parens` holds.
fn write_joined(
    f: &mut fmt::Formatter<'_>,
    items: &[Expr],
    separator: &str,
    empty: &str,
    needs_parens: impl Fn(&Expr) -> bool,
) -> fmt::Result {
    if items.is_empty() {
        return f.write_str(empty);
    }
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            f.write_str(separator)?;
        }
        write_child(f, item, needs_parens(item))?;
    }
    Ok(())
}

fn write_child(f: &mut fmt::Formatter<'_>, child: &Expr, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({child})")
    } else {
        write!(f, "{child}")
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(path) => write!(f, "{path}"),
            Self::Scalar(scalar) => write!(f, "{scalar}"),
            Self::Array(items) => {
                f.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl fmt::Display for Scalar {
    /// Strings print in double quotes with `"` and `\` escaped; numbers print in Rust's shortest
    /// round-tripping decimal form (never with an exponent).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(text) => {
                f.write_str("\"")?;
                for c in text.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        other => write!(f, "{other}")?,
                    }
                }
                f.write_str("\"")
            }
            Self::Number(number) => write!(f, "{number}"),
            Self::Bool(value) => write!(f, "{value}"),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.root {
            Root::Subject => None,
            Root::Worker => Some("worker"),
            Root::Task => Some("task"),
        };
        let mut first = true;
        for part in prefix
            .into_iter()
            .chain(self.segments.iter().map(String::as_str))
        {
            if !first {
                f.write_str(".")?;
            }
            f.write_str(part)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
