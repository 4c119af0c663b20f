#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn cmp(left: Operand, op: CompareOp, right: Operand) -> Expr {
    Expr::Compare { left, op, right }
}

fn path(root: Root, segments: &[&str]) -> Operand {
    Operand::Path(Path {
        root,
        segments: segments.iter().map(|s| (*s).to_owned()).collect(),
    })
}

fn num(n: f64) -> Operand {
    Operand::Scalar(Scalar::Number(n))
}

fn string(s: &str) -> Operand {
    Operand::Scalar(Scalar::String(s.to_owned()))
}

// ---------------------------------------------------------------------------------------------
// Parsing: successes

#[test]
fn parses_to_canonical_form() {
    let cases = [
        ("1==1", "1 == 1"),
        ("1=1", "1 == 1"),
        (r#"languages HAS "es""#, r#"languages HAS "es""#),
        (
            "worker.languages has task.language",
            "worker.languages HAS task.language",
        ),
        ("a != 'x'", r#"a != "x""#),
        ("a<1 && b>=2 || c<=3", "a < 1 AND b >= 2 OR c <= 3"),
        ("a > 1 and b < 2", "a > 1 AND b < 2"),
        ("NOT a IN [1, 2]", "NOT a IN [1, 2]"),
        (r#"a not in ['x',"y"]"#, r#"a NOT IN ["x", "y"]"#),
        ("a Not In []", "a NOT IN []"),
        (
            "(a == 1 OR b == 2) AND c == 3",
            "(a == 1 OR b == 2) AND c == 3",
        ),
        ("((a == 1))", "a == 1"),
        ("a==1 OR (b==2 OR c==3)", "a == 1 OR (b == 2 OR c == 3)"),
        ("(a==1 AND b==2) AND c==3", "(a == 1 AND b == 2) AND c == 3"),
        ("a==1 OR b==2 AND c==3", "a == 1 OR b == 2 AND c == 3"),
        ("TRUE", "true"),
        ("False", "false"),
        ("false OR true", "false OR true"),
        ("NOT NOT true", "NOT NOT true"),
        ("not (a == 1 and b == 2)", "NOT (a == 1 AND b == 2)"),
        (r"name CONTAINS 'o\'neil'", r#"name CONTAINS "o'neil""#),
        (
            r#"name contains "say \"hi\"""#,
            r#"name CONTAINS "say \"hi\"""#,
        ),
        (r#""a\\b" == x"#, r#""a\\b" == x"#),
        ("x == -2.50", "x == -2.5"),
        ("x >= 007", "x >= 7"),
        ("x < 0.125", "x < 0.125"),
        ("tags HAS []", "tags HAS []"),
        ("task.customer.vip == true", "task.customer.vip == true"),
        ("worker == 1", "worker == 1"),
        ("task != 1", "task != 1"),
        ("a.in == 1", "a.in == 1"),
        ("true.x == 1", "true.x == 1"),
        ("  a   ==   1  ", "a == 1"),
        ("\ta\n==\r\n1", "a == 1"),
        (r#""es" IN languages"#, r#""es" IN languages"#),
        ("[1, 'a', true] HAS 1", r#"[1, "a", true] HAS 1"#),
        ("a IN [-1,2.5,false]", "a IN [-1, 2.5, false]"),
        (r#"s == "línea ñ""#, r#"s == "línea ñ""#),
        (
            r#"s == "multi
line""#,
            "s == \"multi\nline\"",
        ),
        ("_private_1 == 1", "_private_1 == 1"),
        ("x == 1 AND true", "x == 1 AND true"),
    ];
    for (src, canonical) in cases {
        let expr = parse(src).unwrap_or_else(|e| panic!("{src:?} did not parse: {e}"));
        assert_eq!(expr.to_string(), canonical, "canonical form of {src:?}");
        assert_eq!(parse(canonical).unwrap(), expr, "{canonical:?} reparses");
    }
}

#[test]
fn everyone_expression_is_a_numeric_comparison() {
    assert_eq!(
        parse("1==1").unwrap(),
        cmp(num(1.0), CompareOp::Eq, num(1.0))
    );
}

#[test]
fn paths_get_their_roots() {
    let cases = [
        ("languages", Root::Subject, vec!["languages"]),
        ("worker.languages", Root::Worker, vec!["languages"]),
        ("task.store_id", Root::Task, vec!["store_id"]),
        ("task.customer.vip", Root::Task, vec!["customer", "vip"]),
        ("address.city", Root::Subject, vec!["address", "city"]),
        ("worker", Root::Subject, vec!["worker"]),
        ("Worker.x", Root::Subject, vec!["Worker", "x"]),
    ];
    for (src, root, segments) in cases {
        let expr = parse(&format!("{src} == 1")).unwrap();
        assert_eq!(
            expr,
            cmp(path(root, &segments), CompareOp::Eq, num(1.0)),
            "{src}"
        );
    }
}

#[test]
fn and_binds_tighter_than_or_and_not_tighter_than_and() {
    let a = cmp(path(Root::Subject, &["a"]), CompareOp::Eq, num(1.0));
    let b = cmp(path(Root::Subject, &["b"]), CompareOp::Eq, num(2.0));
    let c = cmp(path(Root::Subject, &["c"]), CompareOp::Eq, num(3.0));
    assert_eq!(
        parse("a == 1 OR b == 2 AND c == 3").unwrap(),
        Expr::Or(vec![a.clone(), Expr::And(vec![b.clone(), c.clone()])])
    );
    assert_eq!(
        parse("a == 1 AND b == 2 OR c == 3").unwrap(),
        Expr::Or(vec![Expr::And(vec![a.clone(), b.clone()]), c.clone()])
    );
    assert_eq!(
        parse("NOT a == 1 AND b == 2").unwrap(),
        Expr::And(vec![Expr::Not(Box::new(a.clone())), b.clone()])
    );
    assert_eq!(
        parse("a == 1 OR b == 2 OR c == 3").unwrap(),
        Expr::Or(vec![a.clone(), b.clone(), c.clone()])
    );
    assert_eq!(
        parse("a == 1 AND (b == 2 OR c == 3)").unwrap(),
        Expr::And(vec![a, Expr::Or(vec![b, c])])
    );
}

#[test]
fn operators_and_literals() {
    let cases = [
        ("x == 1", CompareOp::Eq),
        ("x = 1", CompareOp::Eq),
        ("x != 1", CompareOp::Ne),
        ("x < 1", CompareOp::Lt),
        ("x <= 1", CompareOp::Le),
        ("x > 1", CompareOp::Gt),
        ("x >= 1", CompareOp::Ge),
        ("x HAS 1", CompareOp::Has),
        ("x CONTAINS 1", CompareOp::Contains),
        ("x IN 1", CompareOp::In),
        ("x NOT IN 1", CompareOp::NotIn),
        ("x not   IN 1", CompareOp::NotIn),
    ];
    for (src, op) in cases {
        assert_eq!(
            parse(src).unwrap(),
            cmp(path(Root::Subject, &["x"]), op, num(1.0)),
            "{src}"
        );
    }
    assert_eq!(
        parse(r#"x IN ['a', "b", -1.5, true]"#).unwrap(),
        cmp(
            path(Root::Subject, &["x"]),
            CompareOp::In,
            Operand::Array(vec![
                Scalar::String("a".into()),
                Scalar::String("b".into()),
                Scalar::Number(-1.5),
                Scalar::Bool(true),
            ])
        )
    );
    assert_eq!(
        parse(r#"x == 'it\'s \\ "quoted"'"#).unwrap(),
        cmp(
            path(Root::Subject, &["x"]),
            CompareOp::Eq,
            string(r#"it's \ "quoted""#)
        )
    );
    assert_eq!(parse("true").unwrap(), Expr::Bool(true));
    assert_eq!(
        parse("NOT false").unwrap(),
        Expr::Not(Box::new(Expr::Bool(false)))
    );
    assert_eq!("x == 1".parse::<Expr>(), parse("x == 1"));
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let nots = format!("{}true", "NOT ".repeat(MAX_DEPTH));
    assert!(parse(&nots).is_ok());
    let parens = format!("{}true{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(parse(&parens).unwrap(), Expr::Bool(true));
    // Long flat chains are not nesting.
    let chain = vec!["a == 1"; 5_000].join(" OR ");
    match parse(&chain).unwrap() {
        Expr::Or(items) => assert_eq!(items.len(), 5_000),
        other => panic!("expected an OR, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing: errors

#[test]
fn errors_point_at_their_column() {
    let too_many_digits = format!("a == {}", "9".repeat(400));
    let too_many_digits_message = format!("number `{}` is too large", "9".repeat(400));
    let deep_not = format!("{}true", "NOT ".repeat(MAX_DEPTH + 1));
    let deep_parens = format!("{}true", "(".repeat(MAX_DEPTH + 1));
    let too_deep = "expression is nested too deeply (more than 64 levels of parentheses and NOT)";
    let cases: Vec<(&str, usize, &str)> = vec![
        // empty
        ("", 1, "empty expression"),
        ("   ", 4, "empty expression"),
        // missing operands
        (
            "languages HAS",
            14,
            "expected a value after HAS, found end of expression",
        ),
        (
            "languages HAS   ",
            17,
            "expected a value after HAS, found end of expression",
        ),
        (
            "languages has )",
            15,
            "expected a value after HAS, found `)`",
        ),
        (
            "a ==",
            5,
            "expected a value after `==`, found end of expression",
        ),
        ("a == AND b", 6, "expected a value after `==`, found AND"),
        (
            "a NOT IN",
            9,
            "expected a value after NOT IN, found end of expression",
        ),
        ("a in (1)", 6, "expected a value after IN, found `(`"),
        ("a NOT 1", 7, "expected IN after NOT, found `1`"),
        ("a NOT", 6, "expected IN after NOT, found end of expression"),
        ("== 1", 1, "expected a condition, found `==`"),
        ("AND a == 1", 1, "expected a condition, found AND"),
        (
            "a == 1 AND",
            11,
            "expected a condition after AND, found end of expression",
        ),
        (
            "a == 1 && ",
            11,
            "expected a condition after `&&`, found end of expression",
        ),
        (
            "a == 1 OR OR b == 2",
            11,
            "expected a condition after OR, found OR",
        ),
        (
            "NOT",
            4,
            "expected a condition after NOT, found end of expression",
        ),
        ("()", 2, "expected a condition after `(`, found `)`"),
        ("NOT IN [1]", 5, "expected a condition after NOT, found IN"),
        // an operand that is not a condition
        (
            "languages",
            10,
            "expected an operator such as ==, HAS or IN after `languages`, found end of expression",
        ),
        (
            "languages AND x == 1",
            11,
            "expected an operator such as ==, HAS or IN after `languages`, found AND",
        ),
        (
            "'es'",
            5,
            "expected an operator such as ==, HAS or IN after `'es'`, found end of expression",
        ),
        (
            "[1] OR true",
            5,
            "expected an operator such as ==, HAS or IN after `]`, found OR",
        ),
        // unclosed parentheses and brackets
        (
            "(a == 1",
            8,
            "expected `)` to close the `(` at column 1, found end of expression",
        ),
        (
            "x == 2 AND (a == 1 b",
            20,
            "expected `)` to close the `(` at column 12, found `b`",
        ),
        (
            "a IN [1, 2",
            11,
            "expected `,` or `]` to close the `[` at column 6, found end of expression",
        ),
        (
            "a IN [1 2]",
            9,
            "expected `,` or `]` to close the `[` at column 6, found `2`",
        ),
        (
            "a IN [1,",
            9,
            "expected a string, number or boolean after `,`, found end of expression",
        ),
        (
            "a IN [1,]",
            9,
            "expected a string, number or boolean after `,`, found `]`",
        ),
        (
            "a IN [b]",
            7,
            "expected a string, number or boolean after `[`, found `b`",
        ),
        (
            "a IN [[1]]",
            7,
            "expected a string, number or boolean after `[`, found `[`",
        ),
        // trailing input
        (
            "a == 1 foo",
            8,
            "unexpected `foo` after a complete expression",
        ),
        (
            "a == 1 b == 2",
            8,
            "unexpected `b` after a complete expression",
        ),
        (
            "a HAS b HAS c",
            9,
            "unexpected HAS after a complete expression",
        ),
        (
            "1 == 1 ==",
            8,
            "unexpected `==` after a complete expression",
        ),
        (
            "a == true false",
            11,
            "unexpected `false` after a complete expression",
        ),
        ("a == 1e5", 7, "unexpected `e5` after a complete expression"),
        (
            "a == 1 NOT IN [1]",
            8,
            "unexpected NOT after a complete expression",
        ),
        ("a == 1)", 7, "unmatched `)`"),
        ("(a == 1))", 9, "unmatched `)`"),
        // lexical errors
        (
            r#"name == "abc"#,
            9,
            "unterminated string: missing closing `\"`",
        ),
        (
            r"name == 'abc\'",
            9,
            "unterminated string: missing closing `'`",
        ),
        (
            r#"a == "x' "#,
            6,
            "unterminated string: missing closing `\"`",
        ),
        (r"a == 'x\", 6, "unterminated string: missing closing `'`"),
        (
            r#"name == "a\nb""#,
            11,
            r#"unknown escape `\n` in string (only \", \' and \\ are allowed)"#,
        ),
        ("a == 1 # x", 8, "unexpected character `#`"),
        ("a & b", 3, "unexpected character `&` (did you mean `&&`?)"),
        ("a | b", 3, "unexpected character `|` (did you mean `||`?)"),
        ("!a", 1, "unexpected character `!` (use `!=` or NOT)"),
        ("a == - 1", 6, "unexpected character `-`"),
        ("a == .5", 6, "unexpected character `.`"),
        ("ñame == 1 ¿", 1, "unexpected character `ñ`"),
        ("name == 1 ¿", 11, "unexpected character `¿`"),
        (r#""héllo" == x ∆"#, 14, "unexpected character `∆`"),
        ("task. == 1", 6, "expected an attribute name after `.`"),
        ("task.1 == 1", 6, "expected an attribute name after `.`"),
        ("a == 1.", 8, "expected a digit after the decimal point"),
        ("a == 1.x", 8, "expected a digit after the decimal point"),
        (&too_many_digits, 6, &too_many_digits_message),
        // nesting
        (&deep_not, 4 * MAX_DEPTH + 1, too_deep),
        (&deep_parens, MAX_DEPTH + 1, too_deep),
    ];
    for (src, column, message) in cases {
        let err = parse(src).unwrap_err();
        assert_eq!(
            (err.column, err.message.as_str()),
            (column, message),
            "error for {src:?}"
        );
    }
}

#[test]
fn error_display_names_the_column() {
    let err = parse("languages HAS   ").unwrap_err();
    assert_eq!(
        err.to_string(),
        "column 17: expected a value after HAS, found end of expression"
    );
}

#[test]
fn render_puts_a_caret_under_the_column() {
    let cases = [
        ("languages HAS", "languages HAS\n             ^"),
        ("a == 1 foo", "a == 1 foo\n       ^"),
        ("#", "#\n^"),
        ("\ta ==", "\ta ==\n\t    ^"),
        (r#""ñ" == x ¿"#, "\"ñ\" == x ¿\n         ^"),
        ("a == 1 AND\nb ==", "b ==\n    ^"),
        ("a == 1 AND\r\nb ==", "b ==\n    ^"),
        ("a == 1 #\nb == 2", "a == 1 #\n       ^"),
    ];
    for (src, rendered) in cases {
        let err = parse(src).unwrap_err();
        assert_eq!(err.render(src), rendered, "render of {src:?} ({err})");
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

fn worker() -> Value {
    json!({
        "languages": ["en", "es"],
        "skills": ["order", "transfer"],
        "stores": ["la-casita"],
        "level": 3,
        "score": 2.5,
        "name": "Ana",
        "vip": true,
        "tags": "solo",
        "empty": [],
        "nothing": null,
        "address": {"city": "LA", "zip": "90001"},
    })
}

fn task() -> Value {
    json!({
        "kind": "order",
        "store_id": "la-casita",
        "language": "es",
        "customer": {"vip": true, "name": "Bo"},
        "priority": 5,
    })
}

fn eval_worker(src: &str) -> bool {
    let (worker, task) = (worker(), task());
    parse(src)
        .unwrap_or_else(|e| panic!("{src:?}: {e}"))
        .eval(&Context::for_worker(&worker, Some(&task)))
}

fn assert_truth_table(cases: &[(&str, bool)]) {
    for &(src, expected) in cases {
        assert_eq!(eval_worker(src), expected, "{src}");
    }
}

#[test]
fn eval_has() {
    assert_truth_table(&[
        (r#"languages HAS "es""#, true),
        (r#"languages has 'en'"#, true),
        (r#"languages HAS "fr""#, false),
        (r#"languages HAS "ES""#, false),
        ("worker.languages HAS task.language", true),
        ("stores HAS task.store_id", true),
        ("skills HAS task.kind", true),
        (r#"tags HAS "solo""#, true),
        (r#"tags HAS "so""#, false),
        ("level HAS 3", true),
        (r#"level HAS "3""#, false),
        (r#"missing HAS "x""#, false),
        ("languages HAS task.missing", false),
        (r#"empty HAS "x""#, false),
        (r#"address HAS "LA""#, false),
        (r#"["a", "b"] HAS "b""#, true),
        ("[] HAS 1", false),
        ("[1, 2] HAS 2.0", true),
        (r#"languages HAS ["en"]"#, false),
    ]);
}

#[test]
fn eval_in_and_not_in() {
    assert_truth_table(&[
        (r#""es" IN languages"#, true),
        (r#""fr" IN languages"#, false),
        (r#""fr" NOT IN languages"#, true),
        (r#""es" NOT IN languages"#, false),
        ("level IN [1, 2, 3]", true),
        ("level IN [1, 2]", false),
        ("level NOT IN [1, 2, 3]", false),
        ("level NOT IN [1, 2]", true),
        (r#"name IN "Ana""#, true),
        (r#"name IN "Bo""#, false),
        (r#"name NOT IN "Bo""#, true),
        ("name IN []", false),
        ("name NOT IN []", true),
        ("task.language IN worker.languages", true),
        ("missing IN [1]", false),
        ("missing NOT IN [1]", false),
        ("level IN missing", false),
        ("level NOT IN missing", false),
        ("nothing NOT IN [1]", false),
        (r#"languages IN ["en", "es"]"#, false),
    ]);
}

#[test]
fn eval_contains() {
    assert_truth_table(&[
        (r#"languages CONTAINS "en""#, true),
        (r#"languages CONTAINS "e""#, false),
        (r#"name CONTAINS "n""#, true),
        (r#"name CONTAINS "Ana""#, true),
        (r#"name CONTAINS """#, true),
        (r#"name CONTAINS "x""#, false),
        (r#"name CONTAINS "ana""#, false),
        (r#"address.city CONTAINS "L""#, true),
        ("name CONTAINS 1", false),
        ("level CONTAINS 3", true),
        (r#"missing CONTAINS "a""#, false),
        ("name CONTAINS missing", false),
    ]);
}

#[test]
fn eval_equality_and_ordering() {
    assert_truth_table(&[
        ("1==1", true),
        ("1 == 2", false),
        ("1 = 1.0", true),
        (r#"name == "Ana""#, true),
        (r#"name == "ana""#, false),
        (r#"name != "ana""#, true),
        (r#"name != "Ana""#, false),
        ("level == 3", true),
        (r#"level == "3""#, false),
        (r#"level != "3""#, true),
        ("score == 2.5", true),
        ("level > 2", true),
        ("level >= 3", true),
        ("level < 3", false),
        ("level <= 3", true),
        ("level > 3", false),
        ("score < 3", true),
        ("-1 < 0", true),
        ("level > -5", true),
        (r#"name < "Bob""#, true),
        (r#"name > "Bob""#, false),
        (r#"name >= "Ana""#, true),
        (r#"name <= "Ana""#, true),
        (r#""B" < "a""#, true),
        ("name < 5", false),
        ("name > 5", false),
        (r#"level < "5""#, false),
        ("vip == true", true),
        ("vip != false", true),
        ("vip < true", false),
        (r#"languages == ["en", "es"]"#, true),
        (r#"languages == ["es", "en"]"#, false),
        (r#"languages != ["es", "en"]"#, true),
        (r#"languages == ["en"]"#, false),
        (r#"["a"] == ["a"]"#, true),
        ("address == address", true),
        ("address == task.customer", false),
        (r#"address.city == "LA""#, true),
        (r#"task.customer.name == "Bo""#, true),
        ("task.customer.vip == true", true),
        ("task.priority > level", true),
        (r#"task.kind == "order""#, true),
        (r#"kind == "order""#, false),
        ("true == true", true),
        ("true == 1", false),
    ]);
}

#[test]
fn eval_missing_and_null() {
    assert_truth_table(&[
        ("missing == 1", false),
        ("missing != 1", true),
        ("1 != missing", true),
        ("missing != missing2", false),
        ("missing == missing", false),
        ("missing < 1", false),
        ("missing >= 1", false),
        ("nothing == 1", false),
        ("nothing != 1", true),
        ("nothing != missing", false),
        ("address.zip.deeper == 1", false),
        ("address.zip.deeper != 1", true),
        ("name.first == 1", false),
        ("task.missing.deeper != 1", true),
        ("NOT missing == 1", true),
        ("NOT missing != 1", false),
    ]);
}

#[test]
fn eval_boolean_structure_and_precedence() {
    assert_truth_table(&[
        ("true", true),
        ("false", false),
        ("NOT false", true),
        ("NOT NOT true", true),
        ("true AND false", false),
        ("true && true", true),
        ("false || true", true),
        ("false OR false", false),
        // AND binds tighter than OR.
        ("1 == 1 OR 1 == 2 AND 1 == 2", true),
        ("(1 == 1 OR 1 == 2) AND 1 == 2", false),
        ("1 == 2 AND 1 == 2 OR 1 == 1", true),
        ("1 == 2 AND (1 == 2 OR 1 == 1)", false),
        // NOT binds tighter than AND and OR.
        ("NOT 1 == 2 AND 1 == 1", true),
        ("NOT 1 == 1 AND 1 == 1", false),
        ("NOT 1 == 1 OR 1 == 1", true),
        ("NOT (1 == 1 OR 1 == 2)", false),
        ("NOT (1 == 1 AND 1 == 2)", true),
        (
            r#"languages HAS "es" AND (stores HAS "other" OR level >= 3)"#,
            true,
        ),
        (
            r#"languages HAS "es" AND stores HAS "other" OR level >= 4"#,
            false,
        ),
    ]);
}

#[test]
fn subject_decides_unprefixed_paths() {
    let (worker, task) = (json!({"kind": "agent"}), json!({"kind": "order"}));
    let expr = parse(r#"kind == "order""#).unwrap();
    assert!(expr.eval(&Context::for_task(&task)));
    assert!(!expr.eval(&Context::for_worker(&worker, Some(&task))));
    let explicit = parse(r#"task.kind == "order" AND worker.kind == "agent""#).unwrap();
    let both = Context {
        subject: Subject::Task,
        worker: Some(&worker),
        task: Some(&task),
    };
    assert!(explicit.eval(&both));
    assert!(explicit.eval(&Context {
        subject: Subject::Worker,
        ..both
    }));
    // Without a worker, worker attributes are missing.
    let ctx = Context::for_task(&task);
    assert!(!parse("worker.kind == 1").unwrap().eval(&ctx));
    assert!(parse("worker.kind != 1").unwrap().eval(&ctx));
    // Without a task, task attributes are missing.
    let ctx = Context::for_worker(&worker, None);
    assert!(!parse(r#"task.kind == "order""#).unwrap().eval(&ctx));
    // Non-object attributes have no attributes.
    let scalar = json!("just a string");
    assert!(!parse("x == 1").unwrap().eval(&Context::for_task(&scalar)));
}

// ---------------------------------------------------------------------------------------------
// Properties

const RESERVED: [&str; 10] = [
    "and", "or", "not", "has", "contains", "in", "true", "false", "worker", "task",
];

fn arb_ident() -> impl Strategy<Value = String> {
    "[a-zA-Z_][a-zA-Z0-9_]{0,6}".prop_filter("reserved word", |s| {
        !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
    })
}

fn arb_scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        any::<String>().prop_map(Scalar::String),
        "[a-z'\"\\\\ ]{0,6}".prop_map(Scalar::String),
        (-1000i32..1000).prop_map(|n| Scalar::Number(f64::from(n))),
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(Scalar::Number),
        any::<bool>().prop_map(Scalar::Bool),
    ]
}

fn arb_operand() -> impl Strategy<Value = Operand> {
    let root = prop_oneof![Just(Root::Subject), Just(Root::Worker), Just(Root::Task)];
    prop_oneof![
        (root, proptest::collection::vec(arb_ident(), 1..4))
            .prop_map(|(root, segments)| Operand::Path(Path { root, segments })),
        arb_scalar().prop_map(Operand::Scalar),
        proptest::collection::vec(arb_scalar(), 0..4).prop_map(Operand::Array),
    ]
}

fn arb_op() -> impl Strategy<Value = CompareOp> {
    proptest::sample::select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Has,
        CompareOp::Contains,
        CompareOp::In,
        CompareOp::NotIn,
    ])
}

fn arb_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        1 => any::<bool>().prop_map(Expr::Bool),
        4 => (arb_operand(), arb_op(), arb_operand())
            .prop_map(|(left, op, right)| Expr::Compare { left, op, right }),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..5).prop_map(Expr::Or),
            proptest::collection::vec(inner.clone(), 2..5).prop_map(Expr::And),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

/// Attribute values for evaluation properties: small, with paths the generator often hits.
fn arb_attributes() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-3i32..3).prop_map(Value::from),
        "[ab]{0,2}".prop_map(Value::from),
    ];
    let value = scalar.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            proptest::collection::btree_map("[ab]", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    proptest::collection::btree_map("[ab]", value, 0..3)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    #[test]
    fn display_parses_back_to_the_same_tree(expr in arb_expr()) {
        let printed = expr.to_string();
        let reparsed = parse(&printed);
        prop_assert_eq!(reparsed.as_ref(), Ok(&expr), "printed as {}", printed);
        prop_assert_eq!(reparsed.unwrap().to_string(), printed);
    }

    #[test]
    fn parse_never_panics_and_errors_stay_in_range(
        src in prop_oneof![
            "[a-c0-9 ()\\[\\],.=!<>&|'\"\\\\-]{0,24}",
            "(a|b|1|'x'|==|!=|<|HAS|IN|NOT|AND|OR|\\(|\\)|\\[|\\]|,| ){0,16}",
            any::<String>(),
        ]
    ) {
        match parse(&src) {
            Ok(expr) => {
                let printed = expr.to_string();
                prop_assert_eq!(parse(&printed), Ok(expr), "printed as {}", printed);
            }
            Err(err) => {
                prop_assert!(err.column >= 1 && err.column <= src.chars().count() + 1,
                    "column {} out of range for {:?}", err.column, src);
                prop_assert!(err.render(&src).ends_with('^'));
            }
        }
    }

    #[test]
    fn eval_is_consistent(
        expr in arb_expr(),
        worker in arb_attributes(),
        task in arb_attributes(),
    ) {
        let ctx = Context::for_worker(&worker, Some(&task));
        let value = expr.eval(&ctx);
        prop_assert_eq!(Expr::Not(Box::new(expr.clone())).eval(&ctx), !value);
        prop_assert_eq!(parse(&expr.to_string()).unwrap().eval(&ctx), value);
        if let Expr::Compare { left, op: CompareOp::Eq, right } = expr {
            let ne = Expr::Compare { left, op: CompareOp::Ne, right };
            // `==` and `!=` are never both true.
            prop_assert!(!(value && ne.eval(&ctx)));
        }
    }
}
