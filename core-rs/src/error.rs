//! Errors cross the boundary as data: a `kind` from the closed list below plus whatever the
//! provider said. Hosts map each kind to one exception class.

use serde::Serialize;
use serde_json::Value;

/// Declares [`ErrorKind`] and [`ErrorKind::ALL`] from one list, so no kind can be missing
/// from `ALL` (which `describe()` hands to hosts).
macro_rules! error_kinds {
    ($($(#[$doc:meta])* $kind:ident,)+) => {
        /// The closed list of error kinds. Hosts keep a table with exactly these names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorKind {
            $($(#[$doc])* $kind,)+
        }

        impl ErrorKind {
            /// Every kind, in the order declared.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind),+];
        }
    };
}

error_kinds! {
    /// The caller's request is malformed (bad model string, messages, parameters).
    InvalidRequest,
    /// The model prefix names no provider ritellm knows.
    UnsupportedProvider,
    /// The provider answered with an error (HTTP status, or an error object in a body or stream).
    ApiError,
    /// A provider error recognised as "the prompt does not fit the context window".
    ContextWindowExceeded,
    /// A provider error recognised as a content-policy refusal.
    ContentPolicy,
    /// The provider's answer could not be understood.
    InvalidResponse,
    /// The stream ended before its terminator.
    StreamIncomplete,
    /// Input exceeded one of the core's limits.
    LimitExceeded,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoreError {
    pub kind: ErrorKind,
    pub message: String,
    /// The status the error stands for, which picks the host's exception class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The status the server actually sent, where it differs: a success status whose body
    /// reports an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_status: Option<u16>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The call's provider prefix and model name, for errors about an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl CoreError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CoreError {
            kind,
            message: message.into(),
            status: None,
            sent_status: None,
            error_type: None,
            code: None,
            param: None,
            provider: None,
            model: None,
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    pub fn invalid_response(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidResponse, message)
    }
}

/// Longest provider text quoted in an error message.
const MAX_QUOTED: usize = 500;

/// Builds the error for a non-success answer (`status`) or an error object found inside a
/// body or stream event (`status` is `None`). Understands the common shapes:
/// `{"error": {"message", "type", "code", "param"}}`, `{"error": "text"}`,
/// `{"type": "error", "error": {...}}`, `{"message": ...}` and `{"detail": ...}`.
pub fn api_error(status: Option<u16>, body: &[u8]) -> CoreError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let mut error = match parsed.as_ref() {
        Some(value) => from_error_value(value),
        None => CoreError::new(ErrorKind::ApiError, quote(&String::from_utf8_lossy(body))),
    };
    error.status = status.or_else(|| status_for_type(error.error_type.as_deref()));
    if error.message.is_empty() {
        error.message = match error.status {
            Some(status) => format!("provider answered HTTP {}", status),
            None => "provider reported an error".to_string(),
        };
    }
    error.kind = classify(&error);
    error
}

/// The error for an error object in an answer whose HTTP `status` said success: it stands for
/// the status its type implies, and reports the one the server sent.
pub fn error_in_success(status: u16, body: &[u8]) -> CoreError {
    let mut error = api_error(None, body);
    error.sent_status = Some(status);
    error
}

fn from_error_value(value: &Value) -> CoreError {
    let inner = match value.get("error") {
        Some(inner) => inner,
        None => value,
    };
    let mut error = CoreError::new(ErrorKind::ApiError, "");
    match inner {
        Value::String(text) => error.message = quote(text),
        Value::Object(fields) => {
            let message = fields.get("message").or_else(|| fields.get("detail"));
            error.message = match message {
                Some(Value::String(text)) => quote(text),
                Some(other) => quote(&other.to_string()),
                None => String::new(),
            };
            // Gemini puts the canonical name in `status` and the HTTP number in `code`.
            error.error_type = text_field(fields.get("type").or_else(|| fields.get("status")));
            error.code = text_field(fields.get("code"));
            error.param = text_field(fields.get("param"));
        }
        other => error.message = quote(&other.to_string()),
    }
    error
}

fn text_field(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn quote(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The HTTP status a provider error type stands for, for errors that arrive without one
/// (inside a stream). Lets a mid-stream "overloaded" raise what an HTTP 529 raises.
fn status_for_type(error_type: Option<&str>) -> Option<u16> {
    Some(match error_type? {
        "invalid_request_error" | "INVALID_ARGUMENT" | "FAILED_PRECONDITION" => 400,
        "authentication_error" | "UNAUTHENTICATED" => 401,
        "permission_error" | "PERMISSION_DENIED" => 403,
        "not_found_error" | "NOT_FOUND" => 404,
        "request_too_large" => 413,
        "rate_limit_error" | "rate_limit_exceeded" | "RESOURCE_EXHAUSTED" => 429,
        "api_error" | "server_error" | "INTERNAL" => 500,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" => 504,
        "overloaded_error" => 529,
        _ => return None,
    })
}

/// How servers say that a prompt does not fit the model's context window: an error code or
/// type, or a phrase in the message (lower case), each with a message a server sends.
const CONTEXT_WINDOW: &[(&str, &str, &str)] = &[
    // (who, code/type or phrase, an example message)
    ("OpenAI, Groq", "context_length_exceeded", "Please reduce the length of the messages or completion."),
    ("llama.cpp", "exceed_context_size_error", "request (36021 tokens) exceeds the available context size (4096 tokens)"),
    ("llama.cpp", "exceeds the available context size", "request (36021 tokens) exceeds the available context size (4096 tokens)"),
    ("OpenAI, vLLM, DeepSeek, OpenRouter, Mistral", "maximum context length", "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens."),
    ("vLLM", "longer than the maximum model length", "The decoder prompt (length 9000) is longer than the maximum model length of 8192."),
    ("Ollama", "exceeds the context length", "the input length exceeds the context length"),
    ("LM Studio", "context the overflows", "Trying to keep the first 5000 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough."),
    ("TGI", "`inputs` tokens + `max_new_tokens` must be <=", "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` tokens and 500 `max_new_tokens`"),
    ("Anthropic", "prompt is too long", "prompt is too long: 210000 tokens > 200000 maximum"),
    ("Gemini", "input token count", "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."),
    ("Bedrock", "input is too long", "Input is too long for requested model."),
    ("several", "context window", "The prompt exceeds the model's context window."),
];

fn classify(error: &CoreError) -> ErrorKind {
    let code = error.code.as_deref().unwrap_or("");
    let error_type = error.error_type.as_deref().unwrap_or("");
    let message = error.message.to_ascii_lowercase();
    let context_window = CONTEXT_WINDOW
        .iter()
        .any(|&(_, sign, _)| code == sign || error_type == sign || message.contains(sign));
    if context_window {
        return ErrorKind::ContextWindowExceeded;
    }
    if code == "content_policy_violation" || code == "content_filter" {
        return ErrorKind::ContentPolicy;
    }
    ErrorKind::ApiError
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_kinds_are_listed_once_in_declaration_order() {
        for (position, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, position, "{:?}", kind);
        }
        let names = serde_json::to_value(ErrorKind::ALL).unwrap();
        assert_eq!(names[0], "invalid_request");
        assert_eq!(names[ErrorKind::ALL.len() - 1], "limit_exceeded");
    }

    #[test]
    fn every_context_window_entry_is_recognised_from_its_example() {
        for &(who, sign, example) in CONTEXT_WINDOW {
            // A sign without spaces is a code or type, sent beside the message; a phrase is in it.
            let bodies = if sign.contains(' ') {
                assert!(
                    example.to_ascii_lowercase().contains(sign),
                    "{}: {}",
                    who,
                    sign
                );
                vec![serde_json::json!({"error": {"message": example}})]
            } else {
                vec![
                    serde_json::json!({"error": {"message": example, "code": sign}}),
                    serde_json::json!({"error": {"message": "no", "type": sign}}),
                ]
            };
            for body in bodies {
                let error = api_error(Some(400), body.to_string().as_bytes());
                assert_eq!(
                    error.kind,
                    ErrorKind::ContextWindowExceeded,
                    "{}: {}",
                    who,
                    body
                );
            }
        }
        let unrelated = br#"{"error": {"message": "rate limited", "type": "rate_limit_error"}}"#;
        assert_eq!(api_error(Some(429), unrelated).kind, ErrorKind::ApiError);
    }

    #[test]
    fn an_error_in_a_success_keeps_the_status_sent() {
        let body = br#"{"error": {"message": "bad", "type": "invalid_request_error"}}"#;
        let error = error_in_success(200, body);
        assert_eq!((error.status, error.sent_status), (Some(400), Some(200)));
    }

    #[test]
    fn openai_error_body() {
        let body = br#"{"error": {"message": "Bad key", "type": "invalid_request_error", "code": "invalid_api_key", "param": null}}"#;
        let error = api_error(Some(401), body);
        assert_eq!(error.kind, ErrorKind::ApiError);
        assert_eq!(error.status, Some(401));
        assert_eq!(error.message, "Bad key");
        assert_eq!(error.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(error.code.as_deref(), Some("invalid_api_key"));
        assert_eq!(error.param, None);
    }

    #[test]
    fn anthropic_overloaded_event_gets_529() {
        let body =
            br#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
        let error = api_error(None, body);
        assert_eq!(error.status, Some(529));
        assert_eq!(error.message, "Overloaded");
    }

    #[test]
    fn gemini_error_body() {
        let body =
            br#"{"error": {"code": 429, "message": "Quota", "status": "RESOURCE_EXHAUSTED"}}"#;
        let error = api_error(Some(429), body);
        assert_eq!(error.code.as_deref(), Some("429"));
        assert_eq!(error.error_type.as_deref(), Some("RESOURCE_EXHAUSTED"));
    }

    #[test]
    fn plain_text_and_empty_bodies() {
        assert_eq!(
            api_error(Some(502), b"Bad Gateway\n").message,
            "Bad Gateway"
        );
        assert_eq!(
            api_error(Some(503), b"").message,
            "provider answered HTTP 503"
        );
        assert_eq!(
            api_error(Some(500), br#"{"error": "boom"}"#).message,
            "boom"
        );
        assert_eq!(
            api_error(Some(422), br#"{"detail": "nope"}"#).message,
            "nope"
        );
    }

    #[test]
    fn long_text_is_cut() {
        let body = "x".repeat(5000);
        let error = api_error(Some(500), body.as_bytes());
        assert_eq!(error.message.chars().count(), MAX_QUOTED + 1);
    }

    #[test]
    fn recognises_context_window_and_content_policy() {
        let body = br#"{"error": {"message": "This model's maximum context length is 8192 tokens", "code": "context_length_exceeded"}}"#;
        assert_eq!(
            api_error(Some(400), body).kind,
            ErrorKind::ContextWindowExceeded
        );
        let body =
            br#"{"error": {"message": "prompt is too long: 300000 tokens > 200000 maximum"}}"#;
        assert_eq!(
            api_error(Some(400), body).kind,
            ErrorKind::ContextWindowExceeded
        );
        let body = br#"{"error": {"message": "refused", "code": "content_policy_violation"}}"#;
        assert_eq!(api_error(Some(400), body).kind, ErrorKind::ContentPolicy);
    }
}
