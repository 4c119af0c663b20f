//! Turning an untrusted store file into a checked [`Store`].
//!
//! A merchant fixes a store file in one sitting only if they see every problem at once, each
//! pointing at the exact value to change, so [`Store::parse`] collects problems instead of
//! stopping at the first. It works in three stages, each run only if the previous one passed
//! (a later stage cannot make sense of input the earlier one rejected):
//!
//! 1. JSON syntax: one [`Problem`] at `$` naming the line and column.
//! 2. The contract's JSON Schema (`store.schema.json`, compiled once), then serde: every
//!    schema violation, or the one value serde could not read.
//! 3. The semantic rules of `store.md` that a schema cannot express (duplicate skus, missing
//!    modifier groups, `includes` outside the item's groups, time zones, …): every violation. [`Store::validate`] runs this stage
//!    alone on a store built in code.
//!
//! Paths are JSONPath-style, rooted at `$`: `$.menu.items[3].sku`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::LazyLock;

use jsonschema::error::ValidationErrorKind;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::{
    Fulfillment, Item, Menu, ModifierGroup, ModifierOption, OpeningHours, Portion, Portions,
    PosConfig, Size, Store, Weekday, same_name,
};

/// One thing wrong with a store file, and where.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Problem {
    /// `JSONPath` of the offending value, e.g. `$.menu.items[3].sku`; `$` is the whole file.
    pub path: String,
    /// What is wrong, naming the offending value so the line reads on its own.
    pub message: String,
}

impl Problem {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.path, self.message)
    }
}

/// A store file was rejected; `problems` lists everything found (never empty).
///
/// Displays as one line per problem, so the CLI can print it as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{}", render_problems(.problems))]
pub struct StoreFileError {
    /// Every problem found: semantic problems in file order, schema problems in the order the
    /// schema validator reports them.
    pub problems: Vec<Problem>,
}

fn render_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl StoreFileError {
    fn from_problems(problems: Vec<Problem>) -> Result<(), StoreFileError> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(StoreFileError { problems })
        }
    }
}

/// The contract's schema, compiled on first use and then shared: compiling is far slower than
/// validating, and imports can run in a loop.
static SCHEMA: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: Value = serde_json::from_str(include_str!("../store.schema.json"))
        .expect("store.schema.json is valid JSON (it is ours; a test compiles it)");
    jsonschema::validator_for(&schema).expect(
        "store.schema.json is a valid draft 2020-12 schema (it is ours; a test compiles it)",
    )
});

impl Store {
    /// Parses and checks a store file, reporting every problem with its JSON path.
    ///
    /// This is the only way store JSON from outside (a merchant's file, the API) should become
    /// a [`Store`]: it accepts exactly what the contract accepts.
    ///
    /// # Errors
    ///
    /// [`StoreFileError`] listing every problem found; see the [module docs](self) for the stages.
    pub fn parse(json: &str) -> Result<Store, StoreFileError> {
        let value: Value = serde_json::from_str(json).map_err(|err| StoreFileError {
            problems: vec![Problem::new("$", format!("not valid JSON: {err}"))],
        })?;
        Store::from_json(&value)
    }

    /// Like [`Store::parse`], for JSON that is already a [`Value`] (e.g. a JSONB column or a
    /// request body), so it need not be printed and re-read.
    ///
    /// # Errors
    ///
    /// [`StoreFileError`] listing every problem found.
    pub fn from_json(value: &Value) -> Result<Store, StoreFileError> {
        StoreFileError::from_problems(schema_problems(value))?;
        let store = Store::deserialize(value).map_err(|_| StoreFileError {
            problems: vec![locate_serde_error(value)],
        })?;
        store.validate()?;
        Ok(store)
    }

    /// Checks the semantic rules of the store contract on a store built in code, with the paths
    /// the same store would have as JSON.
    ///
    /// [`Store::parse`] already runs this; call it when a `Store` was assembled or edited by
    /// hand (tests, admin tools) before it is saved or priced.
    ///
    /// # Errors
    ///
    /// [`StoreFileError`] listing every rule the store breaks.
    pub fn validate(&self) -> Result<(), StoreFileError> {
        StoreFileError::from_problems(semantic_problems(self))
    }
}

// ---------------------------------------------------------------------------------------------
// Paths

/// `$.a` for identifier-like keys, `$["odd key"]` otherwise, so any key round-trips.
fn key_path(parent: &str, key: &str) -> String {
    let mut chars = key.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
        format!("{parent}.{key}")
    } else {
        let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
        format!("{parent}[{quoted}]")
    }
}

fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// Converts a JSON Pointer into the instance (`/menu/items/3/sku`) to `$.menu.items[3].sku`.
///
/// The pointer alone cannot say whether `3` is an array index or an object key, so this walks
/// the instance alongside it.
fn pointer_to_path(instance: &Value, pointer: &str) -> String {
    let mut path = String::from("$");
    let mut here = Some(instance);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match (here, segment.parse::<usize>()) {
            (Some(Value::Array(items)), Ok(index)) => {
                path = index_path(&path, index);
                here = items.get(index);
            }
            (node, _) => {
                path = key_path(&path, &segment);
                here = node.and_then(|n| n.get(&segment));
            }
        }
    }
    path
}

// ---------------------------------------------------------------------------------------------
// Stage 2: schema and serde

/// Schema messages embed the offending value; past this length the value is masked so one
/// wrong-typed array cannot flood the report.
const MAX_MESSAGE_CHARS: usize = 200;

/// Hints for pattern failures, keyed by the end of the schema location: a regex says what is
/// allowed, not what was meant.
const PATTERN_HINTS: [(&str, &str); 5] = [
    (
        "/phone/pattern",
        "is not an E.164 phone number (`+`, then 7 to 15 digits, e.g. +15550100001)",
    ),
    (
        "/sku/pattern",
        "is not a valid id (lowercase letters, digits and `-`, starting with a letter or digit, at most 63)",
    ),
    (
        "/id/pattern",
        "is not a valid id (lowercase letters, digits and `-`, starting with a letter or digit, at most 63)",
    ),
    (
        "/languages/items/pattern",
        "is not a language tag like `en` or `en-US`",
    ),
    ("sun)$/items/pattern", "is not a time of day like `09:30`"),
];

fn schema_problems(instance: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for err in SCHEMA.iter_errors(instance) {
        let path = pointer_to_path(instance, err.instance_path().as_str());
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    problems.push(Problem::new(
                        key_path(&path, key),
                        format!("unknown field `{key}`"),
                    ));
                }
            }
            // Only `names` constrains its keys: to the language tags of `languages`.
            ValidationErrorKind::PropertyNames { error } => {
                let (path, message) = match error.instance().as_ref() {
                    Value::String(key) if err.instance_path().as_str().ends_with("/names") => (
                        key_path(&path, key),
                        format!(
                            "{} is not a language tag like `es` or `es-US`",
                            short_json(error.instance())
                        ),
                    ),
                    _ => (path, error.to_string()),
                };
                problems.push(Problem::new(path, message));
            }
            ValidationErrorKind::Pattern { .. } => {
                let schema_path = err.schema_path().as_str();
                let hint = PATTERN_HINTS
                    .iter()
                    .find(|(suffix, _)| schema_path.ends_with(suffix))
                    .map_or("does not have the expected format", |(_, hint)| hint);
                problems.push(Problem::new(
                    path,
                    format!("{} {hint}", short_json(err.instance())),
                ));
            }
            _ => {
                let mut message = err.to_string();
                if message.chars().count() > MAX_MESSAGE_CHARS {
                    message = err.masked().to_string();
                }
                problems.push(Problem::new(path, message));
            }
        }
    }
    problems
}

