//! Helpers of the viewer tests: the `spyglass` binary, a running `spyglass view`, a
//! plain HTTP/1.1 client (std only) and a WebDriver session on chromedriver.
#![allow(dead_code)]

use serde_json::{json, Value as J};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `spyglass` binary of this build (target/<profile>/spyglass), built with cargo
/// when missing (`cargo test -p spyglass-view` alone does not build it).
pub fn spyglass_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join("spyglass");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "spyglass-cli", "--bin", "spyglass"]);
        if release {
            cmd.arg("--release");
        }
        let st = cmd
            .current_dir(spyglass_testkit::workspace_root())
            .status()
            .expect("run cargo build");
        assert!(st.success(), "cargo build -p spyglass-cli failed");
    }
    assert!(bin.exists(), "{} was not built", bin.display());
    bin
}

/// Runs the CLI on `dir`'s demo database; its stdout, failing the test on error.
pub fn spyglass(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(spyglass_bin())
        .arg("--db")
        .arg(format!(
            "sqlite:///{}",
            dir.join("demo/spyglass.db").display()
        ))
        .args(args)
        .env("SPYGLASS_BASE_DIR", dir.join("demo/base"))
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .output()
        .expect("run spyglass");
    assert!(
        out.status.success(),
        "spyglass {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running `spyglass view`, stopped when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The access token it printed.
    pub token: String,
    /// `host:port`.
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `spyglass view --port 0` on the demo database of `dir` and reads its URL.
pub fn start_server(dir: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(spyglass_bin())
        .arg("--db")
        .arg(format!(
            "sqlite:///{}",
            dir.join("demo/spyglass.db").display()
        ))
        .args(["view", "--port", "0"])
        .args(extra)
        .env("SPYGLASS_BASE_DIR", dir.join("demo/base"))
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start spyglass view");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines
        .next()
        .expect("spyglass view printed nothing")
        .expect("read stdout");
    // keep draining what it prints later
    std::thread::spawn(move || for _ in lines {});
    let url = first
        .strip_prefix("spyglass view: ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    let (base, token) = url.split_once("/?token=").expect("URL with a token");
    Server {
        child,
        base: base.to_string(),
        token: token.to_string(),
        addr: base.trim_start_matches("http://").to_string(),
    }
}

/// A minimal HTTP/1.1 exchange: status, headers (lower-case names) and body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).expect("send request");
    // read the head, then as many bytes as it announces (chromedriver keeps the
    // connection open despite `Connection: close`)
    let mut raw = vec![];
    let mut buf = [0u8; 65536];
    let split = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut buf).expect("read response head");
        assert!(n > 0, "connection closed before the end of the head");
        raw.extend_from_slice(&buf[..n]);
    };
    let head_text = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let length = head_text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head_text.contains("transfer-encoding: chunked")
        || head_text.contains("transfer-encoding:chunked");
    loop {
        let have = raw.len() - split - 4;
        let done = match length {
            Some(n) => have >= n,
            None if chunked => raw.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = s.read(&mut buf).expect("read response body");
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = unchunk(&body);
    }
    (status, headers, body)
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&b[..eol])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
    out
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A WebDriver session on a chromedriver driving headless Chromium; both end on drop.
pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(
            &self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            &[],
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Debian's chromium and chromedriver (scripts/setup.sh installs them).
fn chromium_paths() -> (PathBuf, PathBuf) {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let driver = ["/usr/bin/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    match (chromium, driver) {
        (Some(c), Some(d)) => (c, d),
        _ => panic!(
            "the browser tests need Debian's chromium and chromium-driver: run scripts/setup.sh"
        ),
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium window of 1400×900.
    pub fn start() -> Browser {
        let (chromium, driver_bin) = chromium_paths();
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let addr = format!("127.0.0.1:{port}");
        let t0 = Instant::now();
        while TcpStream::connect(&addr).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,900",
                         "--no-first-run", "--disable-extensions"],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let mut b = Browser {
            driver,
            addr,
            session: String::new(),
        };
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<J>) -> J {
        let text = body.map(|b| b.to_string());
        let (status, _, out) = http(
            &self.addr,
            method,
            path,
            &[("Content-Type", "application/json")],
            text.as_deref(),
        );
        let v: J = serde_json::from_slice(&out).unwrap_or(J::Null);
        assert!(status == 200, "WebDriver {method} {path}: {status} {v}");
        v["value"].clone()
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body) with `args`; its return value.
    pub fn eval(&self, script: &str, args: J) -> J {
        self.call(
            "POST",
            &self.s("/execute/sync"),
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Waits up to `secs` for `script` to return a truthy value; returns it.
    pub fn wait_for(&self, script: &str, secs: u64) -> J {
        let t0 = Instant::now();
        loop {
            let v = self.eval(script, json!([]));
            if !(v.is_null() || v == J::Bool(false)) {
                return v;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(secs),
                "timed out waiting for: {script}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks the element of CSS selector `css`.
    pub fn click(&self, css: &str) {
        let e = self.call(
            "POST",
            &self.s("/element"),
            Some(json!({"using": "css selector", "value": css})),
        );
        let id = e
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(J::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string();
        self.call(
            "POST",
            &self.s(&format!("/element/{id}/click")),
            Some(json!({})),
        );
    }

    /// The page as PNG bytes.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let v = self.call("GET", &self.s("/screenshot"), None);
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 PNG"))
            .expect("valid base64")
    }

    /// Browser console entries since the last call (chromedriver's log), as
    /// `(level, message)`.
    pub fn console(&self) -> Vec<(String, String)> {
        let v = self.call("POST", &self.s("/se/log"), Some(json!({"type": "browser"})));
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["level"].as_str().unwrap_or("").to_string(),
                            e["message"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The artifacts folder of the screenshots: `$SPYGLASS_VIEW_SCREENSHOTS`, else
/// `<target>/view-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    if let Ok(d) = std::env::var("SPYGLASS_VIEW_SCREENSHOTS") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().expect("test executable path");
    exe.ancestors()
        .nth(3)
        .map(|t| t.join("view-screenshots"))
        .expect("target dir")
}
