//! Errors as RFC 9457 problem details (`application/problem+json`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub title: &'static str,
    /// What kind of problem this is, for machines: stable snake_case (`dataset_rejected`,
    /// `not_utf8`, …). Clients key their own wording on it (the web map's Chinese messages);
    /// `detail` is English for a person reading the raw answer.
    pub code: std::borrow::Cow<'static, str>,
    pub detail: String,
    /// Extension members (RFC 9457 §3.2), e.g. `problems`: each rejected file, feature and field.
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Problem {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title,
            code: code_of(title).into(),
            detail: detail.into(),
            extra: None,
        }
    }

    /// A more specific code than the title's (see [`Problem::code`]).
    pub fn code(mut self, code: &'static str) -> Self {
        self.code = code.into();
        self
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.into(), value);
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Bad request", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", detail)
    }
}

/// A title's code: "Dataset rejected" → `dataset_rejected`.
fn code_of(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

impl Problem {
    /// A JSON body that could not be read: 413, 415, 422 or 400, as axum found it.
    pub fn from_json_rejection(e: axum::extract::rejection::JsonRejection) -> Self {
        let status = e.status();
        let title = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "Payload too large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "Unsupported media type",
            StatusCode::UNPROCESSABLE_ENTITY => "Unprocessable",
            _ => "Bad request",
        };
        Self::new(
            if status.is_client_error() {
                status
            } else {
                StatusCode::BAD_REQUEST
            },
            title,
            e.body_text(),
        )
    }
}

/// Middleware: an error answer that is not a problem body yet (an extractor's plain-text
/// rejection, an empty 405) becomes one, its text kept as the detail. Only error answers are
/// read, and they are small.
pub(crate) async fn ensure_problem(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return res;
    }
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let title = status.canonical_reason().unwrap_or("Error");
    let detail = if text.trim().is_empty() {
        title.to_string()
    } else {
        text
    };
    let mut out = Problem::new(status, title, detail).into_response();
    // Keep what the answer said besides its body (Allow on a 405, WWW-Authenticate, …).
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "code": self.code,
            "detail": self.detail,
        });
        if let (Some(extra), Some(map)) = (self.extra, body.as_object_mut()) {
            map.extend(extra);
        }
        let mut res = (self.status, body.to_string()).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}

/// The body of an error answer (RFC 9457), as documented in the OpenAPI document.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProblemBody {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What kind of problem, for machines to key on (stable snake_case): the title's words
    /// (`bad_request`, `not_found`, `unauthorized`, `dataset_rejected`, `draft_does_not_validate`,
    /// `grids_without_staff`, …) or a more specific code: `not_utf8` (members `file`, `byte`),
    /// `not_a_dataset_file` (`file`), `file_given_twice` (`file`). The web map words its
    /// messages by this code, in the page's language.
    pub code: String,
    /// What was wrong, for a person to read (English).
    pub detail: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_the_titles_words() {
        assert_eq!(super::code_of("Dataset rejected"), "dataset_rejected");
        assert_eq!(super::code_of("Method Not Allowed"), "method_not_allowed");
        assert_eq!(super::code_of("Draft does not validate"), "draft_does_not_validate");
    }
}
