//! A private PostgreSQL cluster for `kea dev` and the test suite, run from the machine's own
//! PostgreSQL binaries so a newcomer needs no database set-up.
//!
//! The cluster lives in one folder (`./.kea/pg` for `kea dev`), listens on 127.0.0.1 only, on a
//! port remembered in the folder so a second start reuses both. PostgreSQL refuses to run as root,
//! so when kea runs as root the cluster is owned by, and run as, an unprivileged user (`postgres`
//! when the Debian package created it, else `nobody`).

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nix::unistd::{Gid, Uid, User, chown, geteuid};

/// The one command that installs PostgreSQL's server binaries on the machines kea targets.
pub const INSTALL_HINT: &str = "sudo apt-get install -y postgresql";

/// What can go wrong starting the private cluster.
#[derive(Debug, thiserror::Error)]
pub enum DevClusterError {
    /// No `initdb`/`pg_ctl` anywhere we looked.
    #[error(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found on PATH or under \
         /usr/lib/postgresql/*/bin; install them with: {INSTALL_HINT}"
    )]
    BinariesNotFound,
    /// Running as root and no unprivileged user to run PostgreSQL as.
    #[error(
        "running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as"
    )]
    NoUnprivilegedUser,
    /// A file-system step failed.
    #[error("{what} `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A PostgreSQL program failed; its output says why.
    #[error("`{program}` failed ({status}): {output}")]
    Command {
        /// The program and its main argument.
        program: String,
        /// Its exit status.
        status: String,
        /// The last lines it printed.
        output: String,
    },
    /// No free port to listen on.
    #[error("no free TCP port on 127.0.0.1 between {first} and {last}")]
    NoFreePort {
        /// First port tried.
        first: u16,
        /// Last port tried.
        last: u16,
    },
}

fn io_err<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> DevClusterError + 'a {
    move |source| DevClusterError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

/// A PostgreSQL cluster in a folder of its own.
#[derive(Debug)]
pub struct DevCluster {
    root: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    run_as: Option<(Uid, Gid, String)>,
    started_here: bool,
}

impl DevCluster {
    /// Prepares (but does not start) the cluster kept under `root`: finds the binaries, picks the
    /// user to run as and the port (the remembered one, or a free one from `first_port` on).
    pub fn new(root: &Path, first_port: u16) -> Result<Self, DevClusterError> {
        let bin_dir = find_binaries().ok_or(DevClusterError::BinariesNotFound)?;
        fs::create_dir_all(root).map_err(io_err("creating the folder", root))?;
        let root = root.canonicalize().map_err(io_err("resolving", root))?;
        let run_as = if geteuid().is_root() {
            Some(unprivileged_user()?)
        } else {
            None
        };
        let port_file = root.join("port");
        let port = match fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
        {
            Some(port) => port,
            None => {
                let port = free_port(first_port)?;
                fs::write(&port_file, format!("{port}\n"))
                    .map_err(io_err("writing", &port_file))?;
                port
            }
        };
        Ok(Self {
            root,
            bin_dir,
            port,
            run_as,
            started_here: false,
        })
    }

    /// The port the cluster listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The folder holding the cluster's data files.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("pg")
    }

    /// The server's log file.
    pub fn log_file(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    /// A connection string for `database` as the superuser `postgres`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates the cluster unless the folder already holds one. Returns true when it created it.
    pub fn init_if_needed(&self) -> Result<bool, DevClusterError> {
        let data = self.data_dir();
        if data.join("PG_VERSION").exists() {
            return Ok(false);
        }
        fs::create_dir_all(&data).map_err(io_err("creating the data folder", &data))?;
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700))
            .map_err(io_err("setting permissions on", &data))?;
        self.hand_over(&self.root)?;
        self.hand_over(&data)?;
        self.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-locale".as_ref(),
            ],
        )?;
        // Loopback only, no Unix socket (its path could exceed the 107-byte limit in deep folders).
        let conf = data.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).map_err(io_err("reading", &conf))?;
        text.push_str(
            "\n# kea dev\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n",
        );
        fs::write(&conf, text).map_err(io_err("writing", &conf))?;
        Ok(true)
    }

    /// True when a server is running on this cluster's data folder.
    pub fn is_running(&self) -> bool {
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &["status".as_ref(), "-D".as_ref(), data.as_os_str()],
        )
        .is_ok()
    }

    /// Starts the server unless it is already running (then it is left to whoever started it).
    pub fn start(&mut self) -> Result<(), DevClusterError> {
        if self.is_running() {
            return Ok(());
        }
        let data = self.data_dir();
        let log = self.log_file();
        if !log.exists() {
            fs::write(&log, "").map_err(io_err("creating", &log))?;
        }
        self.hand_over(&log)?;
        let port_option = format!("-p {}", self.port);
        self.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                port_option.as_ref(),
            ],
        )
        .map_err(|e| match e {
            DevClusterError::Command {
                program,
                status,
                output,
            } => DevClusterError::Command {
                program,
                status,
                output: format!(
                    "{output}\n{}",
                    tail(&fs::read_to_string(&log).unwrap_or_default(), 8)
                ),
            },
            other => other,
        })?;
        self.started_here = true;
        Ok(())
    }

    /// Stops the server if this process started it (a fast shutdown: sessions end, data is safe).
    pub fn stop(&mut self) -> Result<(), DevClusterError> {
        if !self.started_here {
            return Ok(());
        }
        let data = self.data_dir();
        self.run(
            "pg_ctl",
            &[
                "stop".as_ref(),
                "-w".as_ref(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
            ],
        )?;
        self.started_here = false;
        Ok(())
    }

    /// Makes `path` belong to the user PostgreSQL runs as, when that is not us.
    fn hand_over(&self, path: &Path) -> Result<(), DevClusterError> {
        if let Some((uid, gid, _)) = &self.run_as {
            chown(path, Some(*uid), Some(*gid)).map_err(|e| DevClusterError::Io {
                what: "changing the owner of",
                path: path.to_owned(),
                source: e.into(),
            })?;
        }
        Ok(())
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<Output, DevClusterError> {
        let exe = self.bin_dir.join(program);
        let mut cmd = Command::new(&exe);
        cmd.args(args).env("LC_ALL", "C");
        if let Some((uid, gid, _)) = &self.run_as {
            cmd.uid(uid.as_raw())
                .gid(gid.as_raw())
                .current_dir(&self.root);
        }
        let out = cmd.output().map_err(io_err("running", &exe))?;
        if out.status.success() {
            return Ok(out);
        }
        let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        let hint = match &self.run_as {
            Some((_, _, user)) if text.contains("ermission denied") => format!(
                "\n(PostgreSQL runs as user `{user}` because kea runs as root: every folder above {} must be readable by it)",
                self.root.display()
            ),
            _ => String::new(),
        };
        Err(DevClusterError::Command {
            program: format!(
                "{program} {}",
                args.first()
                    .map(|a| a.to_string_lossy())
                    .unwrap_or_default()
            ),
            status: out.status.to_string(),
            output: format!("{}{hint}", tail(&text, 8)),
        })
    }
}

impl Drop for DevCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "stopping the private PostgreSQL cluster");
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `initdb` and `pg_ctl` from PATH, else the newest `/usr/lib/postgresql/<version>/bin`.
pub fn find_binaries() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path).find(|d| has_both(d))
    {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_both(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn unprivileged_user() -> Result<(Uid, Gid, String), DevClusterError> {
    for name in ["postgres", "nobody"] {
        if let Ok(Some(user)) = User::from_name(name) {
            return Ok((user.uid, user.gid, name.to_owned()));
        }
    }
    Err(DevClusterError::NoUnprivilegedUser)
}

/// The first port from `first` on that nothing listens on.
fn free_port(first: u16) -> Result<u16, DevClusterError> {
    let last = first.saturating_add(200);
    (first..=last)
        .find(|&port| TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).is_ok())
        .ok_or(DevClusterError::NoFreePort { first, last })
}
