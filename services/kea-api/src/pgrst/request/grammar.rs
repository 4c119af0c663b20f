//! The query-string grammar: `select=`, filters (`col=op.value`), logic trees (`or=(…)`),
//! `order=`, the percent-decoding of the query string, and the printing of the grammar back
//! (the [`fmt::Display`] impls and [`write_select`]).

use std::fmt;

use super::types::{
    Embed, Field, Filter, FtsOp, IsValue, JsonKey, JsonOp, LogicOp, LogicTree, Operation,
    OrderTerm, Quantifier, SelectItem, SimpleOp,
};
use crate::pgrst::error::PgrstError;

/// Decodes `a=1&b=%20x+y` into pairs (`+` is a space, as PostgREST's query parser does).
pub(super) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A character cursor over one parameter value.
pub(super) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
    pub(super) fn eat(&mut self, prefix: &str) -> bool {
        if self.rest().starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }
    pub(super) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    pub(super) fn error(&self, what: &str) -> PgrstError {
        let at = self.s.get(..self.pos).unwrap_or("").chars().count() + 1;
        let details = if self.at_end() {
            format!("unexpected end of input at character {at}")
        } else {
            let near: String = self.rest().chars().take(16).collect();
            format!("unexpected \"{near}\" at character {at}")
        };
        PgrstError::parse(format!("failed to parse {what} ({})", self.s), details)
    }
    /// An identifier: letters, digits, `_`, `$`, or a double-quoted name.
    pub(super) fn ident(&mut self, what: &str) -> Result<String, PgrstError> {
        if self.peek() == Some('"') {
            self.bump();
            let mut out = String::new();
            loop {
                match self.bump() {
                    Some('"') => break,
                    Some('\\') => match self.bump() {
                        Some(c) => out.push(c),
                        None => return Err(self.error(what)),
                    },
                    Some(c) => out.push(c),
                    None => return Err(self.error(what)),
                }
            }
            if out.is_empty() {
                return Err(self.error(what));
            }
            return Ok(out);
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            self.bump();
        }
        if self.pos == start {
            return Err(self.error(what));
        }
        Ok(self.s.get(start..self.pos).unwrap_or("").to_owned())
    }
}

/// Parses `select=` (PostgREST's `pRequestSelect`).
pub(super) fn parse_select(s: &str) -> Result<Vec<SelectItem>, PgrstError> {
    let mut c = Cursor::new(s);
    c.skip_ws();
    if c.at_end() {
        return Ok(vec![SelectItem::Star]);
    }
    let items = select_list(&mut c, 0)?;
    if !c.at_end() {
        return Err(c.error("select parameter"));
    }
    Ok(items)
}

const MAX_DEPTH: usize = 16;

fn select_list(c: &mut Cursor<'_>, depth: usize) -> Result<Vec<SelectItem>, PgrstError> {
    if depth > MAX_DEPTH {
        return Err(c.error("select: too deeply nested"));
    }
    let mut items = Vec::new();
    loop {
        c.skip_ws();
        items.push(select_item(c, depth)?);
        c.skip_ws();
        if !c.eat(",") {
            return Ok(items);
        }
    }
}

fn select_item(c: &mut Cursor<'_>, depth: usize) -> Result<SelectItem, PgrstError> {
    if c.eat("*") {
        return Ok(SelectItem::Star);
    }
    let first = c.ident("select parameter")?;
    // `alias:` (but not the `::` of a cast)
    let (alias, name) = if c.rest().starts_with(':') && !c.rest().starts_with("::") {
        c.bump();
        c.skip_ws();
        (Some(first), c.ident("select parameter")?)
    } else {
        (None, first)
    };
    if c.peek() == Some('!') || c.peek() == Some('(') {
        let mut hint = None;
        let mut inner = false;
        while c.eat("!") {
            let m = c.ident("select: embed hint")?;
            match m.as_str() {
                "inner" => inner = true,
                "left" => inner = false,
                _ if hint.is_none() => hint = Some(m),
                _ => return Err(c.error("select: more than one embed hint")),
            }
        }
        if !c.eat("(") {
            return Err(c.error("select parameter"));
        }
        c.skip_ws();
        let select = if c.eat(")") {
            Vec::new()
        } else {
            let items = select_list(c, depth + 1)?;
            c.skip_ws();
            if !c.eat(")") {
                return Err(c.error("select parameter"));
            }
            items
        };
        return Ok(SelectItem::Embed(Embed {
            alias,
            name,
            hint,
            inner,
            select,
        }));
    }
    let json_path = json_path(c)?;
    let cast = if c.eat("::") {
        Some(c.ident("select: cast")?)
    } else {
        None
    };
    Ok(SelectItem::Field {
        alias,
        field: Field { name, json_path },
        cast,
    })
}