fn short_json(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > MAX_MESSAGE_CHARS {
        "value".to_owned()
    } else {
        text
    }
}

/// Finds the value serde could not read and reports it with its path.
///
/// Once the schema has passed, serde fails only on what JSON Schema cannot see: a number out
/// of range for its Rust type (`1e30` cents, `1.0` as a count) or a `pos` kind missing one of
/// its fields. `serde_json`'s errors from a [`Value`] carry no location, so this finds it by
/// descending through the types it knows.
fn locate_serde_error(store: &Value) -> Problem {
    let descend = |key: &str, child: &Value, path: &str| match key {
        "fulfillment" => blame::<Fulfillment>(child, path, &no_descent),
        "hours" => blame::<BTreeMap<Weekday, OpeningHours>>(child, path, &no_descent),
        "pos" => blame::<PosConfig>(child, path, &no_descent),
        "menu" => blame::<Menu>(child, path, &descend_menu),
        _ => None,
    };
    blame::<Store>(store, "$", &descend).unwrap_or_else(|| {
        Problem::new(
            "$",
            "the store could not be read (no single field is to blame)",
        )
    })
}

fn no_descent(_: &str, _: &Value, _: &str) -> Option<Problem> {
    None
}

fn descend_menu(key: &str, child: &Value, path: &str) -> Option<Problem> {
    match key {
        "items" => blame_each::<Item>(child, path, &|key, child, path| match key {
            "sizes" => blame_each::<Size>(child, path, &no_descent),
            _ => None,
        }),
        "modifier_groups" => {
            blame_each::<ModifierGroup>(child, path, &|key, child, path| match key {
                "options" => {
                    blame_each::<ModifierOption>(child, path, &|key, child, path| match key {
                        "portions" => blame::<Portions>(child, path, &no_descent),
                        _ => None,
                    })
                }
                _ => None,
            })
        }
        _ => None,
    }
}

type Descend<'a> = dyn Fn(&str, &Value, &str) -> Option<Problem> + 'a;

fn blame_each<T: DeserializeOwned>(
    array: &Value,
    path: &str,
    descend: &Descend<'_>,
) -> Option<Problem> {
    let Value::Array(elements) = array else {
        return None;
    };
    elements
        .iter()
        .enumerate()
        .find_map(|(index, element)| blame::<T>(element, &index_path(path, index), descend))
}

/// Reports why `value` is not a `T`, at the deepest path this can pin it to; `None` if it is one.
///
/// serde reads an object's fields in order and reports the first bad one, so a field is to
/// blame when removing it makes that error go away. A "missing field" error is raised only
/// after every field was read, and belongs to this object unless a child hides it.
fn blame<T: DeserializeOwned>(value: &Value, path: &str, descend: &Descend<'_>) -> Option<Problem> {
    let message = T::deserialize(value).err()?.to_string();
    if let Value::Object(fields) = value {
        let reports_missing_field = message.starts_with("missing field `");
        for (key, child) in fields {
            let mut rest = fields.clone();
            rest.remove(key);
            let to_blame = match T::deserialize(&Value::Object(rest)) {
                Ok(_) => true,
                Err(other) => !reports_missing_field && other.to_string() != message,
            };
            if to_blame {
                let child_path = key_path(path, key);
                return Some(
                    descend(key, child, &child_path)
                        .unwrap_or_else(|| Problem::new(child_path, message)),
                );
            }
        }
    }
    Some(Problem::new(path, message))
}

// ---------------------------------------------------------------------------------------------
// Stage 3: semantic rules

/// The schema caps tax at 50%; repeated here so a store built in code is held to it too.
const MAX_TAX_RATE_BPS: u32 = 5000;

fn semantic_problems(store: &Store) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_phone(&store.phone, &mut problems);
    if store.timezone.parse::<chrono_tz::Tz>().is_err() {
        problems.push(Problem::new(
            "$.timezone",
            format!(
                "unknown time zone `{}` (expected an IANA name such as `America/New_York`)",
                store.timezone
            ),
        ));
    }
    check_languages(&store.languages, &mut problems);
    if store.tax_rate_bps > MAX_TAX_RATE_BPS {
        problems.push(Problem::new(
            "$.tax_rate_bps",
            format!(
                "tax rate {} bps is above the maximum of {MAX_TAX_RATE_BPS} (50%)",
                store.tax_rate_bps
            ),
        ));
    }
    check_fulfillment(&store.fulfillment, &mut problems);
    for (day, hours) in &store.hours {
        check_hours(*day, hours, &mut problems);
    }
    for (i, closure) in store.closures.iter().enumerate() {
        let path = format!("$.closures[{i}].date");
        if chrono::NaiveDate::parse_from_str(&closure.date, "%Y-%m-%d").is_err() {
            problems.push(Problem::new(
                path,
                format!("closure date `{}` is not a date `YYYY-MM-DD`", closure.date),
            ));
        } else if store.closures[..i].iter().any(|c| c.date == closure.date) {
            problems.push(Problem::new(
                path,
                format!("closure date `{}` is listed twice", closure.date),
            ));
        }
    }
    check_menu(&store.menu, &mut problems);
    problems
}

