//! Test support shared by the spyglass-rs crates.
//!
//! Owns the things every interop test needs and none should rewrite: locating the
//! Python oracle environment (`.venv`, built by `scripts/setup.sh`) and running a
//! Python snippet in it with a clear failure when the oracle is missing.

pub mod bench;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .expect("crate lives in crates/<name>")
        .to_path_buf()
}

/// Path of the oracle interpreter: `$SPYGLASS_PYTHON`, else `<root>/.venv/bin/python`.
///
/// Panics with instructions when it is missing: the interop tests are part of the
/// suite and must not pass silently without their oracle.
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("SPYGLASS_PYTHON") {
        return PathBuf::from(p);
    }
    let p = workspace_root().join(".venv/bin/python");
    assert!(
        p.exists(),
        "the Python oracle environment is missing ({}); run scripts/setup.sh first",
        p.display()
    );
    p
}

/// Path of the Spyglass interpreter (Python Spyglass with position_tools and
/// friends): `$SPYGLASS_SPYGLASS_PYTHON`, else `<root>/.venv-spyglass/bin/python`.
///
/// Panics with instructions when it is missing, as [`python`] does.
pub fn spyglass_python() -> PathBuf {
    if let Ok(p) = std::env::var("SPYGLASS_SPYGLASS_PYTHON") {
        return PathBuf::from(p);
    }
    let p = workspace_root().join(".venv-spyglass/bin/python");
    assert!(
        p.exists(),
        "the Spyglass oracle environment is missing ({}); run scripts/setup.sh first",
        p.display()
    );
    p
}

/// Path of the element-array-ephys interpreter (DataJoint's ephys elements):
/// `$SPYGLASS_ELEMENTS_PYTHON`, else `<root>/.venv-elements/bin/python`.
///
/// Panics with instructions when it is missing, as [`python`] does.
pub fn elements_python() -> PathBuf {
    if let Ok(p) = std::env::var("SPYGLASS_ELEMENTS_PYTHON") {
        return PathBuf::from(p);
    }
    let p = workspace_root().join(".venv-elements/bin/python");
    assert!(
        p.exists(),
        "the element-array-ephys oracle environment is missing ({}); run scripts/setup.sh first",
        p.display()
    );
    p
}

/// Runs `code` with the element-array-ephys interpreter ([`elements_python`]).
///
/// Panics with the script's stderr when it exits non-zero.
pub fn run_elements_python(code: &str, args: &[&str]) -> String {
    run_with(&elements_python(), code, args)
}

/// Runs `code` with the oracle interpreter, passing `args`; returns its stdout.
///
/// Panics with the script's stderr when it exits non-zero.
pub fn run_python(code: &str, args: &[&str]) -> String {
    run_with(&python(), code, args)
}

/// Runs `code` with the Spyglass interpreter ([`spyglass_python`]); returns its stdout.
///
/// Panics with the script's stderr when it exits non-zero.
pub fn run_spyglass_python(code: &str, args: &[&str]) -> String {
    run_with(&spyglass_python(), code, args)
}

fn run_with(interpreter: &Path, code: &str, args: &[&str]) -> String {
    let out = Command::new(interpreter)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("failed to start the Python oracle");
    assert!(
        out.status.success(),
        "python oracle failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("oracle printed non-UTF-8")
}

/// Disables HDF5 file locking for this process (`HDF5_USE_FILE_LOCKING=FALSE`), once.
/// Tests run in parallel threads and spawn Python oracles; libhdf5 opens files without
/// close-on-exec, so a child could inherit another test's lock. Call it first in every
/// test that touches HDF5: it blocks until the variable is set, before any file opens.
pub fn disable_hdf5_file_locking() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // edition 2021: `set_var` is safe; it runs once, before any test has opened a file
    ONCE.call_once(|| std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE"));
}

/// The name libtest gives the test function `name` of the module whose
/// `module_path!()` is `module_path`: that path without the test crate's name, as
/// `--exact` wants it when a test re-runs one test of its own binary in a child process.
pub fn libtest_name(module_path: &str, name: &str) -> String {
    match module_path.split_once("::") {
        Some((_, module)) => format!("{module}::{name}"),
        None => name.to_string(),
    }
}

/// A fresh scratch directory, removed when dropped.
pub fn scratch_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("spyglass-test-")
        .tempdir()
        .expect("create scratch dir")
}

/// URL of a MySQL/MariaDB server for tests: `$SPYGLASS_TEST_MYSQL_URL` when set,
/// otherwise a private MariaDB started once per test process on a free port (it
/// stops when the process exits).
pub fn mysql_url() -> String {
    if let Ok(u) = std::env::var("SPYGLASS_TEST_MYSQL_URL") {
        if !u.is_empty() {
            return u;
        }
    }
    static SERVER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SERVER.get_or_init(start_private_mariadb).clone()
}

/// True when the engine tests should run on MySQL/MariaDB (`SPYGLASS_TEST_BACKEND=mysql`).
pub fn mysql_selected() -> bool {
    std::env::var("SPYGLASS_TEST_BACKEND")
        .map(|b| b.eq_ignore_ascii_case("mysql"))
        .unwrap_or(false)
}

/// A prefix unique to this process and call, to keep test schemas apart on a shared server.
pub fn unique_prefix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "t{}_{}_",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

/// URL of a new, empty private MariaDB server (for tests that load a dump into an
/// empty server); it stops when the process exits.
pub fn fresh_mariadb() -> String {
    start_private_mariadb()
}

/// Removes the data folders of private servers whose test process has exited.
fn remove_stale_servers() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix("spyglass-mariadb-") else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or_default();
        if !pid.is_empty() && !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn start_private_mariadb() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    remove_stale_servers();
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, Ordering::SeqCst);
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    // the server is spawned with PR_SET_PDEATHSIG from a thread that lives as long as
    // the server (it waits for it), so that it is stopped when this process exits
    std::thread::spawn(move || {
        let dir = std::env::temp_dir().join(format!("spyglass-mariadb-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create MariaDB scratch dir");
        let data = dir.join("data");
        // a private tmpdir: servers sharing /tmp must not see each other's temporary tables
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp).expect("create MariaDB tmpdir");
        let status = Command::new("mariadb-install-db")
            .args([
                "--no-defaults",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .arg(format!("--datadir={}", data.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("mariadb-install-db is missing: run scripts/setup.sh");
        assert!(status.success(), "mariadb-install-db failed");
        let port = free_port();
        let mut cmd = Command::new("mariadbd");
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.join("mysql.sock").display()))
            .arg(format!("--port={port}"))
            .arg(format!("--pid-file={}", dir.join("mariadbd.pid").display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .arg(format!("--log-error={}", dir.join("err.log").display()))
            .args([
                "--bind-address=127.0.0.1",
                "--user=root",
                "--skip-name-resolve",
                "--innodb-log-file-size=16M",
                "--innodb-flush-log-at-trx-commit=2",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: prctl only sets a flag on the child before exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .expect("mariadbd is missing: run scripts/setup.sh");
        let url = format!("mysql://root@127.0.0.1:{port}");
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        tx.send(url).expect("report the server");
        // this thread lives as long as the server (its death signals the server to
        // stop, PR_SET_PDEATHSIG), and reaps it should it exit first
        let _ = child.wait();
    });
    rx.recv().expect("private MariaDB did not start")
}