fn json_path(c: &mut Cursor<'_>) -> Result<Vec<JsonOp>, PgrstError> {
    let mut path = Vec::new();
    loop {
        let double = if c.eat("->>") {
            true
        } else if c.eat("->") {
            false
        } else {
            return Ok(path);
        };
        let start = c.pos;
        let negative = c.eat("-");
        let key = if !negative && c.peek() == Some('"') {
            JsonKey::Key(c.ident("json path")?)
        } else {
            let tok = c.ident("json path")?;
            let digits = c.s.get(start..c.pos).unwrap_or("");
            match digits.parse::<i64>() {
                Ok(i) if tok.chars().all(|ch| ch.is_ascii_digit()) => JsonKey::Index(i),
                _ if negative => return Err(c.error("json path")),
                _ => JsonKey::Key(tok),
            }
        };
        path.push(if double {
            JsonOp::DoubleArrow(key)
        } else {
            JsonOp::Arrow(key)
        });
    }
}

/// Parses one `key=value` query parameter as a filter (`col=op.value`), as
/// [`parse`](super::parse) does for a key that is not a reserved word.
pub fn parse_filter(key: &str, value: &str) -> Result<LogicTree, PgrstError> {
    let field = parse_field_str(key)?;
    Ok(LogicTree::Stmt(parse_filter_value(field, value)?))
}

/// Parses a filter's column part (`col` or `col->a->>b`) from a query key.
pub(super) fn parse_field_str(s: &str) -> Result<Field, PgrstError> {
    let mut c = Cursor::new(s);
    let name = c.ident("filter")?;
    let json_path = json_path(&mut c)?;
    if !c.at_end() {
        return Err(PgrstError::parse(
            format!("failed to parse filter ({s})"),
            format!("unexpected \"{}\" after the column name", c.rest()),
        ));
    }
    Ok(Field { name, json_path })
}

/// Parses the right side of `col=…`: `not.`? operator `.` value.
pub(super) fn parse_filter_value(field: Field, value: &str) -> Result<Filter, PgrstError> {
    let err = || {
        PgrstError::parse(
            format!("failed to parse filter ({value})"),
            format!(
                "unknown operator or malformed value in {}={value}",
                field.name
            ),
        )
    };
    let (negated, rest) = match value.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (op_token, operand) = rest.split_once('.').ok_or_else(err)?;
    let op = operation(op_token, operand, false).ok_or_else(err)?;
    Ok(Filter { field, negated, op })
}

/// Builds an operation from its token (`eq`, `like(any)`, `fts(english)`) and operand text.
/// `in_logic`: the operand came from inside `or=(…)`, where quotes around it are removed.
fn operation(op_token: &str, operand: &str, in_logic: bool) -> Option<Operation> {
    let (name, arg) = match op_token.split_once('(') {
        Some((n, a)) => (n, Some(a.strip_suffix(')')?)),
        None => (op_token, None),
    };
    let unquote = |s: &str| if in_logic { unquote(s) } else { s.to_owned() };
    match name {
        "in" if arg.is_none() => Some(Operation::In(list(operand, '(', ')')?)),
        "is" if arg.is_none() => Some(Operation::Is(match operand.to_ascii_lowercase().as_str() {
            "null" => IsValue::Null,
            "not_null" => IsValue::NotNull,
            "true" => IsValue::True,
            "false" => IsValue::False,
            "unknown" => IsValue::Unknown,
            _ => return None,
        })),
        "fts" | "plfts" | "phfts" | "wfts" => {
            let op = match name {
                "fts" => FtsOp::Fts,
                "plfts" => FtsOp::Plfts,
                "phfts" => FtsOp::Phfts,
                _ => FtsOp::Wfts,
            };
            let language = match arg {
                Some(l) if !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                    Some(l.to_owned())
                }
                Some(_) => return None,
                None => None,
            };
            Some(Operation::Fts {
                op,
                language,
                value: unquote(operand),
            })
        }
        _ => {
            let op = SimpleOp::from_name(name)?;
            match arg {
                None => Some(Operation::Simple {
                    op,
                    value: unquote(operand),
                }),
                Some(q) if op.quantifiable() => {
                    let quantifier = match q {
                        "any" => Quantifier::Any,
                        "all" => Quantifier::All,
                        _ => return None,
                    };
                    Some(Operation::Quantified {
                        op,
                        quantifier,
                        values: list(operand, '{', '}')?,
                    })
                }
                Some(_) => None,
            }
        }
    }
}