/// E.164: a `+`, a country code that does not start with 0, at most 15 digits in all. The
/// lower bound of 7 matches the schema; shorter numbers cannot be dialled from the PSTN.
pub fn is_e164(phone: &str) -> bool {
    let digits = phone.strip_prefix('+').unwrap_or("");
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

fn check_phone(phone: &str, problems: &mut Vec<Problem>) {
    if !is_e164(phone) {
        problems.push(Problem::new(
            "$.phone",
            format!("phone `{phone}` is not an E.164 number (`+`, then 7 to 15 digits, e.g. +15550100001)"),
        ));
    }
}

fn check_languages(languages: &[String], problems: &mut Vec<Problem>) {
    if languages.is_empty() {
        problems.push(Problem::new(
            "$.languages",
            "at least one language is needed: the first is the one calls start in",
        ));
    }
    for (index, language) in languages.iter().enumerate() {
        if languages[..index].contains(language) {
            problems.push(Problem::new(
                index_path("$.languages", index),
                format!("language `{language}` is listed twice"),
            ));
        }
    }
}

fn check_fulfillment(fulfillment: &Fulfillment, problems: &mut Vec<Problem>) {
    if !fulfillment.pickup && !fulfillment.delivery {
        problems.push(Problem::new(
            "$.fulfillment",
            "the store offers neither pickup nor delivery, so no order could be placed",
        ));
    }
    for (field, cents) in [
        ("delivery_fee_cents", fulfillment.delivery_fee_cents),
        ("delivery_minimum_cents", fulfillment.delivery_minimum_cents),
    ] {
        if cents < 0 {
            problems.push(Problem::new(
                key_path("$.fulfillment", field),
                format!("{field} is negative ({cents}); amounts must be 0 or more"),
            ));
        }
    }
}

/// Minutes since local midnight for `"HH:MM"`; `"24:00"` (end of day) is 1440.
fn minutes_of_day(time: &str) -> Option<u32> {
    let (hours, minutes) = time.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let hours: u32 = hours
        .parse()
        .ok()
        .filter(|_| hours.bytes().all(|b| b.is_ascii_digit()))?;
    let minutes: u32 = minutes
        .parse()
        .ok()
        .filter(|_| minutes.bytes().all(|b| b.is_ascii_digit()))?;
    let valid = minutes < 60 && (hours < 24 || (hours == 24 && minutes == 0));
    valid.then_some(hours * 60 + minutes)
}

fn check_hours(day: Weekday, hours: &OpeningHours, problems: &mut Vec<Problem>) {
    let path = key_path("$.hours", day.as_str());
    let open = minutes_of_day(&hours.open).filter(|&m| m < 24 * 60);
    if open.is_none() {
        problems.push(Problem::new(
            index_path(&path, 0),
            format!(
                "opening time `{}` is not a time of day `HH:MM` from 00:00 to 23:59",
                hours.open
            ),
        ));
    }
    let close = minutes_of_day(&hours.close);
    if close.is_none() {
        problems.push(Problem::new(
            index_path(&path, 1),
            format!(
                "closing time `{}` is not a time of day `HH:MM` from 00:00 to 24:00",
                hours.close
            ),
        ));
    }
    if let (Some(open), Some(close)) = (open, close)
        && close <= open
    {
        problems.push(Problem::new(
            index_path(&path, 1),
            format!(
                "closing time `{}` is not after opening time `{}` (hours past midnight are not supported; close at `24:00`)",
                hours.close, hours.open
            ),
        ));
    }
}

fn check_menu(menu: &Menu, problems: &mut Vec<Problem>) {
    if menu.items.is_empty() {
        problems.push(Problem::new("$.menu.items", "the menu has no items"));
    }
    // First index of each group id: items refer to groups, and the file lists items first.
    let mut groups: HashMap<&str, usize> = HashMap::new();
    for (index, group) in menu.modifier_groups.iter().enumerate() {
        groups.entry(group.id.as_str()).or_insert(index);
    }
    let mut skus: HashMap<&str, usize> = HashMap::new();
    for (index, item) in menu.items.iter().enumerate() {
        let path = index_path("$.menu.items", index);
        if let Some(first) = skus.get(item.sku.as_str()) {
            problems.push(Problem::new(
                key_path(&path, "sku"),
                format!(
                    "duplicate item sku `{}` (first used by `$.menu.items[{first}]`)",
                    item.sku
                ),
            ));
        } else {
            skus.insert(&item.sku, index);
        }
        check_item(item, &path, &groups, problems);
        check_includes(item, &path, menu, problems);
    }
    for (index, group) in menu.modifier_groups.iter().enumerate() {
        let path = index_path("$.menu.modifier_groups", index);
        if let Some(&first) = groups.get(group.id.as_str())
            && first != index
        {
            problems.push(Problem::new(
                key_path(&path, "id"),
                format!(
                    "duplicate modifier group id `{}` (first used by `$.menu.modifier_groups[{first}]`)",
                    group.id
                ),
            ));
        }
        check_group(group, &path, problems);
    }
}

fn check_item(item: &Item, path: &str, groups: &HashMap<&str, usize>, problems: &mut Vec<Problem>) {
    let sku = &item.sku;
    match (item.price_cents, item.sizes.is_empty()) {
        (Some(_), false) => problems.push(Problem::new(
            key_path(path, "price_cents"),
            format!("item `{sku}` has both price_cents and sizes; give exactly one"),
        )),
        (None, true) => problems.push(Problem::new(
            path,
            format!("item `{sku}` has neither price_cents nor sizes; give exactly one"),
        )),
        _ => {}
    }
    if let Some(cents) = item.price_cents
        && cents < 0
    {
        problems.push(Problem::new(
            key_path(path, "price_cents"),
            format!("item `{sku}` has a negative price ({cents}); prices must be 0 or more"),
        ));
    }
    for (index, size) in item.sizes.iter().enumerate() {
        let size_path = index_path(&key_path(path, "sizes"), index);
        if item.sizes[..index]
            .iter()
            .any(|earlier| same_name(&earlier.name, &size.name))
        {
            problems.push(Problem::new(
                key_path(&size_path, "name"),
                format!(
                    "item `{sku}` lists size `{}` twice (size names ignore case)",
                    size.name
                ),
            ));
        }
        if size.price_cents < 0 {
            problems.push(Problem::new(
                key_path(&size_path, "price_cents"),
                format!(
                    "size `{}` of item `{sku}` has a negative price ({}); prices must be 0 or more",
                    size.name, size.price_cents
                ),
            ));
        }
    }
    if let Some(default) = &item.default_size {
        let message = if item.sizes.is_empty() {
            Some(format!(
                "default_size `{default}` is given but item `{sku}` has no sizes"
            ))
        } else if item.size(default).is_none() {
            Some(format!(
                "default_size `{default}` is not one of the sizes of item `{sku}` ({})",
                quoted_list(item.sizes.iter().map(|s| s.name.as_str()))
            ))
        } else {
            None
        };
        if let Some(message) = message {
            problems.push(Problem::new(key_path(path, "default_size"), message));
        }
    }
    let groups_path = key_path(path, "modifier_groups");
    for (index, group) in item.modifier_groups.iter().enumerate() {
        let message = if item.modifier_groups[..index].contains(group) {
            Some(format!("item `{sku}` lists modifier group `{group}` twice"))
        } else if !groups.contains_key(group.as_str()) {
            let mut known: Vec<&str> = groups.keys().copied().collect();
            known.sort_unstable();
            Some(format!(
                "item `{sku}` uses modifier group `{group}`, which does not exist (groups: {})",
                quoted_list(known)
            ))
        } else {
            None
        };
        if let Some(message) = message {
            problems.push(Problem::new(index_path(&groups_path, index), message));
        }
    }
}

/// `includes` may name only the item's own groups, only options of those groups, each once, and
/// no more of a group's options than its `max` (they count toward it on every line).
fn check_includes(item: &Item, path: &str, menu: &Menu, problems: &mut Vec<Problem>) {
    let sku = &item.sku;
    let includes_path = key_path(path, "includes");
    for (group_id, options) in &item.includes {
        let group_path = key_path(&includes_path, group_id);
        if !item.modifier_groups.contains(group_id) {
            problems.push(Problem::new(
                group_path,
                format!(
                    "item `{sku}` includes options of modifier group `{group_id}`, which is not one of its modifier_groups ({})",
                    quoted_list(item.modifier_groups.iter().map(String::as_str))
                ),
            ));
            continue;
        }
        // A group the menu lacks is already reported at the item's `modifier_groups`.
        let Some(group) = menu.group(group_id) else {
            continue;
        };
        let mut distinct = 0_usize;
        for (index, option) in options.iter().enumerate() {
            let message = if options[..index].contains(option) {
                format!(
                    "item `{sku}` includes option `{option}` of modifier group `{group_id}` twice"
                )
            } else if group.option(option).is_none() {
                format!(
                    "item `{sku}` includes `{option}`, which is not an option of modifier group `{group_id}`"
                )
            } else {
                distinct += 1;
                continue;
            };
            problems.push(Problem::new(index_path(&group_path, index), message));
        }
        if usize::try_from(group.max).is_ok_and(|max| distinct > max) {
            problems.push(Problem::new(
                group_path,
                format!(
                    "item `{sku}` includes {distinct} options of modifier group `{group_id}`, more than its max of {}",
                    group.max
                ),
            ));
        }
    }
}

fn check_group(group: &ModifierGroup, path: &str, problems: &mut Vec<Problem>) {
    let id = &group.id;
    if group.max == 0 {
        problems.push(Problem::new(
            key_path(path, "max"),
            format!("modifier group `{id}` has max 0; it must allow at least one option"),
        ));
    }
    if group.min > group.max {
        problems.push(Problem::new(
            key_path(path, "min"),
            format!(
                "modifier group `{id}` has min {} greater than max {}",
                group.min, group.max
            ),
        ));
    }
    if group.options.is_empty() {
        problems.push(Problem::new(
            key_path(path, "options"),
            format!("modifier group `{id}` has no options"),
        ));
    } else if usize::try_from(group.max).is_ok_and(|max| max > group.options.len()) {
        problems.push(Problem::new(
            key_path(path, "max"),
            format!(
                "modifier group `{id}` has max {} but only {} options",
                group.max,
                group.options.len()
            ),
        ));
    }
    for (index, option) in group.options.iter().enumerate() {
        let option_path = index_path(&key_path(path, "options"), index);
        if group.options[..index]
            .iter()
            .any(|earlier| earlier.sku == option.sku)
        {
            problems.push(Problem::new(
                key_path(&option_path, "sku"),
                format!(
                    "duplicate option sku `{}` in modifier group `{id}`",
                    option.sku
                ),
            ));
        }
        if option.price_cents < 0 {
            problems.push(Problem::new(
                key_path(&option_path, "price_cents"),
                format!(
                    "option `{}` of modifier group `{id}` has a negative price ({}); prices must be 0 or more",
                    option.sku, option.price_cents
                ),
            ));
        }
        for portion in [Portion::Light, Portion::Extra, Portion::Side] {
            if let Some(cents) = option.portions.price(portion)
                && cents < 0
            {
                problems.push(Problem::new(
                    key_path(&key_path(&option_path, "portions"), portion.as_str()),
                    format!(
                        "option `{}` of modifier group `{id}` has a negative {portion} price ({cents}); prices must be 0 or more",
                        option.sku
                    ),
                ));
            }
        }
    }
}

fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = names.into_iter().map(|name| format!("`{name}`")).collect();
    if quoted.is_empty() {
        "none".to_owned()
    } else {
        quoted.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::fixtures;

    fn sample(json: &str) -> Value {
        serde_json::from_str(json).unwrap_or_else(|err| panic!("sample is not JSON: {err}"))
    }

    fn problems_of(value: &Value) -> Vec<Problem> {
        match Store::from_json(value) {
            Ok(_) => Vec::new(),
            Err(err) => err.problems,
        }
    }

    fn remove(value: &mut Value, key: &str) {
        if let Some(object) = value.as_object_mut() {
            object.remove(key);
        }
    }

    #[test]
    fn every_sample_store_parses() {
        for (id, json) in fixtures::ALL {
            let store = Store::parse(json);
            assert_eq!(store.map(|s| s.id), Ok(id.to_owned()));
        }
    }

    #[test]
    fn sample_stores_have_the_expected_shape() {
        let tonys = fixtures::store(fixtures::TONYS);
        assert_eq!(
            (tonys.menu.items.len(), tonys.menu.modifier_groups.len()),
            (13, 4)
        );
        assert_eq!(tonys.pos.kind(), "webhook");
        assert!(tonys.fulfillment.delivery);
        let casita = fixtures::store(fixtures::CASITA);
        assert_eq!(casita.languages, ["en-US", "es-US"]);
        let bean = fixtures::store(fixtures::BEAN);
        assert_eq!(bean.fulfillment.pickup_minutes, 10);
        assert_eq!(bean.fulfillment.delivery_minutes, 45);
    }

    #[test]
    fn embedded_schema_compiles_and_accepts_the_samples() {
        for (name, json) in fixtures::ALL {
            assert!(SCHEMA.is_valid(&sample(json)), "{name}");
        }
    }

    type Mutation = fn(&mut Value);
    /// (what is broken, how, expected path, expected message fragment)
    type Case<M> = (&'static str, M, &'static str, &'static str);

    /// One semantic rule each: the mutation breaks exactly that rule, and the one problem
    /// reported must point at the offending value and say what is wrong.
    const SEMANTIC_CASES: &[Case<Mutation>] = &[
        (
            "duplicate item sku",
            |v| v["menu"]["items"][4]["sku"] = json!("pizza-pepperoni"),
            "$.menu.items[4].sku",
            "duplicate item sku `pizza-pepperoni` (first used by `$.menu.items[1]`)",
        ),
        (
            "duplicate option sku in a group",
            |v| v["menu"]["modifier_groups"][1]["options"][2]["sku"] = json!("extra-cheese"),
            "$.menu.modifier_groups[1].options[2].sku",
            "duplicate option sku `extra-cheese` in modifier group `toppings`",
        ),
        (
            "duplicate modifier group id",
            |v| {
                let copy = v["menu"]["modifier_groups"][0].clone();
                if let Some(groups) = v["menu"]["modifier_groups"].as_array_mut() {
                    groups.push(copy);
                }
            },
            "$.menu.modifier_groups[4].id",
            "duplicate modifier group id `crust`",
        ),
        (
            "missing modifier group",
            |v| v["menu"]["items"][2]["modifier_groups"][1] = json!("sauces"),
            "$.menu.items[2].modifier_groups[1]",
            "modifier group `sauces`, which does not exist",
        ),
        (
            "modifier group listed twice on an item",
            |v| v["menu"]["items"][0]["modifier_groups"] = json!(["crust", "crust"]),
            "$.menu.items[0].modifier_groups[1]",
            "lists modifier group `crust` twice",
        ),
        (
            "both price_cents and sizes",
            |v| v["menu"]["items"][0]["price_cents"] = json!(999),
            "$.menu.items[0].price_cents",
            "item `pizza-cheese` has both price_cents and sizes",
        ),
        (
            "neither price_cents nor sizes",
            |v| remove(&mut v["menu"]["items"][8], "price_cents"),
            "$.menu.items[8]",
            "item `caesar-salad` has neither price_cents nor sizes",
        ),
        (
            "default_size not among sizes",
            |v| v["menu"]["items"][6]["default_size"] = json!("24 piece"),
            "$.menu.items[6].default_size",
            "default_size `24 piece` is not one of the sizes of item `garlic-knots` (`6 piece`, `12 piece`)",
        ),
        (
            "default_size on an item without sizes",
            |v| v["menu"]["items"][8]["default_size"] = json!("large"),
            "$.menu.items[8].default_size",
            "default_size `large` is given but item `caesar-salad` has no sizes",
        ),
        (
            "duplicate size name, ignoring case",
            |v| v["menu"]["items"][0]["sizes"][2]["name"] = json!("Small"),
            "$.menu.items[0].sizes[2].name",
            "lists size `Small` twice",
        ),
        (
            "min greater than max",
            |v| v["menu"]["modifier_groups"][0]["min"] = json!(2),
            "$.menu.modifier_groups[0].min",
            "modifier group `crust` has min 2 greater than max 1",
        ),
        (
            "max greater than the number of options",
            |v| v["menu"]["modifier_groups"][0]["max"] = json!(4),
            "$.menu.modifier_groups[0].max",
            "modifier group `crust` has max 4 but only 3 options",
        ),
        (
            "unknown time zone",
            |v| v["timezone"] = json!("Mars/Olympus_Mons"),
            "$.timezone",
            "unknown time zone `Mars/Olympus_Mons`",
        ),
        (
            "time zone names are case-sensitive",
            |v| v["timezone"] = json!("america/new_york"),
            "$.timezone",
            "unknown time zone `america/new_york`",
        ),
        (
            "a closure date that is not a date",
            |v| v["closures"] = json!([{"date": "2026-02-30"}]),
            "$.closures[0].date",
            "closure date `2026-02-30` is not a date `YYYY-MM-DD`",
        ),
        (
            "a closure date twice",
            |v| {
                v["closures"] =
                    json!([{"date": "2026-12-24"}, {"date": "2026-12-24", "note": "again"}])
            },
            "$.closures[1].date",
            "closure date `2026-12-24` is listed twice",
        ),
        (
            "closing before opening",
            |v| v["hours"]["mon"] = json!(["22:00", "11:00"]),
            "$.hours.mon[1]",
            "closing time `11:00` is not after opening time `22:00`",
        ),
        (
            "closing when opening",
            |v| v["hours"]["tue"] = json!(["11:00", "11:00"]),
            "$.hours.tue[1]",
            "closing time `11:00` is not after opening time `11:00`",
        ),
        (
            "midnight written as 00:00",
            |v| v["hours"]["fri"] = json!(["18:00", "00:00"]),
            "$.hours.fri[1]",
            "close at `24:00`",
        ),
        (
            "closing past 24:00",
            |v| v["hours"]["sat"] = json!(["11:00", "24:30"]),
            "$.hours.sat[1]",
            "closing time `24:30` is not a time of day",
        ),
        (
            "opening at 24:00",
            |v| v["hours"]["sun"] = json!(["24:00", "24:00"]),
            "$.hours.sun[0]",
            "opening time `24:00` is not a time of day",
        ),
        (
            "neither pickup nor delivery",
            |v| {
                v["fulfillment"]["pickup"] = json!(false);
                v["fulfillment"]["delivery"] = json!(false);
            },
            "$.fulfillment",
            "neither pickup nor delivery",
        ),
    ];

    #[test]
    fn semantic_errors_name_the_path_and_the_problem() {
        for (name, mutate, path, message) in SEMANTIC_CASES {
            let mut store = sample(fixtures::TONYS);
            mutate(&mut store);
            let problems = problems_of(&store);
            assert_eq!(problems.len(), 1, "{name}: {problems:#?}");
            assert_eq!(problems[0].path, *path, "{name}");
            assert!(
                problems[0].message.contains(message),
                "{name}: {:?} should contain {message:?}",
                problems[0].message
            );
        }
    }

    #[test]
    fn closing_before_opening_names_both_times() {
        let mut store = sample(fixtures::TONYS);
        store["hours"]["mon"] = json!(["22:00", "11:00"]);
        let problems = problems_of(&store);
        assert_eq!(
            problems,
            [Problem::new(
                "$.hours.mon[1]",
                "closing time `11:00` is not after opening time `22:00` (hours past midnight are not supported; close at `24:00`)"
            )]
        );
    }

    #[test]
    fn delivery_only_store_is_valid() {
        let mut store = sample(fixtures::TONYS);
        store["fulfillment"]["pickup"] = json!(false);
        assert_eq!(problems_of(&store), []);
    }

    #[test]
    fn closing_at_24_00_is_allowed() {
        let mut store = sample(fixtures::BEAN);
        store["hours"]["sun"] = json!(["00:00", "24:00"]);
        store["hours"]["sat"] = json!(["18:00", "24:00"]);
        assert_eq!(problems_of(&store), []);
    }

    /// Rules the schema enforces too: parse reports them from the schema stage, with a message
    /// that still says what is wrong.
    const SCHEMA_BACKED_CASES: &[Case<Mutation>] = &[
        (
            "bad phone",
            |v| v["phone"] = json!("555-0100"),
            "$.phone",
            "not an E.164 phone number",
        ),
        (
            "phone too short",
            |v| v["phone"] = json!("+1555"),
            "$.phone",
            "not an E.164 phone number",
        ),
        (
            "phone with a leading 0",
            |v| v["phone"] = json!("+05550100001"),
            "$.phone",
            "E.164",
        ),
        (
            "negative item price",
            |v| v["menu"]["items"][8]["price_cents"] = json!(-1),
            "$.menu.items[8].price_cents",
            "-1 is less than the minimum of 0",
        ),
        (
            "negative size price",
            |v| v["menu"]["items"][0]["sizes"][1]["price_cents"] = json!(-5),
            "$.menu.items[0].sizes[1].price_cents",
            "-5 is less than the minimum of 0",
        ),
        (
            "negative option price",
            |v| v["menu"]["modifier_groups"][0]["options"][1]["price_cents"] = json!(-250),
            "$.menu.modifier_groups[0].options[1].price_cents",
            "-250 is less than the minimum of 0",
        ),
        (
            "negative delivery fee",
            |v| v["fulfillment"]["delivery_fee_cents"] = json!(-300),
            "$.fulfillment.delivery_fee_cents",
            "less than the minimum of 0",
        ),
        (
            "bad hours format",
            |v| v["hours"]["mon"][0] = json!("9:00"),
            "$.hours.mon[0]",
            "\"9:00\" is not a time of day",
        ),
        (
            "minutes of 60 or more",
            |v| v["hours"]["mon"][1] = json!("22:60"),
            "$.hours.mon[1]",
            "\"22:60\" is not a time of day",
        ),
        (
            "bad sku",
            |v| v["menu"]["items"][0]["sku"] = json!("Pizza Cheese"),
            "$.menu.items[0].sku",
            "not a valid id",
        ),
        (
            "bad language tag",
            |v| v["languages"] = json!(["english"]),
            "$.languages[0]",
            "not a language tag",
        ),
        (
            "tax above 50%",
            |v| v["tax_rate_bps"] = json!(5001),
            "$.tax_rate_bps",
            "greater than the maximum of 5000",
        ),
        (
            "max of 0",
            |v| v["menu"]["modifier_groups"][0]["max"] = json!(0),
            "$.menu.modifier_groups[0].max",
            "less than the minimum of 1",
        ),
        (
            "empty menu",
            |v| v["menu"]["items"] = json!([]),
            "$.menu.items",
            "[] has less than 1 item",
        ),
        (
            "unknown top-level field",
            |v| v["colour"] = json!("red"),
            "$.colour",
            "unknown field `colour`",
        ),
        (
            "unknown item field",
            |v| v["menu"]["items"][2]["colour"] = json!("red"),
            "$.menu.items[2].colour",
            "unknown field `colour`",
        ),
        (
            "unknown day",
            |v| v["hours"]["monday"] = json!(["11:00", "22:00"]),
            "$.hours.monday",
            "unknown field `monday`",
        ),
        (
            "key that needs quoting",
            |v| v["hours"]["mon day"] = json!([]),
            "$.hours[\"mon day\"]",
            "unknown field `mon day`",
        ),
        (
            "wrong type",
            |v| v["tax_rate_bps"] = json!("875"),
            "$.tax_rate_bps",
            "\"875\" is not of type \"integer\"",
        ),
        (
            "wrong type deep",
            |v| v["menu"]["modifier_groups"][2]["min"] = json!(true),
            "$.menu.modifier_groups[2].min",
            "true is not of type \"integer\"",
        ),
        (
            "missing required field",
            |v| remove(&mut v["menu"]["items"][1], "name"),
            "$.menu.items[1]",
            "\"name\" is a required property",
        ),
        (
            "unknown pos kind",
            |v| v["pos"]["kind"] = json!("toast"),
            "$.pos.kind",
            "toast",
        ),
        (
            "large wrong-typed value is masked",
            |v| v["fulfillment"] = json!(vec![1_000_000_000; 40]),
            "$.fulfillment",
            "value is not of type \"object\"",
        ),
    ];

    #[test]
    fn schema_errors_name_the_path_and_the_problem() {
        for (name, mutate, path, message) in SCHEMA_BACKED_CASES {
            let mut store = sample(fixtures::TONYS);
            mutate(&mut store);
            let problems = problems_of(&store);
            assert_eq!(problems.len(), 1, "{name}: {problems:#?}");
            assert_eq!(problems[0].path, *path, "{name}");
            assert!(
                problems[0].message.contains(message),
                "{name}: {:?} should contain {message:?}",
                problems[0].message
            );
        }
    }

    #[test]
    fn schema_errors_are_all_reported() {
        let mut store = sample(fixtures::TONYS);
        store["phone"] = json!("nope");
        store["menu"]["items"][3]["colour"] = json!("red");
        store["menu"]["modifier_groups"][1]["max"] = json!("six");
        remove(&mut store, "merchant");
        let mut paths: Vec<String> = problems_of(&store).into_iter().map(|p| p.path).collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "$",
                "$.menu.items[3].colour",
                "$.menu.modifier_groups[1].max",
                "$.phone"
            ]
        );
    }

    /// A store built in code skips the schema, so `validate` holds it to the same rules itself.
    const VALIDATE_CASES: &[Case<fn(&mut Store)>] = &[
        (
            "negative item price",
            |s| s.menu.items[8].price_cents = Some(-1),
            "$.menu.items[8].price_cents",
            "item `caesar-salad` has a negative price (-1)",
        ),
        (
            "negative size price",
            |s| s.menu.items[0].sizes[1].price_cents = -5,
            "$.menu.items[0].sizes[1].price_cents",
            "size `medium` of item `pizza-cheese` has a negative price (-5)",
        ),
        (
            "negative option price",
            |s| s.menu.modifier_groups[0].options[1].price_cents = -250,
            "$.menu.modifier_groups[0].options[1].price_cents",
            "option `stuffed-crust` of modifier group `crust` has a negative price (-250)",
        ),
        (
            "negative delivery fee",
            |s| s.fulfillment.delivery_fee_cents = -300,
            "$.fulfillment.delivery_fee_cents",
            "delivery_fee_cents is negative (-300)",
        ),
        (
            "negative delivery minimum",
            |s| s.fulfillment.delivery_minimum_cents = -1,
            "$.fulfillment.delivery_minimum_cents",
            "delivery_minimum_cents is negative (-1)",
        ),
        (
            "bad phone",
            |s| s.phone = "+1555".into(),
            "$.phone",
            "phone `+1555` is not an E.164 number",
        ),
        (
            "phone of letters",
            |s| s.phone = "+1555abcdefg".into(),
            "$.phone",
            "not an E.164 number",
        ),
        (
            "phone too long",
            |s| s.phone = "+1234567890123456".into(),
            "$.phone",
            "not an E.164 number",
        ),
        (
            "phone without +",
            |s| s.phone = "15550100001".into(),
            "$.phone",
            "not an E.164 number",
        ),
        (
            "tax above 50%",
            |s| s.tax_rate_bps = 5001,
            "$.tax_rate_bps",
            "tax rate 5001 bps is above the maximum",
        ),
        (
            "no languages",
            |s| s.languages.clear(),
            "$.languages",
            "at least one language",
        ),
        (
            "duplicate language",
            |s| s.languages = vec!["en-US".into(), "es-US".into(), "en-US".into()],
            "$.languages[2]",
            "language `en-US` is listed twice",
        ),
        (
            "max of 0",
            |s| s.menu.modifier_groups[0].max = 0,
            "$.menu.modifier_groups[0].max",
            "has max 0",
        ),
        (
            "group without options",
            |s| {
                s.menu.modifier_groups[0].options.clear();
            },
            "$.menu.modifier_groups[0].options",
            "modifier group `crust` has no options",
        ),
        (
            "empty menu",
            |s| s.menu.items.clear(),
            "$.menu.items",
            "the menu has no items",
        ),
    ];

    /// Each case mutates `fixture` and must give exactly its one problem.
    fn check_validate_cases(fixture: &str, cases: &[Case<fn(&mut Store)>]) {
        for (name, mutate, path, message) in cases {
            let mut store = fixtures::store(fixture);
            mutate(&mut store);
            let problems = store
                .validate()
                .err()
                .map(|e| e.problems)
                .unwrap_or_default();
            assert_eq!(problems.len(), 1, "{name}: {problems:#?}");
            assert_eq!(problems[0].path, *path, "{name}");
            assert!(
                problems[0].message.contains(message),
                "{name}: {:?} should contain {message:?}",
                problems[0].message
            );
        }
    }

    #[test]
    fn validate_checks_stores_built_in_code() {
        check_validate_cases(fixtures::TONYS, VALIDATE_CASES);
    }

    #[test]
    fn semantic_errors_are_all_reported_in_file_order() {
        let mut store = sample(fixtures::TONYS);
        store["timezone"] = json!("Nowhere/Special");
        store["hours"]["wed"] = json!(["12:00", "10:00"]);
        store["menu"]["items"][4]["sku"] = json!("pizza-cheese");
        store["menu"]["items"][7]["modifier_groups"] = json!(["wing-sauces"]);
        store["menu"]["modifier_groups"][2]["min"] = json!(2);
        let paths: Vec<String> = problems_of(&store).into_iter().map(|p| p.path).collect();
        assert_eq!(
            paths,
            [
                "$.timezone",
                "$.hours.wed[1]",
                "$.menu.items[4].sku",
                "$.menu.items[7].modifier_groups[0]",
                "$.menu.modifier_groups[2].min",
            ]
        );
    }

    #[test]
    fn missing_group_message_lists_the_groups_that_exist() {
        let mut store = sample(fixtures::TONYS);
        store["menu"]["items"][7]["modifier_groups"] = json!(["sauce"]);
        let problems = problems_of(&store);
        assert_eq!(
            problems,
            [Problem::new(
                "$.menu.items[7].modifier_groups[0]",
                "item `wings` uses modifier group `sauce`, which does not exist (groups: `crust`, `soda-flavor`, `toppings`, `wing-sauce`)"
            )]
        );
    }

    /// Values the schema accepts but the Rust types cannot hold.
    const SERDE_CASES: &[Case<Mutation>] = &[
        (
            "webhook without url",
            |v| v["pos"] = json!({"kind": "webhook", "secret": "s"}),
            "$.pos",
            "missing field `url`",
        ),
        (
            "square without access token",
            |v| v["pos"] = json!({"kind": "square", "location_id": "L1"}),
            "$.pos",
            "missing field `access_token`",
        ),
        (
            "minutes too large for u32",
            |v| v["fulfillment"]["pickup_minutes"] = json!(5_000_000_000_u64),
            "$.fulfillment.pickup_minutes",
            "invalid value: integer `5000000000`, expected u32",
        ),
        (
            "price too large for i64",
            |v| v["menu"]["items"][3]["sizes"][1]["price_cents"] = json!(1e30),
            "$.menu.items[3].sizes[1].price_cents",
            "expected i64",
        ),
        (
            "integral float as a count",
            |v| v["menu"]["modifier_groups"][1]["min"] = json!(1.0),
            "$.menu.modifier_groups[1].min",
            "invalid type: floating point `1.0`, expected u32",
        ),
        (
            "integral float as an option price",
            |v| v["menu"]["modifier_groups"][1]["options"][3]["price_cents"] = json!(175.0),
            "$.menu.modifier_groups[1].options[3].price_cents",
            "expected i64",
        ),
        (
            "integral float as an item price",
            |v| v["menu"]["items"][9]["price_cents"] = json!(199.0),
            "$.menu.items[9].price_cents",
            "expected i64",
        ),
    ];

    #[test]
    fn values_serde_cannot_read_are_located() {
        for (name, mutate, path, message) in SERDE_CASES {
            let mut store = sample(fixtures::TONYS);
            mutate(&mut store);
            let problems = problems_of(&store);
            assert_eq!(problems.len(), 1, "{name}: {problems:#?}");
            assert_eq!(problems[0].path, *path, "{name}");
            assert!(
                problems[0].message.contains(message),
                "{name}: {:?} should contain {message:?}",
                problems[0].message
            );
        }
    }

    #[test]
    fn json_syntax_error_reports_line_and_column() {
        let cases = [
            ("{\n  \"id\": \"x\",\n  oops\n}", "line 3 column 3"),
            ("", "EOF while parsing a value at line 1 column 0"),
            (
                "{\"id\": \"x\"",
                "EOF while parsing an object at line 1 column 10",
            ),
            ("{} trailing", "trailing characters at line 1 column 4"),
        ];
        for (json, at) in cases {
            let problems = Store::parse(json)
                .err()
                .map(|e| e.problems)
                .unwrap_or_default();
            assert_eq!(problems.len(), 1, "{json:?}: {problems:?}");
            assert_eq!(problems[0].path, "$");
            assert!(
                problems[0].message.starts_with("not valid JSON: "),
                "{problems:?}"
            );
            assert!(
                problems[0].message.contains(at),
                "{json:?}: {:?}",
                problems[0].message
            );
        }
    }

    #[test]
    fn not_an_object_is_a_schema_error_at_the_root() {
        for json in ["[]", "null", "42", "\"store\""] {
            let problems = Store::parse(json)
                .err()
                .map(|e| e.problems)
                .unwrap_or_default();
            assert_eq!(problems.len(), 1, "{json}: {problems:?}");
            assert_eq!(problems[0].path, "$");
            assert!(
                problems[0].message.contains("is not of type \"object\""),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn error_displays_one_line_per_problem() {
        let err = StoreFileError {
            problems: vec![
                Problem::new("$.phone", "phone `1` is not an E.164 number"),
                Problem::new("$.menu.items[0].sku", "duplicate item sku `a`"),
            ],
        };
        assert_eq!(
            err.to_string(),
            "`$.phone`: phone `1` is not an E.164 number\n`$.menu.items[0].sku`: duplicate item sku `a`"
        );
    }

    #[test]
    fn pointers_become_json_paths() {
        let instance = json!({"a": {"0": [1, {"b/c": {"d~e": 2}}]}, "items": [[0, [1]]]});
        let cases = [
            ("", "$"),
            ("/a", "$.a"),
            ("/a/0", "$.a[\"0\"]"),
            ("/a/0/1", "$.a[\"0\"][1]"),
            ("/a/0/1/b~1c/d~0e", "$.a[\"0\"][1][\"b/c\"][\"d~e\"]"),
            ("/items/0/1/0", "$.items[0][1][0]"),
            ("/missing/3", "$.missing[\"3\"]"),
        ];
        for (pointer, path) in cases {
            assert_eq!(pointer_to_path(&instance, pointer), path, "{pointer}");
        }
    }

    /// The rules on `names`, `portions` and `includes`, broken one at a time in the diner store
    /// (`burger` is items[0], `cheddar-melt` items[1]; `toppings` is modifier_groups[0]).
    const PORTION_CASES: &[Case<Mutation>] = &[
        (
            "includes a group the item lacks",
            |v| v["menu"]["items"][1]["includes"]["sauce"] = json!(["ranch"]),
            "$.menu.items[1].includes.sauce",
            "item `cheddar-melt` includes options of modifier group `sauce`, which is not one of its modifier_groups (`cheese`, `toppings`)",
        ),
        (
            "includes a group that does not exist",
            |v| v["menu"]["items"][1]["includes"]["sides"] = json!(["fries"]),
            "$.menu.items[1].includes.sides",
            "item `cheddar-melt` includes options of modifier group `sides`, which is not one of its modifier_groups",
        ),
        (
            "includes an option not in the group",
            |v| v["menu"]["items"][0]["includes"]["toppings"][1] = json!("fries"),
            "$.menu.items[0].includes.toppings[1]",
            "item `burger` includes `fries`, which is not an option of modifier group `toppings`",
        ),
        (
            "includes more options than the group's max",
            |v| {
                v["menu"]["items"][0]["includes"]["toppings"] =
                    json!(["lettuce", "tomato", "onion", "pickles", "bacon"]);
            },
            "$.menu.items[0].includes.toppings",
            "item `burger` includes 5 options of modifier group `toppings`, more than its max of 4",
        ),
        (
            "includes two of a max-1 group",
            |v| v["menu"]["items"][0]["includes"]["cheese"] = json!(["american", "swiss"]),
            "$.menu.items[0].includes.cheese",
            "item `burger` includes 2 options of modifier group `cheese`, more than its max of 1",
        ),
        (
            "includes an option twice",
            |v| v["menu"]["items"][0]["includes"]["toppings"][2] = json!("lettuce"),
            "$.menu.items[0].includes.toppings",
            "[\"lettuce\",\"tomato\",\"lettuce\"] has non-unique elements",
        ),
        (
            "included sku that is not an id",
            |v| v["menu"]["items"][0]["includes"]["toppings"][0] = json!("Lettuce"),
            "$.menu.items[0].includes.toppings[0]",
            "\"Lettuce\" is not a valid id",
        ),
        (
            "includes that is not a map of lists",
            |v| v["menu"]["items"][0]["includes"] = json!(["lettuce"]),
            "$.menu.items[0].includes",
            "is not of type \"object\"",
        ),
        (
            "unknown portion",
            |v| v["menu"]["modifier_groups"][0]["options"][3]["portions"]["double"] = json!(75),
            "$.menu.modifier_groups[0].options[3].portions.double",
            "unknown field `double`",
        ),
        (
            "negative portion price",
            |v| v["menu"]["modifier_groups"][0]["options"][3]["portions"]["extra"] = json!(-50),
            "$.menu.modifier_groups[0].options[3].portions.extra",
            "-50 is less than the minimum of 0",
        ),
        (
            "portion price too large for i64",
            |v| v["menu"]["modifier_groups"][0]["options"][3]["portions"]["light"] = json!(1e30),
            "$.menu.modifier_groups[0].options[3].portions.light",
            "expected i64",
        ),
        (
            "names keyed by something other than a language tag",
            |v| v["menu"]["items"][0]["names"] = json!({"spanish": "Hamburguesa"}),
            "$.menu.items[0].names.spanish",
            "\"spanish\" is not a language tag like `es` or `es-US`",
        ),
        (
            "an empty name in a language",
            |v| v["menu"]["modifier_groups"][0]["options"][2]["names"]["es"] = json!(""),
            "$.menu.modifier_groups[0].options[2].names.es",
            "is shorter than 1 character",
        ),
        (
            "names on a group that is not a map",
            |v| v["menu"]["modifier_groups"][0]["names"] = json!("Ingredientes"),
            "$.menu.modifier_groups[0].names",
            "is not of type \"object\"",
        ),
    ];

    #[test]
    fn portion_and_includes_errors_name_the_path_and_the_problem() {
        let diner = sample(fixtures::DINER);
        assert_eq!(problems_of(&diner), []);
        for (name, mutate, path, message) in PORTION_CASES {
            let mut store = diner.clone();
            mutate(&mut store);
            let problems = problems_of(&store);
            assert_eq!(problems.len(), 1, "{name}: {problems:#?}");
            assert_eq!(problems[0].path, *path, "{name}");
            assert!(
                problems[0].message.contains(message),
                "{name}: {:?} should contain {message:?}",
                problems[0].message
            );
        }
    }

    #[test]
    fn includes_error_messages_in_full() {
        let mut store = sample(fixtures::DINER);
        store["menu"]["items"][1]["includes"]["sauce"] = json!(["ranch"]);
        store["menu"]["items"][0]["includes"]["toppings"] = json!([
            "lettuce",
            "tomato",
            "anchovies",
            "onion",
            "pickles",
            "bacon"
        ]);
        assert_eq!(
            problems_of(&store),
            [
                Problem::new(
                    "$.menu.items[0].includes.toppings[2]",
                    "item `burger` includes `anchovies`, which is not an option of modifier group `toppings`"
                ),
                Problem::new(
                    "$.menu.items[0].includes.toppings",
                    "item `burger` includes 5 options of modifier group `toppings`, more than its max of 4"
                ),
                Problem::new(
                    "$.menu.items[1].includes.sauce",
                    "item `cheddar-melt` includes options of modifier group `sauce`, which is not one of its modifier_groups (`cheese`, `toppings`)"
                ),
            ]
        );
    }

    #[test]
    fn includes_of_a_missing_group_is_reported_once() {
        let mut store = sample(fixtures::DINER);
        store["menu"]["items"][1]["modifier_groups"] = json!(["cheese", "toppings", "sides"]);
        store["menu"]["items"][1]["includes"]["sides"] = json!(["fries"]);
        let paths: Vec<String> = problems_of(&store).into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["$.menu.items[1].modifier_groups[2]"]);
    }

    /// Rules on portions and includes that the schema enforces, for stores built in code.
    const PORTION_VALIDATE_CASES: &[Case<fn(&mut Store)>] = &[
        (
            "negative portion price",
            |s| s.menu.modifier_groups[0].options[4].portions.side = Some(-1),
            "$.menu.modifier_groups[0].options[4].portions.side",
            "option `bacon` of modifier group `toppings` has a negative side price (-1)",
        ),
        (
            "an option included twice",
            |s| {
                if let Some(toppings) = s.menu.items[0].includes.get_mut("toppings") {
                    toppings.push("tomato".into());
                }
            },
            "$.menu.items[0].includes.toppings[3]",
            "item `burger` includes option `tomato` of modifier group `toppings` twice",
        ),
        (
            "includes an option of another group",
            |s| {
                s.menu.items[2]
                    .includes
                    .insert("pizza-toppings".into(), vec!["lettuce".into()]);
            },
            "$.menu.items[2].includes[\"pizza-toppings\"][0]",
            "item `pizza` includes `lettuce`, which is not an option of modifier group `pizza-toppings`",
        ),
    ];

    #[test]
    fn validate_checks_portions_and_includes_built_in_code() {
        check_validate_cases(fixtures::DINER, PORTION_VALIDATE_CASES);
    }

    /// The store files on disk: this repository's samples and, when the shared folder is next
    /// to the repository, the scenario stores and the PIZZA store (read in place, never copied).
    /// Each must parse, and its canonical form must parse back to the same store.
    #[test]
    fn store_files_on_disk_parse_and_round_trip() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = json_files(&root.join("tests/fixtures/stores"));
        assert_eq!(files.len(), fixtures::ALL.len(), "{files:?}");
        let shared = root.join("../shared");
        if shared.is_dir() {
            files.extend(json_files(&shared.join("scenarios/stores")));
            files.extend(json_files(&shared.join("pizza")));
        }
        for file in &files {
            let text = std::fs::read_to_string(file)
                .unwrap_or_else(|err| panic!("{}: {err}", file.display()));
            let store = Store::parse(&text)
                .unwrap_or_else(|err| panic!("{} does not parse:\n{err}", file.display()));
            let again = Store::from_json(&store.to_json());
            assert_eq!(again.as_ref().ok(), Some(&store), "{}", file.display());
        }
    }

    fn json_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        files
    }

    #[test]
    fn times_of_day() {
        let cases = [
            ("00:00", Some(0)),
            ("06:30", Some(390)),
            ("23:59", Some(1439)),
            ("24:00", Some(1440)),
            ("24:01", None),
            ("25:00", None),
            ("12:60", None),
            ("9:00", None),
            ("09:0", None),
            ("0900", None),
            ("+9:00", None),
            ("09:+0", None),
            ("", None),
        ];
        for (time, minutes) in cases {
            assert_eq!(minutes_of_day(time), minutes, "{time}");
        }
    }
}
