//! `kea ner train`, `kea ner eval` and `kea nlu parse`: kea-ner's entity model from the command
//! line; and the model a worker loads for `extract_order`'s second opinion.
//!
//! Training data is generated from menus ([`kea_ner::data::generate`]): the stores in the
//! database and the menus built into kea-ner ([`kea_ner::menus::TRAIN`]), or store files given
//! with `--store`. Evaluation uses stores held out of training (by default
//! [`kea_ner::menus::EVAL`]), so its numbers say how the model does on menus it never saw.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kea_menu::Store;
use kea_menu::matcher::MenuMatcher;
use kea_ner::align::align_to_menu;
use kea_ner::data::{self, Example, GenSettings, Span};
use kea_ner::model::{Labels, Model, TrainSettings};
use kea_ner::resolve::{NerOrder, TurnSpans, resolve};
use serde_json::json;

/// Utterances per menu `kea dev`'s first run trains on.
pub const DEV_EXAMPLES_PER_STORE: usize = 1500;

/// The settings `kea dev` trains with (`kea ner train`'s defaults).
pub fn dev_settings() -> TrainSettings {
    TrainSettings {
        epochs: 1,
        batch_size: 16,
        learning_rate: 1e-4,
        seed: 12,
        ..TrainSettings::default()
    }
}

/// Where a trained model lives when nothing else is said: `<data dir>/ner`.
pub fn default_model_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("ner")
}

/// The model's folder.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// The trained model's folder [default: <KEA_DATA_DIR>/ner].
    #[arg(long = "ner-model", env = "KEA_NER_MODEL")]
    pub ner_model: Option<PathBuf>,
    /// kea's data directory (the `kea dev` database's port file, the model).
    #[arg(long, env = "KEA_DATA_DIR", default_value = ".kea")]
    pub data_dir: PathBuf,
}

impl ModelArgs {
    pub fn dir(&self) -> PathBuf {
        self.ner_model
            .clone()
            .unwrap_or_else(|| default_model_dir(&self.data_dir))
    }
}

/// `kea ner train`
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Store JSON files to learn from [default: the stores in the database and kea-ner's
    /// built-in training menus].
    #[arg(long = "store")]
    stores: Vec<PathBuf>,
    /// Store ids to leave out of training (the built-in evaluation menus always are).
    #[arg(long = "hold-out")]
    hold_out: Vec<String>,
    /// Database to read stores from [default: DATABASE_URL, else `kea dev`'s].
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Generated utterances per store.
    #[arg(long, default_value_t = 1500)]
    examples_per_store: usize,
    /// Passes over the examples.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Stop after this many optimizer steps instead of whole passes.
    #[arg(long)]
    steps: Option<usize>,
    /// Utterances per step.
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 1e-4)]
    learning_rate: f64,
    /// Seeds generation, the classifier's start and the shuffling: the same seed gives the
    /// same model.
    #[arg(long, default_value_t = 12)]
    seed: u64,
    /// libtorch threads [default: one per core].
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// No progress bar (log lines instead).
    #[arg(long)]
    quiet: bool,
}

/// `kea ner eval`
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Held-out store JSON files [default: kea-ner's built-in evaluation menus].
    #[arg(long = "store")]
    stores: Vec<PathBuf>,
    /// Generated utterances per store.
    #[arg(long, default_value_t = 400)]
    examples_per_store: usize,
    /// Seed for the evaluation utterances (different from training's by default).
    #[arg(long, default_value_t = 7001)]
    seed: u64,
    /// Fail (exit 1) when the micro-averaged entity F1 is below this.
    #[arg(long)]
    min_f1: Option<f64>,
    /// libtorch threads for the latency measurement (1 is what a worker uses).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Also print this many utterances where the model and the generated labels differ.
    #[arg(long, default_value_t = 0)]
    errors: usize,
    /// Instead of generated utterances: caller scenarios (a folder of TOML files, e.g. an
    /// external test set), each scenario's `say` lines read as one call; reports how many give
    /// exactly the expected order (stores from --store).
    #[arg(long)]
    scenarios: Option<PathBuf>,
}

