//! What the service tests share: a store with Kangle published, served with the planner token,
//! and one request helper that checks every error is a problem body.
#![allow(dead_code)]

use api::serve::{AppState, Limits, Token, router};
use api::snapshot::Snapshot;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gis_core::partition::PartitionOptions;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

pub const TOKEN: &str = "planner-secret-0123456789";

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(name)
}

/// A store in a temp dir with Kangle published as version 1, served with the planner token.
pub async fn service(limits: Limits) -> (axum::Router, Arc<AppState>, store::Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = store::Store::open_sqlite(&dir.path().join("w.db")).await.unwrap();
    let options = PartitionOptions {
        micro: Some(PartitionOptions::default_micro()),
        ..PartitionOptions::default()
    };
    planner::load(&store, &fixture("kangle"), options, "initial")
        .await
        .unwrap();
    let published = store.published(None).await.unwrap().unwrap();
    let state = AppState::with_store(
        Snapshot::published(&published),
        store.clone(),
        Some(Token::new(TOKEN).unwrap()),
        limits,
    );
    (router(state.clone()), state, store, dir)
}

pub async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "planner.example");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), 256 << 20).await.unwrap();
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(ct, "application/problem+json", "{status} answers with a problem body");
    }
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, v)
}

/// Runs the `wangge` binary as a user would, with no `DATABASE_URL` from the environment.
pub fn wangge(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_wangge"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run wangge")
}

/// A path as the `&str` a command line takes.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A command's stdout and stderr, for assertion messages.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A child process (a `wangge serve`) killed and reaped when the test lets go of it.
pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The CI venv's Python (`out/ci-venv`, made by `.ci/run`; or `$WANGGE_PYTHON`) when it can import
/// `module`. Without it: a failure under CI=true, else `None` after saying loudly what is skipped.
pub fn python_with(module: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = std::env::var_os("WANGGE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("out/ci-venv/bin/python"));
    let has = python.exists()
        && std::process::Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
    if has {
        return Some(python);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "CI=true but {} has no {module}: .ci/run installs scripts/tests/requirements.txt",
        python.display()
    );
    eprintln!(
        "\n!!! SKIPPED: no {module} at {} (run .ci/run once) !!!\n",
        python.display()
    );
    None
}
