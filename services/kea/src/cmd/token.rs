//! `kea token`: a signed data-API token for a role, with the secret `kea serve` checks tokens
//! with (`KEA_JWT_SECRET`, or the one `kea dev` generated in its data directory).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use kea_api::tokens::{Role, mint};

/// `kea token`
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// Who the token is for: `service` (everything), `merchant` (one merchant's stores and
    /// orders; needs --merchant) or `agent` (one agent's tasks; needs --worker).
    #[arg(long, value_parser = ["service", "merchant", "agent"])]
    role: String,
    /// The merchant's id (`GET /rest/v1/stores?select=id,merchant_id` lists them).
    #[arg(long)]
    merchant: Option<uuid::Uuid>,
    /// The agent's worker id (`kea agent add` prints it).
    #[arg(long)]
    worker: Option<uuid::Uuid>,
    /// How long the token is valid: `30m`, `1h`, `7d`, `3600s`.
    #[arg(long, default_value = "1h", value_parser = parse_ttl)]
    ttl: i64,
    /// The signing secret [default: the one `kea dev` generated in KEA_DATA_DIR].
    #[arg(long, env = "KEA_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// `kea dev`'s data directory, where its generated secret is kept.
    #[arg(long, env = "KEA_DATA_DIR", default_value = ".kea")]
    data_dir: PathBuf,
}

pub fn run(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let secret = match args.jwt_secret.filter(|s| !s.trim().is_empty()) {
        Some(s) => s,
        None => {
            let path = args.data_dir.join("jwt-secret");
            std::fs::read_to_string(&path)
                .map(|s| s.trim().to_owned())
                .with_context(|| {
                    format!(
                        "KEA_JWT_SECRET is not set and {} does not exist (is this where `kea dev` runs?)",
                        path.display()
                    )
                })?
        }
    };
    let role = match (args.role.as_str(), args.merchant, args.worker) {
        ("service", None, None) => Role::Service,
        ("merchant", Some(id), None) => Role::Merchant(id),
        ("agent", None, Some(id)) => Role::Agent(id),
        ("merchant", None, _) => bail!("a merchant token needs --merchant <merchant id>"),
        ("agent", _, None) => bail!("an agent token needs --worker <worker id>"),
        (role, ..) => bail!(
            "--merchant goes with --role merchant and --worker with --role agent, not with --role {role}"
        ),
    };
    let now = chrono::Utc::now().timestamp();
    println!("{}", mint(&secret, role, now, args.ttl)?);
    Ok(ExitCode::SUCCESS)
}

/// "30m", "1h", "7d", "3600s" or a number of seconds.
fn parse_ttl(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, "s"), |at| (&text[..at], &text[at..]));
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 30m, 1h or 7d"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("`{text}`: the unit must be s, m, h or d")),
    };
    if seconds <= 0 || seconds > 366 * 86_400 {
        return Err(format!("`{text}`: between 1 second and a year"));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::parse_ttl;

    #[test]
    fn durations() {
        assert_eq!(parse_ttl("1h"), Ok(3600));
        assert_eq!(parse_ttl("30m"), Ok(1800));
        assert_eq!(parse_ttl("7d"), Ok(604_800));
        assert_eq!(parse_ttl("90"), Ok(90));
        assert!(parse_ttl("0s").is_err());
        assert!(parse_ttl("1w").is_err());
        assert!(parse_ttl("soon").is_err());
    }
}
