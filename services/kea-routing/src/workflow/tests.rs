#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::*;

/// The transfer workflow from the crate's design notes, in TaskRouter's JSON shape.
fn transfers_config() -> WorkflowConfig {
    serde_json::from_value(json!({"task_routing": {
        "filters": [
            {"filter_friendly_name": "transfers", "expression": "kind == \"transfer\"",
             "targets": [
                {"queue": "everyone", "expression": "worker.skills HAS task.kind AND worker.stores HAS task.store_id AND worker.languages HAS task.language", "timeout": 30, "priority": 10},
                {"queue": "everyone", "expression": "worker.languages HAS task.language", "timeout": 90},
                {"queue": "everyone"}]}],
        "default_filter": {"queue": "everyone"}}}))
    .unwrap()
}

fn compile(config: &WorkflowConfig) -> Workflow {
    Workflow::compile(config, &default_queues()).unwrap()
}

fn transfer_task() -> Value {
    json!({"kind": "transfer", "store_id": "la-casita", "language": "es"})
}

fn order_task() -> Value {
    json!({"kind": "order", "store_id": "la-casita", "language": "es"})
}

fn approx(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    }
}

/// `(age, target_index, escalates_in_secs)` for a 30 s, 90 s, no-timeout escalation.
const ESCALATION: [(f64, usize, Option<f64>); 9] = [
    (0.0, 0, Some(30.0)),
    (10.0, 0, Some(20.0)),
    (29.9, 0, Some(0.1)),
    (30.0, 1, Some(90.0)),
    (45.5, 1, Some(74.5)),
    (119.9, 1, Some(0.1)),
    (120.0, 2, None),
    (121.0, 2, None),
    (10_000.0, 2, None),
];

#[test]
fn transfers_escalate_at_the_timeout_boundaries() {
    let workflow = compile(&transfers_config());
    let task = transfer_task();
    for (age, index, escalates_in) in ESCALATION {
        let step = workflow.route(&task, age).unwrap();
        assert_eq!(
            (step.filter, step.target_index, step.queue),
            ("transfers", index, "everyone"),
            "age {age}"
        );
        assert!(
            approx(step.escalates_in_secs, escalates_in),
            "age {age}: escalates in {:?}, expected {escalates_in:?}",
            step.escalates_in_secs
        );
        let priority = if index == 0 { Some(10) } else { None };
        assert_eq!(step.priority, priority, "age {age}");
    }
}

#[test]
fn kea_default_escalates_at_the_timeout_boundaries() {
    let workflow = compile(&WorkflowConfig::default_for_kea());
    let task = order_task();
    for (age, index, escalates_in) in ESCALATION {
        let step = workflow.route(&task, age).unwrap();
        assert_eq!(
            (step.filter, step.target_index, step.queue, step.priority),
            ("default", index, "everyone", None),
            "age {age}"
        );
        assert!(
            approx(step.escalates_in_secs, escalates_in),
            "age {age}: escalates in {:?}, expected {escalates_in:?}",
            step.escalates_in_secs
        );
    }
}

#[test]
fn negative_and_nan_ages_count_as_zero() {
    let workflow = compile(&WorkflowConfig::default_for_kea());
    for age in [-5.0, f64::NAN, f64::NEG_INFINITY] {
        let step = workflow.route(&order_task(), age).unwrap();
        assert_eq!(step.target_index, 0, "age {age}");
        assert_eq!(step.escalates_in_secs, Some(30.0), "age {age}");
    }
    let step = workflow.route(&order_task(), f64::INFINITY).unwrap();
    assert_eq!(step.target_index, 2);
}

#[test]
fn when_every_target_has_a_timeout_the_last_still_applies_after_all() {
    let config = WorkflowConfig {
        task_routing: TaskRoutingConfig {
            filters: Vec::new(),
            default_filter: DefaultFilterConfig {
                targets: vec![
                    TargetConfig::new("everyone").with_timeout(30),
                    TargetConfig::new("everyone").with_timeout(60),
                ],
            },
        },
    };
    let workflow = compile(&config);
    let task = json!({});
    let cases = [
        (0.0, 0, Some(30.0)),
        (29.0, 0, Some(1.0)),
        (30.0, 1, None),
        (89.0, 1, None),
        (90.0, 1, None),
        (10_000.0, 1, None),
    ];
    for (age, index, escalates_in) in cases {
        let step = workflow.route(&task, age).unwrap();
        assert_eq!(
            (step.target_index, step.escalates_in_secs),
            (index, escalates_in),
            "age {age}"
        );
    }
}

