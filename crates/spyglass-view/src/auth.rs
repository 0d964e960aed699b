//! The access token, as Jupyter has it: given once in the URL (`?token=`), then kept
//! in a cookie; `Authorization: token T` also works (scripts). Anything else is 401.

use crate::Shared;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The cookie holding the token.
pub const COOKIE: &str = "spyglass_view_token";

/// Passes requests that carry the token; sets the cookie when it came in the URL.
pub async fn require_token(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let from_query = req
        .uri()
        .query()
        .and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("token="))
                .map(str::to_string)
        })
        .filter(|t| same(t, &state.token))
        .is_some();
    let from_cookie = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .any(|t| same(t, &state.token));
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("token "))
        .is_some_and(|t| same(t.trim(), &state.token));
    if !(from_query || from_cookie || from_header) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "401: spyglass view needs its access token: open the URL it printed (…/?token=…)\n",
        )
            .into_response();
    }
    let mut resp = next.run(req).await;
    if from_query && !from_cookie {
        let cookie = format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            state.token
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// Compares in time independent of where the strings first differ.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
