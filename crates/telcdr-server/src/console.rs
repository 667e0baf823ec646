//! The web console at `/console/`: static files embedded in the binary (so
//! it works offline, with no other server), which sign their API calls in
//! the browser with temporary credentials (see `temp_credentials` and the
//! `Telcdr*` actions).

use axum::body::Body;
use axum::extract::Path;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

/// (name, content type, bytes) of every file of the console.
const FILES: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../console/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/app.js"),
    ),
    (
        "tc3.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/tc3.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/api.js"),
    ),
    (
        "views.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/views.js"),
    ),
    (
        "charts.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/charts.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../console/style.css"),
    ),
];

fn file(name: &str) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, text)) => {
            let mut response = Response::new(Body::from(*text));
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            // Same-origin only; the console needs nothing from elsewhere.
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; media-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
                ),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            h.insert(
                "X-Content-Type-Options",
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        None => {
            let mut response = Response::new(Body::from("no such console file\n"));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    }
}

pub(crate) async fn index() -> Response {
    file("index.html")
}

pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    file(&name)
}

/// `/console` without its slash: relative asset paths need it.
pub(crate) async fn redirect() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/console/"));
    response
}