#[test]
fn tasks_no_filter_matches_fall_through_to_the_default_filter() {
    let workflow = compile(&transfers_config());
    let cases = [
        (order_task(), "default"),
        (json!({}), "default"),
        (json!({"kind": "Transfer"}), "default"),
        (json!({"kind": ["transfer"]}), "default"),
        (transfer_task(), "transfers"),
    ];
    for (task, filter) in cases {
        for age in [0.0, 500.0] {
            let step = workflow.route(&task, age).unwrap();
            assert_eq!(step.filter, filter, "{task} at {age}");
            if filter == "default" {
                assert_eq!(
                    (step.target_index, step.escalates_in_secs, step.priority),
                    (0, None, None)
                );
            }
        }
    }
}

#[test]
fn the_first_matching_filter_wins() {
    let config: WorkflowConfig = serde_json::from_value(json!({"task_routing": {
        "filters": [
            {"filter_friendly_name": "vip", "expression": "customer.vip == true",
             "targets": [{"queue": "seniors", "priority": 100}]},
            {"filter_friendly_name": "spanish", "expression": "language == 'es'",
             "targets": [{"queue": "everyone", "priority": 5}]}],
        "default_filter": {"queue": "everyone"}}}))
    .unwrap();
    let queues = [
        Queue::new("everyone", "1==1"),
        Queue::new("seniors", "level >= 3"),
    ];
    let workflow = Workflow::compile(&config, &queues).unwrap();
    let cases = [
        (
            json!({"customer": {"vip": true}, "language": "es"}),
            "vip",
            "seniors",
            Some(100),
        ),
        (
            json!({"customer": {"vip": false}, "language": "es"}),
            "spanish",
            "everyone",
            Some(5),
        ),
        (json!({"language": "es"}), "spanish", "everyone", Some(5)),
        (json!({"language": "en"}), "default", "everyone", None),
    ];
    for (task, filter, queue, priority) in cases {
        let step = workflow.route(&task, 0.0).unwrap();
        assert_eq!(
            (step.filter, step.queue, step.priority),
            (filter, queue, priority),
            "{task}"
        );
    }
}

