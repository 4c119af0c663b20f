//! The tokenizer: source text to tokens that remember their 1-based character column.

use super::{CompareOp, ParseError};

/// A reserved word (matched case-insensitively) or its symbolic synonym.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keyword {
    And,
    Or,
    Not,
    Has,
    Contains,
    In,
    True,
    False,
}

impl Keyword {
    fn from_word(word: &str) -> Option<Self> {
        const WORDS: [(&str, Keyword); 8] = [
            ("and", Keyword::And),
            ("or", Keyword::Or),
            ("not", Keyword::Not),
            ("has", Keyword::Has),
            ("contains", Keyword::Contains),
            ("in", Keyword::In),
            ("true", Keyword::True),
            ("false", Keyword::False),
        ];
        WORDS
            .iter()
            .find(|(spelling, _)| spelling.eq_ignore_ascii_case(word))
            .map(|&(_, keyword)| keyword)
    }
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
    /// An attribute path, possibly dotted (`task.customer.vip`); the token's text is the path.
    Ident,
    Keyword(Keyword),
    /// A string literal, unescaped.
    Str(String),
    Number(f64),
    Compare(CompareOp),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    /// The end of the source; always the last token.
    Eof,
}

/// A token with its position and source text.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token<'s> {
    pub kind: TokenKind,
    /// 1-based column of the token's first character, counted in characters.
    pub column: usize,
    /// The token exactly as written (empty for [`TokenKind::Eof`]).
    pub text: &'s str,
}

impl Token<'_> {
    /// How error messages name this token: word operators in capitals (`HAS`), the end as
    /// `end of expression`, anything else as written, in backticks.
    pub(super) fn describe(&self) -> String {
        match self.kind {
            TokenKind::Eof => "end of expression".to_owned(),
            TokenKind::Keyword(Keyword::True | Keyword::False) => format!("`{}`", self.text),
            TokenKind::Keyword(_) if self.text.chars().all(|c| c.is_ascii_alphabetic()) => {
                self.text.to_ascii_uppercase()
            }
            _ => format!("`{}`", self.text),
        }
    }
}

/// Splits `src` into tokens, ending with [`TokenKind::Eof`].
pub(super) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, ParseError> {
    let mut lexer = Lexer {
        src,
        chars: src.char_indices().collect(),
        pos: 0,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let done = token.kind == TokenKind::Eof;
        tokens.push(token);
        if done {
            return Ok(tokens);
        }
    }
}

