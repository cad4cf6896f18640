//! OpenAI chat completions, spoken by OpenAI and every OpenAI-compatible provider. Requests are
//! assembled from the caller's fields as given; answers and chunks pass through as sent.

use serde_json::{Map, Value};

use crate::error::{api_error, error_in_success, CoreError};
use crate::limits::{scan_object, ProbeError, Scan};
use crate::providers::endpoint;
use crate::sse::Event;
use crate::stream::{Chunks, Translate};
use crate::{Call, Context, HttpRequest};

pub fn build_request(call: Call) -> Result<HttpRequest, CoreError> {
    let url = endpoint(&call.base_url, "/chat/completions");
    let stream = call.stream;
    Ok(HttpRequest::post_json(url, &body(call), stream))
}

/// The request body: the caller's fields as given, `additional_params` last.
pub fn body(call: Call) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("model".into(), Value::String(call.model));
    body.insert("messages".into(), call.messages);
    body.extend(call.params);
    if call.stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    body.extend(call.additional_params);
    body
}

/// The error for an answer or chunk that `scan_object` refused.
fn refused(error: ProbeError, what: &str) -> CoreError {
    match error {
        ProbeError::NotAnObject => {
            CoreError::invalid_response(format!("the provider's {} is not a JSON object", what))
        }
        ProbeError::Unbalanced => CoreError::invalid_response(format!(
            "the provider's {} is not valid JSON: it is cut short or has text after it",
            what
        )),
        ProbeError::Limit(error) => error,
    }
}

pub fn parse_response(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    if !(200..300).contains(&status) {
        return Err(api_error(Some(status), body));
    }
    // A scan, as for stream chunks: the host parses the answer and decides what is valid JSON.
    match scan_object(body, context.limits.max_depth) {
        Ok(Scan::Chunk) => {}
        Ok(Scan::Error) => return Err(error_in_success(status, body)),
        Err(error) => return Err(refused(error, "answer")),
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| CoreError::invalid_response("the provider's answer is not UTF-8"))
}

pub struct StreamTranslator {
    pub max_depth: usize,
}

impl Translate for StreamTranslator {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        if event.event_type == "error" {
            return Err(api_error(None, data.as_bytes()));
        }
        // A scan, not a parse: the host parses the chunk, once (see `scan_object`).
        match scan_object(data.as_bytes(), self.max_depth) {
            Ok(Scan::Chunk) => out.push_raw(data),
            Ok(Scan::Error) => return Err(api_error(None, data.as_bytes())),
            Err(error) => return Err(refused(error, "stream chunk")),
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn parse(status: u16, body: &[u8]) -> Result<String, CoreError> {
        let context = crate::parse_context(br#"{"protocol": "openai"}"#).unwrap();
        parse_response(&context, status, body)
    }

    #[test]
    fn answers_pass_through_unchanged() {
        let body = br#"{"id": "x", "choices": [{"message": {"content": "hi"}}], "error": null}"#;
        assert_eq!(parse(200, body).unwrap().as_bytes(), &body[..]);
    }

    #[test]
    fn error_status_and_error_bodies() {
        let body = br#"{"error": {"message": "slow down", "type": "requests"}}"#;
        let error = parse(429, body).unwrap_err();
        assert_eq!((error.kind, error.status), (ErrorKind::ApiError, Some(429)));
        let error = parse(200, br#"{"error": {"message": "hidden"}}"#).unwrap_err();
        assert_eq!(error.message, "hidden");
    }

    #[test]
    fn malformed_answers_are_invalid_responses() {
        for body in [&b"[1, 2]"[..], b"", b"{\"a\": ", b"<html>"] {
            let error = parse(200, body).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidResponse, "{:?}", body);
        }
    }

    #[test]
    fn stream_events() {
        let mut translator = StreamTranslator { max_depth: 64 };
        let mut out = Chunks::default();
        let event = |data: &str| Event {
            event_type: "message".into(),
            data: data.into(),
            id: String::new(),
        };
        assert!(!translator.event(event(r#"{"a": 1}"#), &mut out).unwrap());
        assert!(translator.event(event("[DONE]"), &mut out).unwrap());
        let error = translator
            .event(
                event(r#"{"error": {"message": "boom", "type": "server_error"}}"#),
                &mut out,
            )
            .unwrap_err();
        assert_eq!((error.status, error.message.as_str()), (Some(500), "boom"));
    }
}