fn unquote(s: &str) -> String {
    if let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(ch) = chars.next() {
            if ch == '\\' {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            } else {
                out.push(ch);
            }
        }
        out
    } else {
        s.to_owned()
    }
}

/// `(a,"b,c",d)` (or with braces) → items; double quotes protect commas and parentheses.
fn list(s: &str, open: char, close: char) -> Option<Vec<String>> {
    let inner = s.strip_prefix(open)?.strip_suffix(close)?;
    let mut items = Vec::new();
    if inner.is_empty() {
        return Some(items);
    }
    let mut c = Cursor::new(inner);
    loop {
        let item = if c.peek() == Some('"') {
            c.bump();
            let mut out = String::new();
            loop {
                match c.bump()? {
                    '"' => break,
                    '\\' => out.push(c.bump()?),
                    ch => out.push(ch),
                }
            }
            out
        } else {
            let start = c.pos;
            while c.peek().is_some_and(|ch| ch != ',') {
                c.bump();
            }
            inner.get(start..c.pos)?.to_owned()
        };
        items.push(item);
        if c.at_end() {
            return Some(items);
        }
        if !c.eat(",") {
            return None;
        }
    }
}

/// Parses the value of `or=`/`and=`: `(operand,operand,…)`.
pub(super) fn parse_logic_operands(s: &str) -> Result<Vec<LogicTree>, PgrstError> {
    let mut c = Cursor::new(s);
    let children = logic_group(&mut c, 0)?;
    if !c.at_end() {
        return Err(c.error("logic tree"));
    }
    Ok(children)
}

fn logic_group(c: &mut Cursor<'_>, depth: usize) -> Result<Vec<LogicTree>, PgrstError> {
    if depth > MAX_DEPTH {
        return Err(c.error("logic tree: too deeply nested"));
    }
    if !c.eat("(") {
        return Err(c.error("logic tree"));
    }
    let mut children = Vec::new();
    loop {
        c.skip_ws();
        children.push(logic_operand(c, depth)?);
        c.skip_ws();
        if c.eat(")") {
            return Ok(children);
        }
        if !c.eat(",") {
            return Err(c.error("logic tree"));
        }
    }
}

fn logic_operand(c: &mut Cursor<'_>, depth: usize) -> Result<LogicTree, PgrstError> {
    let negated = c.eat("not.");
    for (word, op) in [("and(", LogicOp::And), ("or(", LogicOp::Or)] {
        if c.rest().starts_with(word) {
            c.pos += word.len() - 1;
            let children = logic_group(c, depth + 1)?;
            return Ok(LogicTree::Expr {
                negated,
                op,
                children,
            });
        }
    }
    if negated {
        // `not.` belonged to the filter after the field: put it back.
        c.pos -= 4;
    }
    let name = c.ident("logic tree")?;
    let json_path = json_path(c)?;
    if !c.eat(".") {
        return Err(c.error("logic tree"));
    }
    let negated = c.eat("not.");
    let op_start = c.pos;
    while c.peek().is_some_and(|ch| ch != '.') {
        if c.peek() == Some('(') {
            // `like(any)` / `fts(english)`
            while c.peek().is_some_and(|ch| ch != ')') {
                c.bump();
            }
        }
        c.bump();
    }
    let op_token = c.s.get(op_start..c.pos).unwrap_or("").to_owned();
    if !c.eat(".") {
        return Err(c.error("logic tree"));
    }
    // The operand: a quoted string, a (list) or {list}, or text up to `,` or `)`.
    let start = c.pos;
    match c.peek() {
        Some('"') => {
            c.bump();
            loop {
                match c.bump() {
                    Some('"') => break,
                    Some('\\') => {
                        c.bump();
                    }
                    Some(_) => {}
                    None => return Err(c.error("logic tree: unclosed quote")),
                }
            }
        }
        Some(open @ ('(' | '{')) => {
            let close = if open == '(' { ')' } else { '}' };
            c.bump();
            let mut quoted = false;
            loop {
                match c.bump() {
                    Some('"') => quoted = !quoted,
                    Some('\\') if quoted => {
                        c.bump();
                    }
                    Some(ch) if ch == close && !quoted => break,
                    Some(_) => {}
                    None => return Err(c.error("logic tree: unclosed list")),
                }
            }
        }
        _ => {
            while c.peek().is_some_and(|ch| ch != ',' && ch != ')') {
                c.bump();
            }
        }
    }
    let operand = c.s.get(start..c.pos).unwrap_or("");
    let op = operation(&op_token, operand, true).ok_or_else(|| c.error("logic tree operator"))?;
    Ok(LogicTree::Stmt(Filter {
        field: Field { name, json_path },
        negated,
        op,
    }))
}

