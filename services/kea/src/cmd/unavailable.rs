//! Subcommands whose work lands in later releases. They exist so `kea --help` shows the whole
//! shape of the tool, and they say plainly that they cannot run yet instead of pretending to.

use std::process::ExitCode;

/// `kea worker`
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {}

/// Tells the user the command is not available yet and what it waits for; exits with status 2.
pub fn report(command: &str, needs: &str) -> ExitCode {
    eprintln!(
        "kea {command} is not available yet: it needs {needs}, which this version of kea does not have."
    );
    ExitCode::from(2)
}
