#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Prism, ended with its whole process group (npx starts node as a child) when dropped.
pub struct Prism {
    child: Child,
    log: PathBuf,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Prism {
    /// What Prism printed so far (its validation messages, for a failing test's report).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
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

/// `../shared/specs/<file>` beside the workspace, or why it is not there.
pub fn shared_spec(file: &str) -> Result<PathBuf, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/specs")
        .join(file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} is absent", path.display()))
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The Prism command to run: `$KEA_PRISM`, the crate's own install, or npx.
fn prism_command(crate_dir: &Path) -> Result<Command, String> {
    if let Some(prism) = std::env::var_os("KEA_PRISM")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
    {
        return Ok(Command::new(prism));
    }
    let local = crate_dir.join("node_modules/.bin/prism");
    if local.is_file() {
        return Ok(Command::new(local));
    }
    if on_path("npx") {
        let mut npx = Command::new("npx");
        npx.args(["--yes", "@stoplight/prism-cli"]);
        return Ok(npx);
    }
    Err("neither $KEA_PRISM, node_modules/.bin/prism nor npx is available".to_owned())
}

/// Starts Prism mocking `spec` and waits (up to `max_wait`) until it listens. `Err` is a reason to
/// skip (no Prism to run); a Prism that starts and then fails panics with its log.
pub fn start(crate_dir: &Path, spec: &Path, max_wait: Duration) -> Result<Prism, String> {
    let mut cmd = prism_command(crate_dir)?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let log = std::env::temp_dir().join(format!("kea-prism-{port}.log"));
    let log_file = std::fs::File::create(&log).map_err(|e| format!("log file: {e}"))?;
    let err_file = log_file.try_clone().map_err(|e| format!("log file: {e}"))?;
    let child = cmd
        .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
        .arg(spec)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start Prism: {e}"))?;
    let mut prism = Prism { child, log, addr };
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = prism.child.try_wait() {
            panic!(
                "Prism exited with {status} before listening:\n{}",
                prism.log()
            );
        }
        assert!(
            started.elapsed() < max_wait,
            "Prism did not listen on {addr} within {max_wait:?}:\n{}",
            prism.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("Prism ready on {addr} after {:?}", started.elapsed());
    Ok(prism)
}
