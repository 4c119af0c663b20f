//! `kea serve`: the HTTP server.

use std::process::ExitCode;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::config::{Credentials, DatabaseArgs, HttpArgs, SecretsArgs};

/// `kea serve`
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DatabaseArgs,
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    secrets: SecretsArgs,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let url = args.db.required_url()?;
    let secrets = args.secrets.build().await?;
    let credentials = Credentials::load(secrets.as_ref()).await?;
    log_credentials(&credentials);
    let pool = args.db.connect(url).await?;
    let pending = kea_store::pending_migrations(&pool)
        .await
        .context("reading the applied migrations")?;
    if !pending.is_empty() {
        tracing::warn!(
            ?pending,
            "database migrations are not applied: /readyz answers 503 until `kea migrate` runs"
        );
    }
    let config = args.http.api_config(&credentials)?;
    let listener = bind(args.http.listen).await?;
    serve(pool, listener, config, |app| app, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Says which credentials are configured (never their values).
pub fn log_credentials(credentials: &Credentials) {
    tracing::info!(
        twilio.account_sid = credentials.twilio_account_sid.as_deref().unwrap_or("unset"),
        twilio.auth_token = if credentials.twilio_auth_token.is_some() {
            "set"
        } else {
            "unset"
        },
        jwt_secret = if credentials.jwt_secret.is_some() {
            "set"
        } else {
            "unset"
        },
        "credentials loaded"
    );
}

/// Takes the listen address, saying plainly when another process has it.
pub async fn bind(listen: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(listen).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "{listen} is already in use (another kea dev or kea serve?): stop it, or choose another address with --listen or KEA_LISTEN"
            )
        } else {
            anyhow::Error::new(e).context(format!("listening on {listen}"))
        }
    })
}

/// Serves HTTP on `listener` until SIGINT or SIGTERM, then drains in-flight requests (each is
/// bounded by the request timeout) and returns. `extend` adds to the app (`kea dev`'s own pages
/// and stand-ins); handlers can read the peer's address (`ConnectInfo<SocketAddr>`).
pub async fn serve(
    pool: PgPool,
    listener: TcpListener,
    config: kea_api::ApiConfig,
    extend: impl FnOnce(axum::Router) -> axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let local = listener
        .local_addr()
        .context("reading the listen address")?;
    tracing::info!(listen = %local, public_url = %config.public_url, "kea serve is listening");
    let state = kea_api::AppState::new(pool, config);
    let app = extend(kea_api::router(state));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving HTTP")?;
    tracing::info!("kea serve stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what Kubernetes sends before it kills a pod).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