/// Parses `order=col.desc.nullslast,other`.
pub(super) fn parse_order(s: &str) -> Result<Vec<OrderTerm>, PgrstError> {
    let err = || {
        PgrstError::parse(
            format!("failed to parse order ({s})"),
            "expected col, col.asc|desc, col.nullsfirst|nullslast or col.asc|desc.nullsfirst|nullslast",
        )
    };
    let mut terms = Vec::new();
    for term in s.split(',') {
        let mut c = Cursor::new(term.trim());
        let name = c.ident("order").map_err(|_| err())?;
        let json_path = json_path(&mut c).map_err(|_| err())?;
        let mut descending = false;
        let mut nulls_first = None;
        let mut seen_dir = false;
        while c.eat(".") {
            let word = c.ident("order").map_err(|_| err())?;
            match word.as_str() {
                "asc" | "desc" if !seen_dir && nulls_first.is_none() => {
                    seen_dir = true;
                    descending = word == "desc";
                }
                "nullsfirst" if nulls_first.is_none() => nulls_first = Some(true),
                "nullslast" if nulls_first.is_none() => nulls_first = Some(false),
                _ => return Err(err()),
            }
        }
        if !c.at_end() {
            return Err(err());
        }
        terms.push(OrderTerm {
            field: Field { name, json_path },
            descending,
            nulls_first,
        });
    }
    Ok(terms)
}

// ---- printing: the inverse of the parsers (for round-trip tests and logs) ----