/// `kea nlu parse`
#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// What the caller said.
    utterance: String,
    /// The store (by id, from the database).
    #[arg(long, required_unless_present = "store_file")]
    store: Option<String>,
    /// A store JSON file instead of a store in the database.
    #[arg(long)]
    store_file: Option<PathBuf>,
    /// Database to read the store from [default: DATABASE_URL, else `kea dev`'s].
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
}

pub async fn train(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let mut stores = if args.stores.is_empty() {
        let mut stores = built_in(kea_ner::menus::TRAIN)?;
        match database_stores(args.database_url.as_deref(), &args.model.data_dir).await {
            Ok(found) => {
                for store in found {
                    if !stores.iter().any(|s| s.id == store.id) {
                        stores.push(store);
                    }
                }
            }
            Err(e) => eprintln!("note: training on the built-in menus only ({e:#})"),
        }
        stores
    } else {
        read_stores(&args.stores)?
    };
    let held_out: Vec<String> = kea_ner::menus::EVAL
        .iter()
        .filter_map(|(_, json)| Store::parse(json).ok().map(|s| s.id))
        .chain(args.hold_out.iter().cloned())
        .collect();
    stores.retain(|s| !held_out.contains(&s.id));
    if stores.is_empty() {
        bail!("no stores left to learn from (all were held out)");
    }
    let examples = examples_of(&stores, args.examples_per_store, args.seed);
    let ids: Vec<&str> = stores.iter().map(|s| s.id.as_str()).collect();
    eprintln!(
        "Training the entity model on {} utterances from {} menus ({}); held out: {}.",
        examples.len(),
        stores.len(),
        ids.join(", "),
        held_out.join(", ")
    );
    let settings = TrainSettings {
        epochs: args.epochs,
        max_steps: args.steps,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        seed: args.seed,
        threads: args.threads,
        ..TrainSettings::default()
    };
    let dir = args.model.dir();
    let started = Instant::now();
    let model = train_with_progress(&examples, &settings, args.quiet)?;
    model
        .save(&dir)
        .with_context(|| format!("saving the model to {}", dir.display()))?;
    eprintln!(
        "Trained in {:.0?} ({} steps, final loss {:.4}); saved to {} ({}).",
        started.elapsed(),
        model.meta().steps,
        model.meta().final_loss,
        dir.display(),
        size_on_disk(&dir)
    );
    Ok(ExitCode::SUCCESS)
}

/// Trains with a progress bar (or, with `quiet`, a log line every 10%), off the async threads.
pub fn train_with_progress(
    examples: &[Example],
    settings: &TrainSettings,
    quiet: bool,
) -> anyhow::Result<Model> {
    let labels = Labels::new(data::LABELS).context("the label set")?;
    let bar = (!quiet).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} training [{bar:30}] step {pos}/{len} · loss {msg} · {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let mut last_tenth = 0;
    let model = kea_ner::model::train(examples, &labels, settings, |p| {
        if let Some(bar) = &bar {
            bar.set_length(p.total_steps as u64);
            bar.set_position(p.step as u64);
            bar.set_message(format!("{:.4}", p.loss));
        } else {
            let tenth = p.step * 10 / p.total_steps.max(1);
            if tenth > last_tenth {
                last_tenth = tenth;
                tracing::info!(
                    step = p.step,
                    of = p.total_steps,
                    loss = p.loss,
                    "training the entity model"
                );
            }
        }
    })
    .context("training the entity model")?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(model)
}

