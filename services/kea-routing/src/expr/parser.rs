//! The recursive-descent parser over [`lexer`](super::lexer) tokens.

use super::lexer::{Keyword, Token, TokenKind, tokenize};
use super::{CompareOp, Expr, Operand, ParseError, Path, Root, Scalar};

/// The deepest nesting of parentheses and `NOT` that [`parse`] accepts, so that evaluating,
/// printing and dropping a parsed expression can never exhaust the stack.
pub const MAX_DEPTH: usize = 64;

/// Parses a TaskRouter-style expression (see the [module documentation](super) for the
/// grammar).
///
/// # Errors
///
/// A [`ParseError`] pointing at the offending column: an unterminated string, an unexpected
/// character, a missing operand or operator, an unclosed `(` or `[`, input left over after a
/// complete expression, an empty expression, or nesting deeper than [`MAX_DEPTH`].
///
/// ```
/// use kea_routing::expr::parse;
///
/// let err = parse("languages HAS").unwrap_err();
/// assert_eq!(err.to_string(), "column 14: expected a value after HAS, found end of expression");
/// ```
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser {
        tokens: tokenize(src)?,
        pos: 0,
        depth: 0,
    };
    if parser.peek().kind == TokenKind::Eof {
        return Err(parser.error_here("empty expression"));
    }
    let expr = parser.or()?;
    let rest = parser.peek();
    match rest.kind {
        TokenKind::Eof => Ok(expr),
        TokenKind::RParen => Err(parser.error_here("unmatched `)`")),
        _ => Err(parser.error_here(format!(
            "unexpected {} after a complete expression",
            rest.describe()
        ))),
    }
}

struct Parser<'s> {
    /// Never empty: the last token is always [`TokenKind::Eof`].
    tokens: Vec<Token<'s>>,
    /// Index of the current token; never moves past the `Eof` token.
    pos: usize,
    /// Current nesting of parentheses and `NOT`.
    depth: usize,
}

/// Stands in for a token when the token list is somehow empty (it never is).
const END: Token<'static> = Token {
    kind: TokenKind::Eof,
    column: 1,
    text: "",
};

