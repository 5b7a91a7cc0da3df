//! The planners' bearer token. Read endpoints are public; every planner endpoint takes a
//! [`Planner`] argument, which only a request carrying the token yields. The token is compared in
//! constant time and never printed (its `Debug` is redacted).

use super::{AppState, Problem};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The secret planners send as `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the planner token must be 16 to 512 printable ASCII characters without spaces (found {0} characters)")]
    Shape(usize),
}

impl Token {
    /// A token from configuration (`WANGGE_TOKEN` or a token file); surrounding whitespace,
    /// such as a file's final newline, is not part of it.
    pub fn new(text: &str) -> Result<Self, TokenError> {
        let t = text.trim();
        if t.len() < 16 || t.len() > 512 || !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenError::Shape(t.chars().count()));
        }
        Ok(Self(t.to_string()))
    }

    /// A new random token: 32 bytes from the operating system, as hex.
    pub fn generate() -> std::io::Result<Self> {
        use std::io::Read as _;
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The token's text, to write to a token file.
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn matches(&self, offered: &str) -> bool {
        // ct_eq on slices of different lengths returns false without comparing; the length of
        // the token is not the secret.
        bool::from(self.0.as_bytes().ct_eq(offered.as_bytes()))
    }
}

/// Proof that the request carries the planner token.
#[derive(Debug, Clone, Copy)]
pub struct Planner;

impl FromRequestParts<Arc<AppState>> for Planner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let Some(token) = &state.token else {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "planner endpoints are off: start the service with WANGGE_TOKEN or --token-file",
            )
            .into_response());
        };
        let offered = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            });
        match offered {
            Some(t) if token.matches(t) => Ok(Planner),
            Some(_) => Err(unauthorized("the bearer token is not the planner token")),
            None => Err(unauthorized("planner endpoints need Authorization: Bearer <token>")),
        }
    }
}

fn unauthorized(detail: &str) -> Response {
    let mut r = Problem::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"wangge planner\""),
    );
    r
}

/// Adds the bearer scheme to the OpenAPI document (the planner endpoints refer to it).
pub(crate) struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