fn fmt_ident(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    {
        f.write_str(s)
    } else {
        f.write_str("\"")?;
        for ch in s.chars() {
            if ch == '"' || ch == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{ch}")?;
        }
        f.write_str("\"")
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_ident(f, &self.name)?;
        for op in &self.json_path {
            let (arrow, key) = match op {
                JsonOp::Arrow(k) => ("->", k),
                JsonOp::DoubleArrow(k) => ("->>", k),
            };
            f.write_str(arrow)?;
            match key {
                JsonKey::Index(i) => write!(f, "{i}")?,
                JsonKey::Key(k) if k.parse::<i64>().is_ok() || k.starts_with('-') => {
                    write!(f, "\"{k}\"")?
                }
                JsonKey::Key(k) => fmt_ident(f, k)?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for SelectItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Star => f.write_str("*"),
            SelectItem::Field { alias, field, cast } => {
                if let Some(a) = alias {
                    fmt_ident(f, a)?;
                    f.write_str(":")?;
                }
                write!(f, "{field}")?;
                if let Some(c) = cast {
                    f.write_str("::")?;
                    fmt_ident(f, c)?;
                }
                Ok(())
            }
            SelectItem::Embed(e) => {
                if let Some(a) = &e.alias {
                    fmt_ident(f, a)?;
                    f.write_str(":")?;
                }
                fmt_ident(f, &e.name)?;
                if let Some(h) = &e.hint {
                    f.write_str("!")?;
                    fmt_ident(f, h)?;
                }
                if e.inner {
                    f.write_str("!inner")?;
                }
                f.write_str("(")?;
                write_select(f, &e.select)?;
                f.write_str(")")
            }
        }
    }
}

/// Prints a select list as `select=` takes it.
pub(super) fn write_select(f: &mut impl fmt::Write, items: &[SelectItem]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use proptest::prelude::*;

    use super::super::tests::{field, req};
    use super::*;

    #[test]
    fn select_grammar() {
        let items = parse_select("id,total:total_cents,created_at::text,order_items(*),c:calls!inner(call_sid,call_events(seq,kind)),p:payload->a->>b,x->0").unwrap();
        assert_eq!(items.len(), 7);
        assert_eq!(
            items[0],
            SelectItem::Field {
                alias: None,
                field: field("id"),
                cast: None
            }
        );
        assert_eq!(
            items[1],
            SelectItem::Field {
                alias: Some("total".into()),
                field: field("total_cents"),
                cast: None
            }
        );
        assert_eq!(
            items[2],
            SelectItem::Field {
                alias: None,
                field: field("created_at"),
                cast: Some("text".into())
            }
        );
        let SelectItem::Embed(e) = &items[3] else {
            panic!("{:?}", items[3])
        };
        assert_eq!(
            (e.name.as_str(), e.select.as_slice()),
            ("order_items", &[SelectItem::Star][..])
        );
        let SelectItem::Embed(e) = &items[4] else {
            panic!("{:?}", items[4])
        };
        assert!(e.inner);
        assert_eq!(e.key(), "c");
        assert!(matches!(&e.select[1], SelectItem::Embed(inner) if inner.name == "call_events"));
        let SelectItem::Field { field, .. } = &items[5] else {
            panic!()
        };
        assert_eq!(
            field.json_path,
            vec![
                JsonOp::Arrow(JsonKey::Key("a".into())),
                JsonOp::DoubleArrow(JsonKey::Key("b".into()))
            ]
        );
        let SelectItem::Field { field, .. } = &items[6] else {
            panic!()
        };
        assert_eq!(field.json_path, vec![JsonOp::Arrow(JsonKey::Index(0))]);
        for bad in [
            "id,",
            "order_items(",
            "a:b:c",
            "id;drop table x",
            "(x)",
            "a!inner",
            "x::",
        ] {
            let e = parse_select(bad).unwrap_err();
            assert_eq!(e.code, "PGRST100", "{bad}");
        }
    }

    #[test]
    fn filters_and_operators() {
        let r = req("status=eq.confirmed&total_cents=not.gt.100&id=in.(a,\"b,c\")&notes=is.null&name=like.*pizza*&order_items.quantity=gte.2&tags=cs.{a,b}&name=ilike(any).{a*,b*}&x=fts(english).cat").unwrap();
        assert_eq!(r.filters.len(), 9);
        assert_eq!(
            r.filters[0].1,
            LogicTree::Stmt(Filter {
                field: field("status"),
                negated: false,
                op: Operation::Simple {
                    op: SimpleOp::Eq,
                    value: "confirmed".into()
                }
            })
        );
        assert!(matches!(
            &r.filters[1].1,
            LogicTree::Stmt(Filter {
                negated: true,
                op: Operation::Simple {
                    op: SimpleOp::Gt,
                    ..
                },
                ..
            })
        ));
        assert_eq!(
            r.filters[2].1,
            LogicTree::Stmt(Filter {
                field: field("id"),
                negated: false,
                op: Operation::In(vec!["a".into(), "b,c".into()])
            })
        );
        assert!(matches!(
            &r.filters[3].1,
            LogicTree::Stmt(Filter {
                op: Operation::Is(IsValue::Null),
                ..
            })
        ));
        assert_eq!(r.filters[5].0, vec!["order_items".to_owned()]);
        assert!(
            matches!(&r.filters[7].1, LogicTree::Stmt(Filter { op: Operation::Quantified { quantifier: Quantifier::Any, values, .. }, .. }) if values.len() == 2)
        );
        assert!(
            matches!(&r.filters[8].1, LogicTree::Stmt(Filter { op: Operation::Fts { language: Some(l), .. }, .. }) if l == "english")
        );
        // A value keeps its dots.
        let r = req("ip=eq.1.2.3.4").unwrap();
        assert!(
            matches!(&r.filters[0].1, LogicTree::Stmt(Filter { op: Operation::Simple { value, .. }, .. }) if value == "1.2.3.4")
        );
        for bad in [
            "status=confirmed",
            "status=zz.1",
            "id=in.1,2",
            "x=is.maybe",
            "x=eq(some).{1}",
            "a;b=eq.1",
        ] {
            assert_eq!(req(bad).unwrap_err().code, "PGRST100", "{bad}");
        }
    }

    #[test]
    fn logic_trees_nest() {
        let r = req("or=(status.eq.confirmed,and(total_cents.gt.100,not.or(notes.is.null,name.in.(\"a,b\",c))),name.eq.\"x,y)\")").unwrap();
        let LogicTree::Expr {
            op: LogicOp::Or,
            negated: false,
            children,
        } = &r.filters[0].1
        else {
            panic!()
        };
        assert_eq!(children.len(), 3);
        let LogicTree::Expr {
            op: LogicOp::And,
            children: and,
            ..
        } = &children[1]
        else {
            panic!()
        };
        assert!(matches!(
            &and[1],
            LogicTree::Expr {
                negated: true,
                op: LogicOp::Or,
                ..
            }
        ));
        let LogicTree::Expr {
            children: inner, ..
        } = &and[1]
        else {
            panic!()
        };
        assert_eq!(
            inner[1],
            LogicTree::Stmt(Filter {
                field: field("name"),
                negated: false,
                op: Operation::In(vec!["a,b".into(), "c".into()])
            })
        );
        assert_eq!(
            children[2],
            LogicTree::Stmt(Filter {
                field: field("name"),
                negated: false,
                op: Operation::Simple {
                    op: SimpleOp::Eq,
                    value: "x,y)".into()
                }
            })
        );
        let r = req("order_items.not.and=(quantity.gt.1,notes.not.is.null)").unwrap();
        assert_eq!(r.filters[0].0, vec!["order_items".to_owned()]);
        assert!(matches!(
            &r.filters[0].1,
            LogicTree::Expr {
                negated: true,
                op: LogicOp::And,
                ..
            }
        ));
        for bad in [
            "or=(a.eq.1",
            "or=a.eq.1",
            "or=(a.eq.1,)",
            "or=(a)",
            "and=(a.eq.\"x)",
        ] {
            assert_eq!(req(bad).unwrap_err().code, "PGRST100", "{bad}");
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            query_pairs("a=%22x%2Cy%22&b=1+2&c=%zz&d"),
            vec![
                ("a".into(), "\"x,y\"".into()),
                ("b".into(), "1 2".into()),
                ("c".into(), "%zz".into()),
                ("d".into(), "".into())
            ]
        );
    }

    /// Names as callers write them: plain, or any printable ASCII in double quotes except a
    /// double quote or a backslash, which a quoted name in PostgREST's select cannot hold.
    fn arb_ident() -> impl Strategy<Value = String> {
        prop_oneof!["[a-z_][a-z0-9_]{0,8}", "[ !#-\\[\\]-~]{1,6}"]
    }

    fn arb_select(depth: u32) -> BoxedStrategy<Vec<SelectItem>> {
        let field = (
            proptest::option::of(arb_ident()),
            arb_ident(),
            proptest::collection::vec(
                prop_oneof![
                    arb_ident().prop_map(|k| JsonOp::Arrow(JsonKey::Key(k))),
                    (0i64..5).prop_map(|i| JsonOp::DoubleArrow(JsonKey::Index(i))),
                ],
                0..3,
            ),
            proptest::option::of("[a-z]{1,6}"),
        )
            .prop_map(|(alias, name, json_path, cast)| SelectItem::Field {
                alias,
                field: Field { name, json_path },
                cast,
            });
        let leaf = prop_oneof![Just(SelectItem::Star), field].boxed();
        let item = if depth == 0 {
            leaf
        } else {
            prop_oneof![
                3 => leaf,
                1 => (proptest::option::of(arb_ident()), arb_ident(), proptest::option::of("[a-z]{1,5}"), any::<bool>(), arb_select(depth - 1))
                    .prop_filter("hint words are modifiers", |(_, _, h, _, _)| !matches!(h.as_deref(), Some("inner" | "left")))
                    .prop_map(|(alias, name, hint, inner, select)| SelectItem::Embed(Embed { alias, name, hint, inner, select })),
            ]
            .boxed()
        };
        proptest::collection::vec(item, 1..4).boxed()
    }

    proptest! {
        #[test]
        fn no_panic_on_grammar_like_input(q in "[a-z_.,:!()*\"{}\\\\=&>-]{0,50}") {
            let _ = req(&q);
            let _ = parse_select(&q);
            let _ = parse_logic_operands(&q);
            let _ = parse_order(&q);
        }

        #[test]
        fn select_round_trips(items in arb_select(2)) {
            let mut printed = String::new();
            write_select(&mut printed, &items).unwrap();
            let normalize = |items: Vec<SelectItem>| items;
            // An embed with an empty select prints as `rel()` and parses back the same.
            prop_assert_eq!(normalize(parse_select(&printed).unwrap()), items, "{}", printed);
        }
    }
}