pub async fn eval(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let dir = args.model.dir();
    let model = load(&dir)?;
    let stores = if args.stores.is_empty() {
        built_in(kea_ner::menus::EVAL)?
    } else {
        read_stores(&args.stores)?
    };
    if let Some(dir) = &args.scenarios {
        return scenario_accuracy(model, &stores, dir, args.errors).await;
    }
    let trained_on = &model.meta().stores;
    for store in &stores {
        if trained_on.contains(&store.id) {
            eprintln!(
                "warning: the model was trained on `{}`: its numbers do not measure unseen menus",
                store.id
            );
        }
    }
    let examples = examples_of(&stores, args.examples_per_store, args.seed);
    kea_ner::model::set_threads(args.threads);
    let matchers: HashMap<String, MenuMatcher> = stores
        .iter()
        .map(|s| (s.id.clone(), MenuMatcher::new(&s.menu)))
        .collect();
    let report = tokio::task::spawn_blocking(move || measure(&model, &examples, &matchers))
        .await
        .context("the evaluation thread")??;
    for (text, gold, predicted) in report.mistakes.iter().take(args.errors) {
        println!(
            "  {text}\n    want {}\n    got  {}",
            marked(text, gold),
            marked(text, predicted)
        );
    }
    let f1 = report.aligned.micro.f1();
    if args.json {
        let table = |scores: &data::Scores| -> serde_json::Map<String, serde_json::Value> {
            scores
                .per_label
                .iter()
                .map(|(label, c)| {
                    (
                        label.clone(),
                        json!({"precision": c.precision(), "recall": c.recall(), "f1": c.f1(),
                               "support": c.true_positives + c.false_negatives}),
                    )
                })
                .collect()
        };
        let per_label = table(&report.aligned);
        let per_label_alone = table(&report.scores);
        println!(
            "{:#}",
            json!({
                "stores": stores.iter().map(|s| &s.id).collect::<Vec<_>>(),
                "utterances": report.utterances,
                "micro_f1": f1,
                "per_label": per_label,
                "model_alone": {"micro_f1": report.scores.micro.f1(), "per_label": per_label_alone},
                "latency_ms": {"p50": report.p50_ms, "p99": report.p99_ms},
                "batched_utterances_per_second": report.batched_per_second,
            })
        );
    } else {
        let ids: Vec<&str> = stores.iter().map(|s| s.id.as_str()).collect();
        println!(
            "Held-out stores: {} ({} utterances)\n",
            ids.join(", "),
            report.utterances
        );
        println!("The model alone:\n{}", report.scores);
        println!(
            "With its menu spans re-cut along the store's names (what kea uses):\n{}",
            report.aligned
        );
        println!(
            "Latency per utterance (one at a time, {} thread{}): p50 {:.1} ms, p99 {:.1} ms",
            args.threads,
            if args.threads == 1 { "" } else { "s" },
            report.p50_ms,
            report.p99_ms
        );
        println!(
            "Batched (32 at a time): {:.0} utterances per second",
            report.batched_per_second
        );
    }
    if let Some(min) = args.min_f1
        && f1 < min
    {
        eprintln!("entity F1 {f1:.3} is below the floor {min:.3}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Exact-order accuracy of the model (with the menu alignment and the resolver) on caller
/// scenarios: each scenario's volunteered lines as the caller's turns.
async fn scenario_accuracy(
    model: Model,
    stores: &[Store],
    dir: &Path,
    show: usize,
) -> anyhow::Result<ExitCode> {
    let scenarios = kea_sim::load(&[dir.to_path_buf()]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let stores: HashMap<String, (Store, MenuMatcher)> = stores
        .iter()
        .map(|s| (s.id.clone(), (s.clone(), MenuMatcher::new(&s.menu))))
        .collect();
    let (exact, total, misses) = tokio::task::spawn_blocking(move || {
        let mut exact = 0;
        let mut misses = Vec::new();
        for scenario in &scenarios {
            let Some((store, matcher)) = stores.get(&scenario.store) else {
                misses.push(format!(
                    "{}: no store `{}` (give it with --store)",
                    scenario.id, scenario.store
                ));
                continue;
            };
            let said: Vec<&str> = scenario
                .caller
                .say
                .iter()
                .map(String::as_str)
                .filter(|s| *s != "<silence>")
                .collect();
            let found = model.predict(&said).context("running the model")?;
            let spans: Vec<Vec<Span>> = said
                .iter()
                .zip(found)
                .map(|(text, f)| align_to_menu(text, &spans_of(f), matcher))
                .collect();
            let turns: Vec<TurnSpans> = said
                .iter()
                .zip(&spans)
                .map(|(text, spans)| TurnSpans { text, spans })
                .collect();
            let heard = resolve(store, matcher, &turns);
            let want: Vec<kea_ner::resolve::NerLine> = scenario
                .expect
                .items
                .iter()
                .map(|i| kea_ner::resolve::NerLine {
                    sku: i.sku.clone(),
                    size: i.size.clone(),
                    quantity: i.quantity,
                    modifiers: i.modifiers.clone(),
                })
                .collect();
            if kea_ner::resolve::compare(&store.menu, &want, &heard.items).agrees {
                exact += 1;
            } else {
                misses.push(format!(
                    "{}: {:?}\n    want {}\n    got  {}",
                    scenario.id,
                    said,
                    serde_json::to_string(&want).unwrap_or_default(),
                    serde_json::to_string(&heard.items).unwrap_or_default()
                ));
            }
        }
        anyhow::Ok((exact, scenarios.len(), misses))
    })
    .await
    .context("the evaluation thread")??;
    for miss in misses.iter().take(show) {
        println!("{miss}");
    }
    println!(
        "Exact order from the entity model: {exact} of {total} scenarios ({:.1}%)",
        100.0 * exact as f64 / total.max(1) as f64
    );
    Ok(ExitCode::SUCCESS)
}

/// What [`measure`] found.
pub struct EvalReport {
    /// The model's spans as it predicted them.
    pub scores: data::Scores,
    /// After [`kea_ner::align::align_to_menu`].
    pub aligned: data::Scores,
    /// (text, generated spans, predicted spans) where they differ.
    pub mistakes: Vec<(String, Vec<Span>, Vec<Span>)>,
    pub utterances: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub batched_per_second: f64,
}

/// Entity-level scores of the model on `examples`, and its latency: each utterance alone (as a
/// worker runs them), then in batches of 32.
pub fn measure(
    model: &Model,
    examples: &[Example],
    matchers: &HashMap<String, MenuMatcher>,
) -> anyhow::Result<EvalReport> {
    let mut gold = Vec::with_capacity(examples.len());
    let mut predicted = Vec::with_capacity(examples.len());
    let mut aligned = Vec::with_capacity(examples.len());
    let mut times = Vec::with_capacity(examples.len());
    for example in examples {
        let started = Instant::now();
        let found = model
            .predict(&[example.text.as_str()])
            .context("running the model")?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        gold.push(example.spans.clone());
        let spans = spans_of(found.into_iter().next().unwrap_or_default());
        aligned.push(match matchers.get(&example.store) {
            Some(matcher) => align_to_menu(&example.text, &spans, matcher),
            None => spans.clone(),
        });
        predicted.push(spans);
    }
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let started = Instant::now();
    for batch in texts.chunks(32) {
        model.predict(batch).context("running the model")?;
    }
    let batched_per_second = texts.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let mistakes = examples
        .iter()
        .zip(gold.iter().zip(&aligned))
        .filter(|(_, (g, p))| g != p)
        .map(|(e, (g, p))| (e.text.clone(), g.clone(), p.clone()))
        .collect();
    Ok(EvalReport {
        scores: data::score(&gold, &predicted),
        aligned: data::score(&gold, &aligned),
        mistakes,
        utterances: examples.len(),
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        batched_per_second,
    })
}

pub async fn parse(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let store = match (&args.store_file, &args.store) {
        (Some(path), _) => read_stores(std::slice::from_ref(path))?
            .pop()
            .context("no store in the file")?,
        (None, Some(id)) => {
            let url = crate::config::local_database_url(
                args.database_url.as_deref(),
                &args.model.data_dir,
            )?;
            let pool = sqlx::PgPool::connect(&url)
                .await
                .with_context(|| format!("connecting to {url}"))?;
            let document: Option<serde_json::Value> =
                sqlx::query_scalar("SELECT document FROM stores WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&pool)
                    .await?;
            let document = document.with_context(|| format!("no store `{id}` in the database"))?;
            Store::from_json(&document).map_err(|e| anyhow::anyhow!("store `{id}`: {e}"))?
        }
        (None, None) => bail!("give --store ID or --store-file FILE"),
    };
    let matcher = MenuMatcher::new(&store.menu);
    let parser = parser_order(&store, &matcher, &args.utterance);
    let dir = args.model.dir();
    let model = load(&dir)?;
    let text = args.utterance.clone();
    let found = tokio::task::spawn_blocking(move || model.predict(&[text.as_str()]))
        .await
        .context("the model thread")?
        .context("running the model")?
        .into_iter()
        .next()
        .unwrap_or_default();
    let spans = align_to_menu(&args.utterance, &spans_of(found.clone()), &matcher);
    let ner = resolve(
        &store,
        &matcher,
        &[TurnSpans {
            text: &args.utterance,
            spans: &spans,
        }],
    );
    let mut ner_json = serde_json::to_value(&ner)?;
    // The entities kea uses (re-cut along the menu), each scored by the model's confidence in
    // the words it covers.
    ner_json["entities"] = json!(
        spans
            .iter()
            .map(|s| {
                let scores: Vec<f32> = found
                    .iter()
                    .filter(|e| e.start < s.end && s.start < e.end)
                    .map(|e| e.score)
                    .collect();
                let score = scores.iter().sum::<f32>() / scores.len().max(1) as f32;
                json!({"label": s.label, "text": &args.utterance[s.start..s.end],
                       "start": s.start, "end": s.end, "score": score})
            })
            .collect::<Vec<_>>()
    );
    println!(
        "{:#}",
        json!({"parser": serde_json::to_value(&parser)?, "ner": ner_json})
    );
    Ok(ExitCode::SUCCESS)
}

/// What the dialog's parser makes of `utterance` said as a call's first turn.
fn parser_order(store: &Store, matcher: &MenuMatcher, utterance: &str) -> NerOrder {
    let ctx = kea_dialog::Context {
        store,
        matcher,
        now: None,
        enforce_hours: false,
    };
    let start = kea_dialog::DialogState::new("+15550000000");
    let (state, _) = kea_dialog::step(&start, &kea_dialog::Event::Start, &ctx);
    let (state, _) = kea_dialog::step(
        &state,
        &kea_dialog::Event::Speech {
            text: utterance.to_owned(),
            confidence: 1.0,
        },
        &ctx,
    );
    NerOrder {
        items: state
            .lines()
            .iter()
            .chain(&state.held_lines())
            .map(kea_ner::resolve::NerLine::from)
            .collect(),
        name: state.customer_name().map(str::to_owned),
        phone: state.callback_phone().map(str::to_owned),
        address: state.delivery_address().map(str::to_owned),
        fulfillment: state.fulfillment().map(|f| f.as_str().to_owned()),
    }
}

/// The model a worker runs for `extract_order`, if one has been trained; loaded once per process.
pub fn worker_model(dir: &Path) -> anyhow::Result<Option<Arc<dyn kea_tasks::EntityModel>>> {
    if !dir.join("meta.json").exists() {
        tracing::warn!(
            model = %dir.display(),
            "no entity model: orders get no second opinion (train one with `kea ner train`)"
        );
        return Ok(None);
    }
    let model = load(dir)?;
    // One thread: inference shares the machine with the webhook server.
    kea_ner::model::set_threads(1);
    let describe = format!(
        "kea-ner {} ({} steps, trained {} on {})",
        dir.display(),
        model.meta().steps,
        model.meta().trained_at,
        model.meta().stores.join(", ")
    );
    tracing::info!(model = %describe, "entity model loaded");
    Ok(Some(Arc::new(WorkerModel {
        model: Mutex::new(model),
        describe,
    })))
}

/// The entity model while `kea dev` trains it in the background: until then, each order is
/// judged without a second reading (the job logs why).
#[derive(Default)]
pub struct ModelInTraining {
    model: std::sync::OnceLock<Arc<dyn kea_tasks::EntityModel>>,
}

impl ModelInTraining {
    /// The trained model, from now on.
    pub fn ready(&self, model: Arc<dyn kea_tasks::EntityModel>) {
        let _ = self.model.set(model);
    }
}

impl kea_tasks::EntityModel for ModelInTraining {
    fn entities(&self, texts: &[String]) -> Result<Vec<Vec<Span>>, String> {
        match self.model.get() {
            Some(model) => model.entities(texts),
            None => Err("the entity model is still training".to_owned()),
        }
    }

    fn describe(&self) -> String {
        self.model
            .get()
            .map_or_else(|| "kea-ner (training)".to_owned(), |m| m.describe())
    }
}

/// A trained model shared by a worker's jobs: libtorch modules are not `Sync`, so calls take
/// turns (each is a few milliseconds).
struct WorkerModel {
    model: Mutex<Model>,
    describe: String,
}

impl kea_tasks::EntityModel for WorkerModel {
    fn entities(&self, texts: &[String]) -> Result<Vec<Vec<Span>>, String> {
        let model = self
            .model
            .lock()
            .map_err(|_| "the entity model's lock is poisoned".to_owned())?;
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let found = model.predict(&texts).map_err(|e| e.to_string())?;
        Ok(found.into_iter().map(spans_of).collect())
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }
}

fn spans_of(entities: Vec<kea_ner::model::Entity>) -> Vec<Span> {
    entities
        .into_iter()
        .map(|e| Span {
            start: e.start,
            end: e.end,
            label: e.label,
        })
        .collect()
}

fn load(dir: &Path) -> anyhow::Result<Model> {
    if !dir.join("meta.json").exists() {
        bail!(
            "no trained model in {} (train one with `kea ner train`, or point --ner-model at one)",
            dir.display()
        );
    }
    Model::load(dir).with_context(|| format!("loading the model in {}", dir.display()))
}

/// Every store's examples, each store seeded on its own so adding a store changes no other's.
pub fn examples_of(stores: &[Store], per_store: usize, seed: u64) -> Vec<Example> {
    stores
        .iter()
        .enumerate()
        .flat_map(|(i, store)| {
            data::generate(
                store,
                &GenSettings {
                    seed: seed.wrapping_add(i as u64 * 7919),
                    count: per_store,
                    ..GenSettings::default()
                },
            )
        })
        .collect()
}

pub fn built_in(menus: &[(&str, &str)]) -> anyhow::Result<Vec<Store>> {
    menus
        .iter()
        .map(|(name, json)| {
            Store::parse(json).map_err(|e| anyhow::anyhow!("built-in menu {name}: {e}"))
        })
        .collect()
}

fn read_stores(paths: &[PathBuf]) -> anyhow::Result<Vec<Store>> {
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Store::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        })
        .collect()
}

async fn database_stores(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<Store>> {
    let url = crate::config::local_database_url(url, data_dir)?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .connect(&url)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let documents: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT document FROM stores ORDER BY id")
            .fetch_all(&pool)
            .await?;
    Ok(documents
        .iter()
        .filter_map(|d| Store::from_json(d).ok())
        .collect())
}

fn size_on_disk(dir: &Path) -> String {
    let bytes: u64 = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

/// "[two|QUANTITY] large [pizzas|ITEM]": spans shown in their text.
fn marked(text: &str, spans: &[Span]) -> String {
    let mut out = String::new();
    let mut at = 0;
    for s in spans {
        if s.start < at || s.end > text.len() {
            continue;
        }
        out.push_str(&text[at..s.start]);
        out.push_str(&format!("[{}|{}]", &text[s.start..s.end], s.label));
        at = s.end;
    }
    out.push_str(&text[at..]);
    out
}
