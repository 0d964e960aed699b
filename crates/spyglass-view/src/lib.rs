//! `spyglass view`: an HTTP server in the `spyglass` binary serving a single-page app
//! (assets embedded from `assets/`) and a JSON API over the database, the sessions and
//! their NWB traces. Binds 127.0.0.1 by default; every request needs the access token
//! printed with the URL (query `?token=` once, then a cookie); read-only unless started
//! with `--allow-curation` (curations of a sorting, module `sorting`); position
//! entries with their linearizations (module `position`). Chosen views
//! can also be exported as a static folder (module `export`).

mod api;
mod auth;
mod export;
mod position;
mod sorting;
mod traces;

use anyhow::{Context, Result};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use spyglass_db::Db;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// Sessions whose traces are looked up when the server starts.
const WARM_SESSIONS: usize = 16;

/// How `spyglass view` serves.
#[derive(Debug, Clone)]
pub struct ViewOptions {
    /// Address to bind (127.0.0.1 unless sharing on a network).
    pub bind: IpAddr,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Open the URL in the default browser.
    pub open: bool,
    /// The access token; `None` draws a random one.
    pub token: Option<String>,
    /// Accept curations from the browser (new CurationV1 rows); read-only otherwise.
    pub allow_curation: bool,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8765,
            open: false,
            token: None,
            allow_curation: false,
        }
    }
}

/// What every request handler shares.
pub(crate) struct State {
    pub db: Db,
    pub token: String,
    pub traces: traces::Cache,
    pub allow_curation: bool,
    /// Amplitudes per curation (`sorting_id/curation_id`), computed once per server.
    pub amplitudes: sorting::AmplitudeCache,
}

pub(crate) type Shared = Arc<State>;

/// A JSON API error: a status and a message.
pub(crate) struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl ApiError {
    /// A 400 with the error's message and causes.
    pub fn bad(e: impl std::fmt::Display) -> ApiError {
        ApiError(StatusCode::BAD_REQUEST, e.to_string())
    }
}

/// Serves the viewer on `db` until the process is stopped; prints the URL (with the
/// token) on stdout first.
pub fn serve(db: Db, opts: ViewOptions) -> Result<()> {
    let token = opts.token.clone().unwrap_or_else(random_token);
    let state = Arc::new(State {
        db,
        token: token.clone(),
        traces: traces::Cache::default(),
        allow_curation: opts.allow_curation,
        amplitudes: Default::default(),
    });
    // the traces of the first sessions are found and opened while the user opens
    // the URL (a first traces view then waits for no database scan)
    let warm = state.clone();
    let _ = std::thread::Builder::new()
        .name("spyglass-view-warm".into())
        .spawn(move || warm.traces.warm(&warm.db, WARM_SESSIONS));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()
        .context("starting the HTTP runtime")?;
    rt.block_on(async move {
        let addr = SocketAddr::new(opts.bind, opts.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        let local = listener.local_addr()?;
        let host = match local.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_string(),
            IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let url = format!("http://{host}:{}/?token={token}", local.port());
        println!("spyglass view: {url}");
        if opts.allow_curation {
            println!(
                "(curation allowed: new CurationV1 rows by the database user; stop with Ctrl-C)"
            );
        } else {
            println!("(read-only; stop with Ctrl-C)");
        }
        use std::io::Write;
        std::io::stdout().flush().ok();
        if opts.open {
            open_browser(&url);
        }
        axum::serve(listener, router(state))
            .await
            .context("serving HTTP")
    })
}

/// Writes a self-contained folder of `views` (routes such as `session/NAME.nwb` or
/// `traces/NAME.nwb?src=ID&t0=0&t1=10`) to `dir`, openable without a server.
pub fn export(db: Db, dir: &std::path::Path, views: &[String]) -> Result<()> {
    let state = Arc::new(State {
        db,
        token: random_token(),
        traces: traces::Cache::default(),
        allow_curation: false,
        amplitudes: Default::default(),
    });
    export::export(state, dir, views)
}

/// The routes: the app, its assets and the API, all behind the token check.
fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(asset))
        .route("/api/info", get(api::info))
        .route("/api/schemas", get(api::schemas))
        .route("/api/table", get(api::table_rows))
        .route("/api/diagram", get(api::diagram))
        .route("/api/lineage", get(api::lineage))
        .route("/api/sessions", get(api::sessions))
        .route("/api/session", get(api::session))
        .route("/api/traces/sources", get(traces::sources))
        .route("/api/traces/data", get(traces::data))
        .route("/api/traces/overlays", get(traces::overlays))
        .route("/api/traces/overview", get(traces::overview))
        .route("/api/sorting", get(sorting::sorting))
        .route("/api/positions", get(position::entries))
        .route("/api/position", get(position::data))
        .route("/api/curation", post(sorting::curation))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .with_state(state)
}

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        INDEX_HTML,
    )
        .into_response()
}

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, ty) = match name.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    ([(header::CONTENT_TYPE, ty)], body).into_response()
}

/// 256 random bits as hex (two v4 UUIDs, from the OS's random source).
fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Opens `url` with the desktop's opener; a failure only prints a note.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("could not open a browser ({opener}: {e}); open the URL above");
    }
}

/// Runs blocking database or file work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&State) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let s = state.clone();
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}
