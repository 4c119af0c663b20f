//! `kea`: one binary for every way kea runs. See `kea --help` and `docs/ARCHITECTURE.md`.

mod cmd;
mod config;
mod phone;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: a data-API request makes a few hundred small
/// allocations across hyper, sqlx and serde, and glibc's malloc and free were a tenth of the
/// server's CPU time under load (docs/OPERATIONS.md, "Data API benchmark").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// kea takes phone orders for stores: Twilio webhooks in, a conversation in TwiML, orders out to
/// the store's POS.
#[derive(Debug, Parser)]
#[command(name = "kea", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    log: config::LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Everything on this machine with no set-up: a private PostgreSQL under ./.kea (unless
    /// DATABASE_URL is set), migrations, the sample stores, and the server. Ctrl-C stops it all.
    Dev(cmd::dev::DevArgs),
    /// The HTTP server: Twilio webhooks, data API, health.
    Serve(cmd::serve::ServeArgs),
    /// The background workers: the order pipeline (decide, POS push, texts to callers).
    Worker(cmd::worker::WorkerArgs),
    /// Apply the database migrations (idempotent).
    Migrate(cmd::migrate::MigrateArgs),
    /// Manage stores.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Manage call-center agents (who sign in to /console).
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Manage merchants' users.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// A phone call from the terminal through the real webhooks (to `kea dev` by default).
    Call(cmd::call::CallArgs),
    /// Play caller scenarios against a server (`kea dev` by default) and report pass/fail and latency.
    Simulate(cmd::simulate::SimulateArgs),
    /// Re-run a recorded call's caller turns through the current dialog engine and show differences.
    Replay(cmd::replay::ReplayArgs),
    /// Print a signed data-API token for a role (service, merchant, agent).
    Token(cmd::token::TokenArgs),
    /// The entity model that gives every order a second reading: train and evaluate it.
    #[command(subcommand)]
    Ner(NerCommand),
    /// What kea understands of an utterance.
    #[command(subcommand)]
    Nlu(NluCommand),
}

#[derive(Debug, Subcommand)]
enum NerCommand {
    /// Fine-tune the model on utterances generated from menus; saves it to <KEA_DATA_DIR>/ner.
    Train(cmd::ner::TrainArgs),
    /// Entity precision, recall and F1 per label on held-out menus, and latency.
    Eval(cmd::ner::EvalArgs),
}

#[derive(Debug, Subcommand)]
enum NluCommand {
    /// Print, as JSON, what the dialog's parser and the entity model each understood.
    Parse(cmd::ner::ParseArgs),
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Create or update stores from store JSON files (matched by `id`); nothing changes if any
    /// file is invalid.
    Import(cmd::store_import::ImportArgs),
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Create or update an agent (by e-mail); the password is read from standard input; prints
    /// the worker id.
    Add(cmd::people::AgentAddArgs),
}

#[derive(Debug, Subcommand)]
enum MerchantCommand {
    /// Create or update a merchant's user (by e-mail); the password is read from standard input;
    /// prints the user's id.
    Add(cmd::people::MerchantAddArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = cli.log.init() {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Dev(args) => cmd::dev::run(args).await,
            Command::Serve(args) => cmd::serve::run(args).await,
            Command::Migrate(args) => cmd::migrate::run(args).await,
            Command::Store(StoreCommand::Import(args)) => cmd::store_import::run(args).await,
            Command::Agent(AgentCommand::Add(args)) => cmd::people::agent_add(args).await,
            Command::Merchant(MerchantCommand::Add(args)) => cmd::people::merchant_add(args).await,
            Command::Worker(args) => cmd::worker::run(args).await,
            Command::Call(args) => cmd::call::run(args).await,
            Command::Simulate(args) => cmd::simulate::run(args).await,
            Command::Replay(args) => cmd::replay::run(args).await,
            Command::Token(args) => cmd::token::run(args),
            Command::Ner(NerCommand::Train(args)) => cmd::ner::train(args).await,
            Command::Ner(NerCommand::Eval(args)) => cmd::ner::eval(args).await,
            Command::Nlu(NluCommand::Parse(args)) => cmd::ner::parse(args).await,
        }
    });
    // Work left on blocking threads (`kea dev`'s background training) does not hold up the exit:
    // everything that must finish has finished in the command itself.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
