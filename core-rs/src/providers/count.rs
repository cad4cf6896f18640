//! What the token-counting endpoints share. A `count_tokens` call is a chat call's request
//! sent to the provider's own counting endpoint instead: each API builds the body its chat call
//! would send, keeps the fields its counting endpoint takes ([`only`]), and reads the count out
//! of the answer ([`read`]) as `{"input_tokens": n}`. Counts have no streams.

use serde_json::{json, Map, Value};

use super::shared::parse_json;
use crate::call::Context;
use crate::error::{api_error, error_in_success, CoreError};
use crate::sse::Event;
use crate::translate::{Chunks, Translate};

/// `body` with only the fields named, in their order, then the caller's `additional_params`
/// (sent as given, as in a chat call).
pub fn only(
    mut body: Map<String, Value>,
    fields: &[&str],
    additional_params: Map<String, Value>,
) -> Map<String, Value> {
    let mut kept: Map<String, Value> = fields
        .iter()
        .filter_map(|name| body.remove(*name).map(|value| (name.to_string(), value)))
        .collect();
    kept.extend(additional_params);
    kept
}

/// A counting endpoint's answer with HTTP `status`, its count in `field`, as
/// `{"input_tokens": n}`: an error answer is the error a chat call would get.
pub fn read(context: &Context, status: u16, body: &[u8], field: &str) -> Result<String, CoreError> {
    if !(200..300).contains(&status) {
        return Err(api_error(Some(status), body));
    }
    let answer = parse_json(body, context.limits.max_depth)?;
    if answer.get("error").is_some() || answer["type"] == "error" {
        return Err(error_in_success(status, body));
    }
    match answer[field].as_u64() {
        Some(count) => Ok(json!({ "input_tokens": count }).to_string()),
        None => Err(CoreError::invalid_response(format!(
            "the provider's token count has no {} (a whole number)",
            field
        ))),
    }
}

/// The reader of an API without a counting endpoint (the call is refused before any I/O).
pub fn none(context: &Context, _status: u16, _body: &[u8]) -> Result<String, CoreError> {
    Err(CoreError::invalid_request(format!(
        "{}/ answers carry no token counts",
        context.provider
    )))
}

/// Token counts have no streams: every event is refused.
pub fn translator(_context: &Context) -> Box<dyn Translate> {
    Box::new(NoStream)
}

struct NoStream;

impl Translate for NoStream {
    fn event(&mut self, _event: Event, _out: &mut Chunks) -> Result<bool, CoreError> {
        Err(CoreError::invalid_request(
            "count_tokens calls have no streams",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::providers::testing;

    #[test]
    fn only_the_endpoints_fields_then_the_callers() {
        let body = json!({"model": "m", "max_tokens": 5, "messages": [], "stream": true});
        let extra = json!({"x": 1});
        let kept = only(
            body.as_object().unwrap().clone(),
            &["messages", "model", "tools"],
            extra.as_object().unwrap().clone(),
        );
        assert_eq!(
            Value::Object(kept),
            json!({"messages": [], "model": "m", "x": 1})
        );
    }

    #[test]
    fn counts_are_read_and_errors_are_the_chat_calls() {
        let context = testing::context("anthropic", "claude");
        assert_eq!(
            read(&context, 200, br#"{"input_tokens": 14}"#, "input_tokens").unwrap(),
            r#"{"input_tokens":14}"#
        );
        let error = read(&context, 200, br#"{"totalTokens": 3}"#, "input_tokens").unwrap_err();
        assert!(
            error.message.contains("no input_tokens"),
            "{}",
            error.message
        );
        let error = read(
            &context,
            429,
            br#"{"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}"#,
            "input_tokens",
        )
        .unwrap_err();
        assert_eq!(
            (error.kind, error.status, error.message.as_str()),
            (ErrorKind::ApiError, Some(429), "slow down")
        );
        let error = read(
            &context,
            200,
            br#"{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}"#,
            "totalTokens",
        )
        .unwrap_err();
        assert!(error.message.contains("bad"), "{}", error.message);
        assert!(read(&context, 200, b"[1", "x").is_err());
    }
}
