//! Fine-tuning: the whole network (encoder and classifier) with AdamW, a linear warm-up then a
//! linear decay of the learning rate, gradient-norm clipping, and one loss term per word.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Reduction, Tensor};

use super::tokens::{self, Encoding};
use super::{DEFAULT_MAX_LEN, Example, Labels, Model, NerError, base_dir_from_env, labels};

/// How to train. `Default` gives settings that suit a few thousand generated utterances.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSettings {
    /// The base weights' folder; `None` reads `KEA_NER_BASE`.
    pub base: Option<PathBuf>,
    /// Passes over the examples, reshuffled each time.
    pub epochs: usize,
    /// Stop after this many optimizer steps instead, when set (it may be more or fewer than
    /// `epochs` passes; the learning-rate schedule spans these steps).
    pub max_steps: Option<usize>,
    /// Utterances per step.
    pub batch_size: usize,
    /// Peak learning rate; BERT fine-tuning works around 5e-5 to 1e-4.
    pub learning_rate: f64,
    /// Share of the steps spent warming the learning rate up from near 0 (then it decays to 0).
    pub warmup_fraction: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// Gradients are scaled down when their global L2 norm is above this.
    pub max_grad_norm: f64,
    /// Word-pieces per utterance, special tokens included; longer utterances are cut.
    pub max_len: usize,
    /// Seeds the classifier's start, dropout and the shuffling, so a run can be repeated.
    pub seed: u64,
    /// libtorch threads while training (process-wide; see [`super::set_threads`]); 0 leaves
    /// libtorch's default (one per core).
    pub threads: usize,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            base: None,
            epochs: 3,
            max_steps: None,
            batch_size: 16,
            learning_rate: 5e-5,
            warmup_fraction: 0.1,
            weight_decay: 0.01,
            max_grad_norm: 1.0,
            max_len: DEFAULT_MAX_LEN,
            seed: 12,
            threads: 0,
        }
    }
}

/// Where training stands, passed to the callback after every step.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// Steps done, from 1.
    pub step: usize,
    /// Steps the run will take in all.
    pub total_steps: usize,
    /// The pass over the examples this step belonged to, from 1.
    pub epoch: usize,
    /// This step's mean loss per word.
    pub loss: f64,
    /// The learning rate this step used.
    pub learning_rate: f64,
    /// Time since the first step began.
    pub elapsed: Duration,
}

/// Fine-tunes the base MiniLM (see [`TrainSettings::base`]) on `examples` to predict `labels`,
/// calling `progress` after each step (the caller draws its own progress bar or log lines).
/// Examples whose text has no word are skipped; a span with a label outside `labels`, or that
/// is not a range of character boundaries in its text, is an error naming the example's index.
/// Runs on the GPU when libtorch has one.
pub fn train(
    examples: &[Example],
    labels: &Labels,
    settings: &TrainSettings,
    mut progress: impl FnMut(&Progress),
) -> Result<Model, NerError> {
    check(settings)?;
    super::set_threads(settings.threads);
    let base = match &settings.base {
        Some(dir) => dir.clone(),
        None => base_dir_from_env()?,
    };
    let device = Device::cuda_if_available();
    let mut model = Model::from_base(&base, labels.clone(), settings.seed, device)?;
    model.meta.max_len = settings.max_len;

    let mut data: Vec<(Encoding, Vec<i64>)> = Vec::with_capacity(examples.len());
    for (index, example) in examples.iter().enumerate() {
        let encoding = model.encode(&example.text);
        let targets = labels::targets(index, example, &encoding, labels)?;
        if !encoding.words.is_empty() {
            data.push((encoding, targets));
        }
    }
    if data.is_empty() {
        return Err(NerError::InvalidSettings("no example has a word".into()));
    }
    let batches_per_epoch = data.len().div_ceil(settings.batch_size);
    let total_steps = settings
        .max_steps
        .unwrap_or(settings.epochs * batches_per_epoch);
    if total_steps == 0 {
        return Err(NerError::InvalidSettings("zero steps to take".into()));
    }
    let schedule = Schedule::new(
        settings.learning_rate,
        settings.warmup_fraction,
        total_steps,
    );
    let mut optimizer = nn::AdamW {
        wd: settings.weight_decay,
        ..nn::AdamW::default()
    }
    .build(&model.store, settings.learning_rate)?;
    let classes = labels.len() as i64;
    let mut rng = StdRng::seed_from_u64(settings.seed);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let started = Instant::now();
    let (mut step, mut epoch, mut loss) = (0, 0, f64::NAN);
    while step < total_steps {
        epoch += 1;
        order.shuffle(&mut rng);
        for chunk in order.chunks(settings.batch_size) {
            if step == total_steps {
                break;
            }
            let learning_rate = schedule.at(step);
            optimizer.set_lr(learning_rate);
            let encodings: Vec<&Encoding> = chunk.iter().map(|&i| &data[i].0).collect();
            let targets: Vec<&[i64]> = chunk.iter().map(|&i| data[i].1.as_slice()).collect();
            let (ids, mask) = tokens::batch(&encodings, device);
            let width = ids.size().get(1).copied().unwrap_or(0) as usize;
            let targets = tokens::batch_targets(&targets, width, device);
            let logits = model
                .net
                .forward_t(Some(&ids), Some(&mask), None, None, None, true)
                .logits;
            let batch_loss = logits.view([-1, classes]).cross_entropy_loss::<Tensor>(
                &targets.view([-1]),
                None,
                Reduction::Mean,
                tokens::IGNORE,
                0.0,
            );
            loss = batch_loss.double_value(&[]);
            step += 1;
            if !loss.is_finite() {
                return Err(NerError::Diverged { step, loss });
            }
            optimizer.zero_grad();
            batch_loss.backward();
            optimizer.clip_grad_norm(settings.max_grad_norm);
            optimizer.step();
            progress(&Progress {
                step,
                total_steps,
                epoch,
                loss,
                learning_rate,
                elapsed: started.elapsed(),
            });
        }
    }
    let mut stores: Vec<String> = examples.iter().map(|e| e.store.clone()).collect();
    stores.sort();
    stores.dedup();
    model.meta.stores = stores;
    model.meta.examples = data.len();
    model.meta.steps = step;
    model.meta.epochs = epoch;
    model.meta.batch_size = settings.batch_size;
    model.meta.learning_rate = settings.learning_rate;
    model.meta.final_loss = loss;
    model.meta.train_seconds = started.elapsed().as_secs_f64();
    model.meta.trained_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    Ok(model)
}

