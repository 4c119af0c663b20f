#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod caller;
mod check;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use caller::SimCaller;
pub use check::{ObservedLine, ObservedOrder, check, expected_total};

/// One caller scenario (the format of `tests/fixtures/scenarios/*.toml`).
#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    /// Its name; the file's stem when absent.
    #[serde(default)]
    pub id: String,
    /// The store called (a store file's `id`).
    pub store: String,
    /// What it exercises.
    #[serde(default)]
    pub description: String,
    /// Who calls and how they behave.
    #[serde(default)]
    pub caller: CallerSpec,
    /// What the platform must end up with.
    #[serde(default)]
    pub expect: Expect,
}

/// The caller's side of a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CallerSpec {
    /// Caller ID (E.164).
    pub phone: String,
    /// The name they give.
    pub name: String,
    /// `pickup` or `delivery`.
    pub fulfillment: String,
    /// Said when asked for a delivery address.
    pub address: String,
    /// Said when asked for a number, if set.
    pub callback_phone: Option<String>,
    /// `en` or `es`.
    pub language: String,
    /// Sent as `Confidence` with every utterance.
    pub confidence: f32,
    /// The caller hangs up after this many utterances.
    pub hangup_after: Option<u32>,
    /// What the caller volunteers, in order; `<silence>` says nothing.
    pub say: Vec<String>,
    /// Answers to specific questions.
    pub answers: Answers,
    /// Scripted reactions to what the caller hears.
    pub on: Vec<Reaction>,
}

impl Default for CallerSpec {
    fn default() -> Self {
        Self {
            phone: "+15557654321".to_owned(),
            name: "Sam".to_owned(),
            fulfillment: "pickup".to_owned(),
            address: String::new(),
            callback_phone: None,
            language: "en".to_owned(),
            confidence: 0.92,
            hangup_after: None,
            say: Vec::new(),
            answers: Answers::default(),
            on: Vec::new(),
        }
    }
}

/// Answers to specific kinds of questions (defaults apply where absent).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Answers {
    /// Size answers, used in order.
    pub size: OneOrMany,
    /// Answers to "which/what kind/what flavor" questions, used in order.
    pub choice: OneOrMany,
    /// The answer to a read-back or "did you say" question.
    pub confirm: Option<String>,
    /// The answer to "anything else?" once `say` is used up.
    pub done: Option<String>,
    /// The answer to an offer.
    pub offer: Option<String>,
    /// Overrides the address answer.
    pub address: Option<String>,
    /// Overrides the name answer.
    pub name: Option<String>,
    /// Overrides the phone answer.
    pub phone: Option<String>,
    /// Overrides the pickup-or-delivery answer.
    pub fulfillment: Option<String>,
}

/// A string or a list of strings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "OneOrManyRepr")]
pub struct OneOrMany(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrManyRepr {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrManyRepr> for OneOrMany {
    fn from(r: OneOrManyRepr) -> Self {
        match r {
            OneOrManyRepr::One(s) => Self(vec![s]),
            OneOrManyRepr::Many(v) => Self(v),
        }
    }
}

/// `[[caller.on]]`: when what the caller just heard matches `when`, they say `say` (once).
#[derive(Debug, Clone, Deserialize)]
pub struct Reaction {
    /// A regular expression over the lower-cased prompt.
    pub when: String,
    /// What the caller says.
    pub say: String,
}

/// What the platform must end up with.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Expect {
    /// `order_placed`, `transferred`, `cancelled` or `abandoned`.
    pub outcome: String,
    /// `pickup` or `delivery`.
    pub fulfillment: Option<String>,
    /// The order's name.
    pub customer_name: Option<String>,
    /// The order's phone (compared on the last ten digits).
    pub customer_phone: Option<String>,
    /// Pieces the delivery address must contain.
    pub address_contains: Vec<String>,
    /// `agent` when the order must have produced a task for an agent.
    pub verification: Option<String>,
    /// The order's lines, compared as a multiset.
    pub items: Vec<ExpectItem>,
}

impl Default for Expect {
    fn default() -> Self {
        Self {
            outcome: "order_placed".to_owned(),
            fulfillment: None,
            customer_name: None,
            customer_phone: None,
            address_contains: Vec::new(),
            verification: None,
            items: Vec::new(),
        }
    }
}

/// One expected order line.
#[derive(Debug, Clone, Deserialize)]
pub struct ExpectItem {
    /// Menu sku.
    pub sku: String,
    /// Size; absent means none (or the item's `default_size`).
    pub size: Option<String>,
    /// How many (default 1).
    #[serde(default = "one")]
    pub quantity: u32,
    /// Option skus.
    #[serde(default)]
    pub modifiers: Vec<String>,
}

fn one() -> u32 {
    1
}

/// Why scenarios could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file or folder could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// Which.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A scenario file is not valid.
    #[error("{}: {reason}", path.display())]
    Invalid {
        /// Which.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
}

impl Scenario {
    /// Parses one scenario; `fallback_id` names it when the file has no `id`.
    pub fn parse(text: &str, fallback_id: &str) -> Result<Self, String> {
        let mut sc: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        if sc.id.is_empty() {
            sc.id = fallback_id.to_owned();
        }
        for rule in &sc.caller.on {
            regex::Regex::new(&rule.when)
                .map_err(|e| format!("caller.on: bad regex `{}`: {e}", rule.when))?;
        }
        Ok(sc)
    }
}

/// Loads scenarios from files and folders (a folder's `*.toml` files, sorted by name).
pub fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, SimError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|source| SimError::Read {
                path: path.clone(),
                source,
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    files.iter().map(|f| load_file(f)).collect()
}

fn load_file(path: &Path) -> Result<Scenario, SimError> {
    let text = std::fs::read_to_string(path).map_err(|source| SimError::Read {
        path: path.to_owned(),
        source,
    })?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Scenario::parse(&text, &stem).map_err(|reason| SimError::Invalid {
        path: path.to_owned(),
        reason,
    })
}