impl<'s> Parser<'s> {
    fn peek(&self) -> &Token<'s> {
        self.tokens.get(self.pos).unwrap_or(&END)
    }

    fn advance(&mut self) {
        if self.peek().kind != TokenKind::Eof {
            self.pos += 1;
        }
    }

    /// Consumes the current token if it is `keyword`.
    fn eat_keyword(&mut self, keyword: Keyword) -> bool {
        let found = self.peek().kind == TokenKind::Keyword(keyword);
        if found {
            self.advance();
        }
        found
    }

    fn error_here(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(self.peek().column, message)
    }

    /// How messages name the token just consumed (`NOT IN` for the pair).
    fn describe_previous(&self) -> Option<String> {
        let previous = self.tokens.get(self.pos.checked_sub(1)?)?;
        let before = self.pos.checked_sub(2).and_then(|i| self.tokens.get(i));
        let is_not = |t: &Token<'_>| t.kind == TokenKind::Keyword(Keyword::Not);
        if previous.kind == TokenKind::Keyword(Keyword::In) && before.is_some_and(is_not) {
            return Some("NOT IN".to_owned());
        }
        Some(previous.describe())
    }

    /// `expected {what} after {previous token}, found {current token}` at the current token.
    fn expected(&self, what: &str) -> ParseError {
        let found = self.peek().describe();
        match self.describe_previous() {
            Some(previous) => {
                self.error_here(format!("expected {what} after {previous}, found {found}"))
            }
            None => self.error_here(format!("expected {what}, found {found}")),
        }
    }

    /// Records one more level of nesting, failing past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(format!(
                "expression is nested too deeply (more than {MAX_DEPTH} levels of parentheses and NOT)"
            )));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let first = self.and()?;
        if self.peek().kind != TokenKind::Keyword(Keyword::Or) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_keyword(Keyword::Or) {
            items.push(self.and()?);
        }
        Ok(Expr::Or(items))
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let first = self.unary()?;
        if self.peek().kind != TokenKind::Keyword(Keyword::And) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_keyword(Keyword::And) {
            items.push(self.unary()?);
        }
        Ok(Expr::And(items))
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        match self.peek().kind {
            TokenKind::Keyword(Keyword::Not) => {
                self.enter()?;
                self.advance();
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            TokenKind::LParen => {
                self.enter()?;
                let open = self.peek().column;
                self.advance();
                let inner = self.or()?;
                if self.peek().kind != TokenKind::RParen {
                    let found = self.peek().describe();
                    return Err(self.error_here(format!(
                        "expected `)` to close the `(` at column {open}, found {found}"
                    )));
                }
                self.advance();
                self.depth -= 1;
                Ok(inner)
            }
            _ => self.comparison(),
        }
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let Some(left) = self.operand()? else {
            return Err(self.expected("a condition"));
        };
        if let Some(op) = self.operator()? {
            let Some(right) = self.operand()? else {
                return Err(self.expected("a value"));
            };
            return Ok(Expr::Compare { left, op, right });
        }
        match left {
            Operand::Scalar(Scalar::Bool(value)) => Ok(Expr::Bool(value)),
            _ => Err(self.expected("an operator such as ==, HAS or IN")),
        }
    }

    /// The comparison operator at the current token, if there is one.
    fn operator(&mut self) -> Result<Option<CompareOp>, ParseError> {
        let op = match self.peek().kind {
            TokenKind::Compare(op) => op,
            TokenKind::Keyword(Keyword::Has) => CompareOp::Has,
            TokenKind::Keyword(Keyword::Contains) => CompareOp::Contains,
            TokenKind::Keyword(Keyword::In) => CompareOp::In,
            TokenKind::Keyword(Keyword::Not) => {
                self.advance();
                if self.peek().kind != TokenKind::Keyword(Keyword::In) {
                    return Err(self.expected("IN"));
                }
                CompareOp::NotIn
            }
            _ => return Ok(None),
        };
        self.advance();
        Ok(Some(op))
    }

    /// The operand at the current token, or `None` (consuming nothing) if none starts here.
    fn operand(&mut self) -> Result<Option<Operand>, ParseError> {
        let token = self.peek();
        let operand = match &token.kind {
            TokenKind::Ident => Operand::Path(path(token.text)),
            TokenKind::LBracket => return self.array().map(Some),
            _ => match scalar(token) {
                Some(scalar) => Operand::Scalar(scalar),
                None => return Ok(None),
            },
        };
        self.advance();
        Ok(Some(operand))
    }

    /// An array literal; the current token is its `[`.
    fn array(&mut self) -> Result<Operand, ParseError> {
        let open = self.peek().column;
        self.advance();
        let mut items = Vec::new();
        if self.peek().kind == TokenKind::RBracket {
            self.advance();
            return Ok(Operand::Array(items));
        }
        loop {
            let Some(item) = scalar(self.peek()) else {
                return Err(self.expected("a string, number or boolean"));
            };
            items.push(item);
            self.advance();
            match self.peek().kind {
                TokenKind::Comma => self.advance(),
                TokenKind::RBracket => {
                    self.advance();
                    return Ok(Operand::Array(items));
                }
                _ => {
                    let found = self.peek().describe();
                    return Err(self.error_here(format!(
                        "expected `,` or `]` to close the `[` at column {open}, found {found}"
                    )));
                }
            }
        }
    }
}

/// The literal a token spells, if it is one.
fn scalar(token: &Token<'_>) -> Option<Scalar> {
    match &token.kind {
        TokenKind::Str(text) => Some(Scalar::String(text.clone())),
        TokenKind::Number(number) => Some(Scalar::Number(*number)),
        TokenKind::Keyword(Keyword::True) => Some(Scalar::Bool(true)),
        TokenKind::Keyword(Keyword::False) => Some(Scalar::Bool(false)),
        _ => None,
    }
}

/// Splits a dotted identifier into a [`Path`], recognising the `worker.` and `task.` prefixes.
fn path(text: &str) -> Path {
    let mut segments: Vec<String> = text.split('.').map(str::to_owned).collect();
    let root = match segments.first().map(String::as_str) {
        Some("worker") if segments.len() > 1 => Root::Worker,
        Some("task") if segments.len() > 1 => Root::Task,
        _ => Root::Subject,
    };
    if root != Root::Subject {
        segments.remove(0);
    }
    Path { root, segments }
}