fn check(s: &TrainSettings) -> Result<(), NerError> {
    let problem = if s.batch_size == 0 {
        "batch_size must be at least 1"
    } else if s.max_len < 3 {
        "max_len must leave room for [CLS], a word and [SEP]"
    } else if !(s.learning_rate.is_finite() && s.learning_rate > 0.0) {
        "learning_rate must be a positive number"
    } else if !(0.0..1.0).contains(&s.warmup_fraction) {
        "warmup_fraction must be in [0, 1)"
    } else if !(s.max_grad_norm.is_finite() && s.max_grad_norm > 0.0) {
        "max_grad_norm must be a positive number"
    } else if !(s.weight_decay.is_finite() && s.weight_decay >= 0.0) {
        "weight_decay must be a number >= 0"
    } else {
        return Ok(());
    };
    Err(NerError::InvalidSettings(problem.into()))
}

/// Linear warm-up to the peak over the first `warmup` steps, then linear decay towards 0 at the
/// last step: BERT's fine-tuning schedule, which keeps early steps from wrecking the pre-trained
/// weights while the classifier is still random.
struct Schedule {
    peak: f64,
    warmup: usize,
    total: usize,
}

impl Schedule {
    fn new(peak: f64, warmup_fraction: f64, total: usize) -> Schedule {
        let warmup = ((total as f64 * warmup_fraction).round() as usize).min(total - 1);
        Schedule {
            peak,
            warmup,
            total,
        }
    }

    /// The rate for step `step` (from 0).
    fn at(&self, step: usize) -> f64 {
        if step < self.warmup {
            self.peak * (step + 1) as f64 / self.warmup as f64
        } else {
            self.peak * (self.total - step) as f64 / (self.total - self.warmup) as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Schedule;

    #[test]
    fn schedule_warms_up_then_decays() {
        let s = Schedule::new(1.0, 0.1, 100);
        assert_eq!(s.warmup, 10);
        assert!((s.at(0) - 0.1).abs() < 1e-12);
        assert!((s.at(9) - 1.0).abs() < 1e-12);
        assert!((s.at(10) - 1.0).abs() < 1e-12);
        assert!((s.at(99) - 1.0 / 90.0).abs() < 1e-12);
        let rates: Vec<f64> = (10..100).map(|i| s.at(i)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]));
        let none = Schedule::new(1.0, 0.0, 1);
        assert!((none.at(0) - 1.0).abs() < 1e-12);
    }
}