struct Lexer<'s> {
    src: &'s str,
    /// Every character with its byte offset; the index into this is the character position.
    chars: Vec<(usize, char)>,
    /// Character position of the next unread character.
    pos: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl<'s> Lexer<'s> {
    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).map(|&(_, c)| c)
    }

    fn byte_offset(&self, pos: usize) -> usize {
        self.chars
            .get(pos)
            .map_or(self.src.len(), |&(byte, _)| byte)
    }

    /// The 1-based column of character position `pos`.
    const fn column(pos: usize) -> usize {
        pos + 1
    }

    fn next_token(&mut self) -> Result<Token<'s>, ParseError> {
        while self.peek_at(0).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.peek_at(0) else {
            return Ok(Token {
                kind: TokenKind::Eof,
                column: Self::column(start),
                text: "",
            });
        };
        let next = self.peek_at(1);
        let kind = match c {
            '(' => self.single(TokenKind::LParen),
            ')' => self.single(TokenKind::RParen),
            '[' => self.single(TokenKind::LBracket),
            ']' => self.single(TokenKind::RBracket),
            ',' => self.single(TokenKind::Comma),
            '=' if next == Some('=') => self.double(TokenKind::Compare(CompareOp::Eq)),
            '=' => self.single(TokenKind::Compare(CompareOp::Eq)),
            '!' if next == Some('=') => self.double(TokenKind::Compare(CompareOp::Ne)),
            '<' if next == Some('=') => self.double(TokenKind::Compare(CompareOp::Le)),
            '<' => self.single(TokenKind::Compare(CompareOp::Lt)),
            '>' if next == Some('=') => self.double(TokenKind::Compare(CompareOp::Ge)),
            '>' => self.single(TokenKind::Compare(CompareOp::Gt)),
            '&' if next == Some('&') => self.double(TokenKind::Keyword(Keyword::And)),
            '|' if next == Some('|') => self.double(TokenKind::Keyword(Keyword::Or)),
            '"' | '\'' => self.string(c)?,
            '-' if next.is_some_and(|n| n.is_ascii_digit()) => self.number()?,
            _ if c.is_ascii_digit() => self.number()?,
            _ if is_ident_start(c) => self.word()?,
            _ => return Err(unexpected_character(start, c)),
        };
        let text = &self.src[self.byte_offset(start)..self.byte_offset(self.pos)];
        Ok(Token {
            kind,
            column: Self::column(start),
            text,
        })
    }

    fn single(&mut self, kind: TokenKind) -> TokenKind {
        self.pos += 1;
        kind
    }

    fn double(&mut self, kind: TokenKind) -> TokenKind {
        self.pos += 2;
        kind
    }

    /// A quoted string; `self.pos` is at the opening `quote`.
    fn string(&mut self, quote: char) -> Result<TokenKind, ParseError> {
        let open = self.pos;
        let unterminated = || {
            ParseError::new(
                Self::column(open),
                format!("unterminated string: missing closing `{quote}`"),
            )
        };
        self.pos += 1;
        let mut value = String::new();
        loop {
            let c = self.peek_at(0).ok_or_else(unterminated)?;
            self.pos += 1;
            if c == quote {
                return Ok(TokenKind::Str(value));
            }
            if c != '\\' {
                value.push(c);
                continue;
            }
            let escaped = self.peek_at(0).ok_or_else(unterminated)?;
            match escaped {
                '"' | '\'' | '\\' => {
                    value.push(escaped);
                    self.pos += 1;
                }
                other => {
                    return Err(ParseError::new(
                        Self::column(self.pos - 1),
                        format!(
                            "unknown escape `\\{other}` in string (only \\\", \\' and \\\\ are allowed)"
                        ),
                    ));
                }
            }
        }
    }

    /// A number: `-`? digits ( `.` digits )?; `self.pos` is at the sign or first digit.
    fn number(&mut self) -> Result<TokenKind, ParseError> {
        let start = self.pos;
        if self.peek_at(0) == Some('-') {
            self.pos += 1;
        }
        self.skip_digits();
        if self.peek_at(0) == Some('.') {
            self.pos += 1;
            if !self.peek_at(0).is_some_and(|c| c.is_ascii_digit()) {
                return Err(ParseError::new(
                    Self::column(self.pos),
                    "expected a digit after the decimal point",
                ));
            }
            self.skip_digits();
        }
        let text = &self.src[self.byte_offset(start)..self.byte_offset(self.pos)];
        match text.parse::<f64>() {
            Ok(number) if number.is_finite() => Ok(TokenKind::Number(number)),
            _ => Err(ParseError::new(
                Self::column(start),
                format!("number `{text}` is too large"),
            )),
        }
    }

    fn skip_digits(&mut self) {
        while self.peek_at(0).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A keyword or an attribute path; `self.pos` is at an identifier's first character.
    fn word(&mut self) -> Result<TokenKind, ParseError> {
        let start = self.pos;
        let mut dotted = false;
        loop {
            while self.peek_at(0).is_some_and(is_ident_continue) {
                self.pos += 1;
            }
            if self.peek_at(0) != Some('.') {
                break;
            }
            if !self.peek_at(1).is_some_and(is_ident_start) {
                return Err(ParseError::new(
                    Self::column(self.pos + 1),
                    "expected an attribute name after `.`",
                ));
            }
            self.pos += 1;
            dotted = true;
        }
        let text = &self.src[self.byte_offset(start)..self.byte_offset(self.pos)];
        Ok(match Keyword::from_word(text) {
            Some(keyword) if !dotted => TokenKind::Keyword(keyword),
            _ => TokenKind::Ident,
        })
    }
}

fn unexpected_character(pos: usize, c: char) -> ParseError {
    let hint = match c {
        '!' => " (use `!=` or NOT)",
        '&' => " (did you mean `&&`?)",
        '|' => " (did you mean `||`?)",
        _ => "",
    };
    ParseError::new(
        Lexer::column(pos),
        format!("unexpected character `{c}`{hint}"),
    )
}