#[test]
fn step_matches_needs_both_the_queue_and_the_target_expression() {
    let config: WorkflowConfig = serde_json::from_value(json!({"task_routing": {
        "default_filter": {"queue": "spanish", "expression": "worker.stores HAS task.store_id"}}}))
    .unwrap();
    let queues = [Queue::new("spanish", r#"languages HAS "es""#)];
    let workflow = Workflow::compile(&config, &queues).unwrap();
    let task = order_task();
    let step = workflow.route(&task, 0.0).unwrap();
    let cases = [
        (json!({"languages": ["es"], "stores": ["la-casita"]}), true),
        (json!({"languages": ["en"], "stores": ["la-casita"]}), false),
        (json!({"languages": ["es"], "stores": ["other"]}), false),
        (json!({"languages": ["es"]}), false),
        (json!({}), false),
    ];
    for (worker, expected) in cases {
        assert_eq!(step.matches(&task, &worker), expected, "{worker}");
    }
    // The queue expression can read the task too.
    let queues = [Queue::new("spanish", "languages HAS task.language")];
    let workflow = Workflow::compile(&config, &queues).unwrap();
    let step = workflow.route(&task, 0.0).unwrap();
    let worker = json!({"languages": ["es"], "stores": ["la-casita"]});
    assert!(step.matches(&task, &worker));
    assert!(!step.matches(&json!({"language": "fr", "store_id": "la-casita"}), &worker));
}

#[test]
fn kea_default_widens_who_matches_as_the_task_ages() {
    let workflow = compile(&WorkflowConfig::default_for_kea());
    let task = order_task();
    let own_agent = json!({"skills": ["order"], "stores": ["la-casita"], "languages": ["es"]});
    let other_store = json!({"skills": ["order"], "stores": ["other"], "languages": ["es", "en"]});
    let english_only = json!({"skills": ["order"], "stores": ["la-casita"], "languages": ["en"]});
    let no_skill = json!({"skills": ["transfer"], "stores": ["la-casita"], "languages": ["es"]});
    // (age, own agent, other store, English only, no skill)
    let cases = [
        (0.0, true, false, false, false),
        (29.9, true, false, false, false),
        (30.0, true, true, false, false),
        (119.9, true, true, false, false),
        (120.0, true, true, true, false),
        (10_000.0, true, true, true, false),
    ];
    for (age, own, other, english, none) in cases {
        let step = workflow.route(&task, age).unwrap();
        assert_eq!(
            (
                step.matches(&task, &own_agent),
                step.matches(&task, &other_store),
                step.matches(&task, &english_only),
                step.matches(&task, &no_skill),
            ),
            (own, other, english, none),
            "age {age}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Compile errors

fn compile_err(config: Value, queues: &[Queue]) -> WorkflowError {
    let config: WorkflowConfig = serde_json::from_value(config).unwrap();
    Workflow::compile(&config, queues).unwrap_err()
}

fn one_filter(targets: Value) -> Value {
    json!({"task_routing": {
        "filters": [{"filter_friendly_name": "transfers", "expression": "kind == 'transfer'", "targets": targets}],
        "default_filter": {"queue": "everyone"}}})
}

#[test]
fn compile_errors_say_where_and_what() {
    let everyone = default_queues();
    let cases: Vec<(Value, Vec<Queue>, &str)> = vec![
        (
            one_filter(json!([{"queue": "vip"}])),
            everyone.clone(),
            r#"filter "transfers", target 0: unknown queue "vip" (known queues: "everyone")"#,
        ),
        (
            one_filter(json!([{"queue": "everyone", "timeout": 5}, {"queue": "vip"}])),
            vec![Queue::new("everyone", "1==1"), Queue::new("es", "1==1")],
            r#"filter "transfers", target 1: unknown queue "vip" (known queues: "everyone", "es")"#,
        ),
        (
            json!({"task_routing": {"default_filter": {"queue": "everyone"}}}),
            Vec::new(),
            r#"default filter, target 0: unknown queue "everyone" (known queues: none)"#,
        ),
        (
            one_filter(json!([
                {"queue": "everyone", "timeout": 30},
                {"queue": "everyone", "expression": "worker.languages HAS"}])),
            everyone.clone(),
            r#"filter "transfers", target 1: expression: column 21: expected a value after HAS, found end of expression"#,
        ),
        (
            one_filter(json!([{"queue": "everyone", "expression": "skills HAS 'x"}])),
            everyone.clone(),
            r#"filter "transfers", target 0: expression: column 12: unterminated string: missing closing `'`"#,
        ),
        (
            one_filter(json!([{"queue": "everyone"}, {"queue": "everyone"}])),
            everyone.clone(),
            r#"filter "transfers", target 0: only the last target of a filter may omit timeout"#,
        ),
        (
            one_filter(json!([
                {"queue": "everyone", "timeout": 30},
                {"queue": "everyone"},
                {"queue": "everyone"}])),
            everyone.clone(),
            r#"filter "transfers", target 1: only the last target of a filter may omit timeout"#,
        ),
        (
            one_filter(json!([{"queue": "everyone", "timeout": 0}, {"queue": "everyone"}])),
            everyone.clone(),
            r#"filter "transfers", target 0: timeout must be greater than 0"#,
        ),
        (
            one_filter(json!([{"queue": "everyone", "timeout": 0}])),
            everyone.clone(),
            r#"filter "transfers", target 0: timeout must be greater than 0"#,
        ),
        (
            one_filter(json!([])),
            everyone.clone(),
            r#"filter "transfers": has no targets"#,
        ),
        (
            json!({"task_routing": {
                "filters": [{"filter_friendly_name": "transfers", "expression": "kind ==", "targets": [{"queue": "everyone"}]}],
                "default_filter": {"queue": "everyone"}}}),
            everyone.clone(),
            r#"filter "transfers": expression: column 8: expected a value after `==`, found end of expression"#,
        ),
        (
            json!({"task_routing": {
                "filters": [{"filter_friendly_name": "blank", "expression": "", "targets": [{"queue": "everyone"}]}],
                "default_filter": {"queue": "everyone"}}}),
            everyone.clone(),
            r#"filter "blank": expression: column 1: empty expression"#,
        ),
        (
            json!({"task_routing": {"default_filter": {"queue": "everyone", "expression": "a b"}}}),
            everyone.clone(),
            "default filter, target 0: expression: column 3: expected an operator such as ==, HAS or IN after `a`, found `b`",
        ),
        (
            json!({"task_routing": {"default_filter": {"targets": [
                {"queue": "everyone"}, {"queue": "everyone"}]}}}),
            everyone.clone(),
            "default filter, target 0: only the last target of a filter may omit timeout",
        ),
        (
            json!({"task_routing": {"default_filter": {"targets": []}}}),
            everyone.clone(),
            "default filter: has no targets",
        ),
        (
            json!({"task_routing": {"default_filter": {"queue": "everyone"}}}),
            vec![Queue::new("everyone", "languages HAS")],
            r#"queue "everyone": target_workers: column 14: expected a value after HAS, found end of expression"#,
        ),
        (
            json!({"task_routing": {"default_filter": {"queue": "everyone"}}}),
            vec![
                Queue::new("everyone", "1==1"),
                Queue::new("everyone", "1==1"),
            ],
            r#"queue "everyone" is defined more than once"#,
        ),
    ];
    for (config, queues, message) in cases {
        let err = compile_err(config.clone(), &queues);
        assert_eq!(err.to_string(), message, "{config}");
    }
}

#[test]
fn compile_errors_are_structured() {
    let err = compile_err(
        one_filter(json!([
            {"queue": "everyone", "timeout": 30},
            {"queue": "everyone", "expression": "worker.languages HAS"}])),
        &default_queues(),
    );
    let WorkflowError::Expression { location, source } = err else {
        panic!("expected an expression error, got {err:?}");
    };
    assert_eq!(
        location,
        Location::Target {
            filter: Some("transfers".into()),
            index: 1
        }
    );
    assert_eq!(source.column, 21);
    assert_eq!(
        source.render("worker.languages HAS"),
        "worker.languages HAS\n                    ^"
    );
    assert!(matches!(
        compile_err(one_filter(json!([{"queue": "vip"}])), &default_queues()),
        WorkflowError::UnknownQueue { queue, .. } if queue == "vip"
    ));
}

// ---------------------------------------------------------------------------------------------
// Configuration JSON

#[test]
fn default_filter_reads_both_shapes() {
    let single: DefaultFilterConfig = serde_json::from_value(
        json!({"queue": "everyone", "expression": "1==1", "timeout": 5, "priority": 2}),
    )
    .unwrap();
    assert_eq!(
        single.targets,
        vec![
            TargetConfig::new("everyone")
                .with_expression("1==1")
                .with_timeout(5)
                .with_priority(2)
        ]
    );
    let list: DefaultFilterConfig =
        serde_json::from_value(json!({"targets": [{"queue": "a", "timeout": 1}, {"queue": "b"}]}))
            .unwrap();
    assert_eq!(
        list.targets,
        vec![
            TargetConfig::new("a").with_timeout(1),
            TargetConfig::new("b")
        ]
    );
}

#[test]
fn configuration_json_round_trips() {
    for config in [WorkflowConfig::default_for_kea(), transfers_config()] {
        let written = serde_json::to_value(&config).unwrap();
        let read: WorkflowConfig = serde_json::from_value(written).unwrap();
        assert_eq!(read, config);
    }
    // A single default target is written in TaskRouter's shape.
    assert_eq!(
        serde_json::to_value(transfers_config().task_routing.default_filter).unwrap(),
        json!({"queue": "everyone"})
    );
    assert_eq!(
        serde_json::to_value(WorkflowConfig::default_for_kea()).unwrap(),
        json!({"task_routing": {"default_filter": {"targets": [
            {"queue": "everyone", "expression": "worker.skills HAS task.kind AND worker.stores HAS task.store_id AND worker.languages HAS task.language", "timeout": 30},
            {"queue": "everyone", "expression": "worker.skills HAS task.kind AND worker.languages HAS task.language", "timeout": 90},
            {"queue": "everyone", "expression": "worker.skills HAS task.kind"}]}}})
    );
    assert_eq!(
        serde_json::to_value(default_queues()).unwrap(),
        json!([{"name": "everyone", "target_workers": "1==1"}])
    );
}

#[test]
fn malformed_configuration_json_is_rejected() {
    let cases = [
        (
            json!({"task_routing": {"default_filter": {"queue": "a", "targets": []}}}),
            "give either `targets` or a single target's `queue`, not both",
        ),
        (
            json!({"task_routing": {"default_filter": {"targets": [], "timeout": 3}}}),
            "give either `targets` or a single target's `queue`, not both",
        ),
        (
            json!({"task_routing": {"default_filter": {}}}),
            "missing `queue` (or `targets`)",
        ),
        (
            json!({"task_routing": {"default_filter": {"queue": "a", "order_by": "x"}}}),
            "unknown field `order_by`",
        ),
        (
            json!({"task_routing": {"default_filter": {"targets": [{"queue": "a", "timout": 3}]}}}),
            "unknown field `timout`",
        ),
        (
            json!({"task_routing": {"default_filter": {"queue": "a", "timeout": -1}}}),
            "invalid value",
        ),
        (
            json!({"task_routing": {}}),
            "missing field `default_filter`",
        ),
    ];
    for (config, message) in cases {
        let err = serde_json::from_value::<WorkflowConfig>(config.clone()).unwrap_err();
        assert!(
            err.to_string().contains(message),
            "{config}: {err} should mention {message:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// choose_worker

fn candidate(id: &str, free_capacity: u32, idle_secs: f64, attributes: Value) -> Candidate {
    Candidate {
        id: id.to_owned(),
        attributes,
        free_capacity,
        idle_secs,
    }
}

fn agent() -> Value {
    json!({"skills": ["order"], "stores": ["la-casita"], "languages": ["es"]})
}

fn chosen(candidates: &[Candidate], age: f64) -> Option<&str> {
    let workflow = compile(&WorkflowConfig::default_for_kea());
    let task = order_task();
    let step = workflow.route(&task, age).unwrap();
    choose_worker(&step, &task, candidates).map(|c| c.id.as_str())
}

#[test]
fn choose_worker_picks_the_longest_idle_matching_worker_with_capacity() {
    let outsider = json!({"skills": ["order"], "stores": ["other"], "languages": ["es"]});
    let cases: Vec<(&str, Vec<Candidate>, f64, Option<&str>)> = vec![
        (
            "longest idle",
            vec![
                candidate("a", 1, 10.0, agent()),
                candidate("b", 1, 50.0, agent()),
                candidate("c", 1, 30.0, agent()),
            ],
            0.0,
            Some("b"),
        ),
        (
            "no capacity is skipped",
            vec![
                candidate("a", 1, 10.0, agent()),
                candidate("b", 0, 50.0, agent()),
                candidate("c", 2, 30.0, agent()),
            ],
            0.0,
            Some("c"),
        ),
        (
            "nobody has capacity",
            vec![
                candidate("a", 0, 10.0, agent()),
                candidate("b", 0, 50.0, agent()),
            ],
            0.0,
            None,
        ),
        (
            "no match",
            vec![
                candidate("a", 1, 10.0, json!({})),
                candidate("b", 1, 50.0, outsider.clone()),
            ],
            0.0,
            None,
        ),
        (
            "a non-matching worker is skipped however idle",
            vec![
                candidate("a", 1, 10.0, agent()),
                candidate("b", 1, 5_000.0, outsider.clone()),
            ],
            0.0,
            Some("a"),
        ),
        (
            "after escalation the outsider qualifies",
            vec![
                candidate("a", 1, 10.0, agent()),
                candidate("b", 1, 5_000.0, outsider),
            ],
            30.0,
            Some("b"),
        ),
        (
            "tie broken by smallest id",
            vec![
                candidate("zed", 1, 40.0, agent()),
                candidate("amy", 1, 40.0, agent()),
                candidate("bob", 1, 40.0, agent()),
            ],
            0.0,
            Some("amy"),
        ),
        (
            "tie broken by smallest id, other order",
            vec![
                candidate("amy", 1, 40.0, agent()),
                candidate("zed", 1, 40.0, agent()),
            ],
            0.0,
            Some("amy"),
        ),
        (
            "NaN and negative idle count as zero",
            vec![
                candidate("b", 1, f64::NAN, agent()),
                candidate("c", 1, -7.0, agent()),
                candidate("d", 1, 0.0, agent()),
            ],
            0.0,
            Some("b"),
        ),
        ("no candidates", Vec::new(), 0.0, None),
    ];
    for (name, candidates, age, expected) in cases {
        assert_eq!(chosen(&candidates, age), expected, "{name}");
    }
}

#[test]
fn choose_worker_respects_the_queue() {
    let config: WorkflowConfig =
        serde_json::from_value(json!({"task_routing": {"default_filter": {"queue": "seniors"}}}))
            .unwrap();
    let queues = [Queue::new("seniors", "level >= 3")];
    let workflow = Workflow::compile(&config, &queues).unwrap();
    let task = json!({});
    let step = workflow.route(&task, 0.0).unwrap();
    let candidates = [
        candidate("junior", 1, 100.0, json!({"level": 1})),
        candidate("senior", 1, 1.0, json!({"level": 3})),
    ];
    assert_eq!(
        choose_worker(&step, &task, &candidates).map(|c| c.id.as_str()),
        Some("senior")
    );
}
