//! The client against a Prism mock generated from Twilio's OpenAPI description
//! (`../shared/specs/twilio_api_v2010.json`). Prism validates every request against the spec
//! (path, basic auth, form fields) and answers 422 when a request breaks it, so this proves that
//! what `Client` sends is what Twilio accepts.
//!
//! Prism comes from `$KEA_PRISM` (set by `./scripts/test`), else `node_modules/.bin/prism` in this
//! crate's folder when installed there
//! (`npm install --no-save @stoplight/prism-cli`), otherwise from `npx --yes
//! @stoplight/prism-cli`. The test is skipped, saying why, when `../shared` or `npx` is missing.

#![expect(clippy::unwrap_used, reason = "tests")]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kea_twilio::{Client, MessageStatus, OutboundMessage, TwilioError};

const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";

/// Prism, killed with its whole process group (npx starts node as a child) when dropped.
struct Prism {
    child: Child,
    log: PathBuf,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Starts Prism on a free loopback port, or says why the test cannot run.
fn start_prism() -> Result<(Prism, SocketAddr), String> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = crate_dir.join("../../../shared");
    if !shared.is_dir() {
        return Err(format!("{} is absent", shared.display()));
    }
    let spec = shared.join("specs/twilio_api_v2010.json");
    // `./scripts/test` installs Prism once for every crate's tests and names it in KEA_PRISM.
    let installed = std::env::var_os("KEA_PRISM").map(std::path::PathBuf::from);
    let local = crate_dir.join("node_modules/.bin/prism");
    let mut cmd = if let Some(prism) = installed.filter(|p| p.is_file()) {
        Command::new(prism)
    } else if local.is_file() {
        Command::new(local)
    } else if on_path("npx") {
        let mut c = Command::new("npx");
        c.args(["--yes", "@stoplight/prism-cli"]);
        c
    } else {
        return Err("neither node_modules/.bin/prism nor npx is available".to_owned());
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let log = std::env::temp_dir().join(format!("kea-twilio-prism-{port}.log"));
    let log_file = std::fs::File::create(&log).map_err(|e| format!("log file: {e}"))?;
    let err_file = log_file.try_clone().map_err(|e| format!("log file: {e}"))?;
    use std::os::unix::process::CommandExt as _;
    let child = cmd
        .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
        .arg(&spec)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start Prism: {e}"))?;
    let mut prism = Prism { child, log };

    // The spec takes about 10 s to load (longer when npx must download Prism first).
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = prism.child.try_wait() {
            let output = std::fs::read_to_string(&prism.log).unwrap_or_default();
            panic!("Prism exited with {status} before listening:\n{output}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "Prism did not listen on {addr} within 180 s:\n{}",
            std::fs::read_to_string(&prism.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("Prism ready on {addr} after {:?}", started.elapsed());
    Ok((prism, addr))
}

fn client(addr: SocketAddr, account_sid: &str) -> Client {
    Client::new(account_sid, "prism-does-not-check-the-token")
        .with_base_url(format!("http://{addr}"))
        .with_timeout(Duration::from_secs(20))
        .with_retries(1, Duration::from_millis(100))
}

#[tokio::test]
async fn messages_against_twilio_openapi_mock() {
    let (prism, addr) = match start_prism() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("skipping the Prism test: {why}");
            return;
        }
    };

    // A receipt as kea sends it: accepted (201) and decoded.
    let receipt = OutboundMessage::new(
        "+15557654321",
        "+15551234567",
        "Tony's Pizza: 1 large pepperoni, 2 Diet Coke. Total $26.27. Pickup at 6:40 pm.",
    )
    .with_status_callback("https://kea.example.com/twilio/sms/status");
    let msg = client(addr, ACCOUNT_SID)
        .send_message(receipt)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Prism rejected a valid request: {e}\n{}",
                std::fs::read_to_string(&prism.log).unwrap_or_default()
            )
        });
    assert!(msg.sid.starts_with("SM"), "{msg:?}");
    assert_eq!(msg.status, Some(MessageStatus::Queued));
    assert_eq!(msg.num_segments, Some(1));

    // No `To` (an empty one is left out of the form): the spec requires it.
    let err = client(addr, ACCOUNT_SID)
        .send_message(OutboundMessage::new("+15557654321", "", "hello"))
        .await
        .unwrap_err();
    match &err {
        TwilioError::Api {
            status, message, ..
        } => {
            assert!((400..500).contains(status), "{err}");
            assert!(message.contains("'To'"), "{err}");
            eprintln!("missing To → {err}");
        }
        other => panic!("expected a typed 4xx error, got {other:?}"),
    }
    assert!(!err.is_transient());

    // An account SID that breaks the path's pattern.
    let err = client(addr, "not-an-account-sid")
        .send_message(OutboundMessage::new("+15557654321", "+15551234567", "hi"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TwilioError::Api { status, .. } if (400..500).contains(status)),
        "{err:?}"
    );
    drop(prism);
}
