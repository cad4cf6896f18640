//! The `mock/` provider's server: answers an OpenAI chat-completions request body with the last
//! user message echoed back (or the body's `mock_response` text, which the host sets for
//! LiteLLM's `mock_response=`), as a JSON answer or as real SSE bytes. Deterministic (`created` is
//! 0; the core has no clock), so hosts can run the whole pipeline with no network and no key.

use serde_json::{json, Value};

use crate::error::CoreError;

pub struct Reply {
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub fn reply(request_body: &[u8]) -> Result<Reply, CoreError> {
    let request: Value = serde_json::from_slice(request_body)
        .map_err(|e| CoreError::invalid_request(format!("mock request is not JSON: {}", e)))?;
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("mock");
    let messages = request.get("messages").and_then(Value::as_array);
    let prompt_tokens = messages.map_or(0, |m| m.iter().map(|m| word_count(text_of(m))).sum());
    let text = match request.get("mock_response") {
        Some(Value::String(text)) => text.as_str(),
        _ => messages
            .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
            .map_or("", text_of),
    };
    let mut words: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
    let limit = request
        .get("max_completion_tokens")
        .or_else(|| request.get("max_tokens"))
        .and_then(Value::as_u64)
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX)); // wasm32: no wrap
    let finish_reason = if words.len() > limit {
        words.truncate(limit);
        "length"
    } else {
        "stop"
    };
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": words.len(),
        "total_tokens": prompt_tokens + words.len(),
    });
    let base = json!({"id": "chatcmpl-mock", "created": 0, "model": model});

    if request.get("stream") != Some(&Value::Bool(true)) {
        let mut answer = base;
        answer["object"] = json!("chat.completion");
        answer["choices"] = json!([{
            "index": 0,
            "message": {"role": "assistant", "content": words.concat()},
            "finish_reason": finish_reason,
            "logprobs": null,
        }]);
        answer["usage"] = usage;
        return Ok(Reply {
            content_type: "application/json",
            body: answer.to_string().into_bytes(),
        });
    }

    let chunk = |choices: Value| {
        let mut chunk = base.clone();
        chunk["object"] = json!("chat.completion.chunk");
        chunk["choices"] = choices;
        chunk
    };
    let delta = |delta: Value, finish: Value| {
        chunk(json!([{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}]))
    };
    let mut chunks = vec![delta(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    chunks.extend(
        words
            .iter()
            .map(|w| delta(json!({"content": w}), Value::Null)),
    );
    chunks.push(delta(json!({}), json!(finish_reason)));
    if request.pointer("/stream_options/include_usage") == Some(&Value::Bool(true)) {
        let mut last = chunk(json!([]));
        last["usage"] = usage;
        chunks.push(last);
    }
    let mut body = String::new();
    for chunk in chunks {
        body.push_str("data: ");
        body.push_str(&chunk.to_string());
        body.push_str("\n\n");
    }
    body.push_str("data: [DONE]\n\n");
    Ok(Reply {
        content_type: "text/event-stream",
        body: body.into_bytes(),
    })
}

/// The text of a message: its string content, or its text parts joined.
fn text_of(message: &Value) -> &str {
    match &message["content"] {
        Value::String(text) => text,
        Value::Array(parts) => parts
            .iter()
            .rev()
            .find_map(|p| p.get("text").and_then(Value::as_str))
            .unwrap_or(""),
        _ => "",
    }
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_the_last_user_message() {
        let request = br#"{"model": "echo", "messages": [{"role": "user", "content": "first"}, {"role": "assistant", "content": "x"}, {"role": "user", "content": "say hi"}]}"#;
        let reply = reply(request).unwrap();
        assert_eq!(reply.content_type, "application/json");
        let answer: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(answer["choices"][0]["message"]["content"], "say hi");
        assert_eq!(answer["usage"]["prompt_tokens"], 4);
        assert_eq!(answer["usage"]["completion_tokens"], 2);
    }

    #[test]
    fn answers_the_mock_response_when_given() {
        let request = br#"{"model": "gpt-4o", "mock_response": "It is sunny.", "messages": [{"role": "user", "content": "weather?"}]}"#;
        let answer: Value = serde_json::from_slice(&reply(request).unwrap().body).unwrap();
        assert_eq!(answer["choices"][0]["message"]["content"], "It is sunny.");
        assert_eq!(answer["model"], "gpt-4o");
        assert_eq!(answer["usage"]["completion_tokens"], 3);
    }

    #[test]
    fn streams_word_by_word_with_usage_and_limit() {
        let request = br#"{"model": "echo", "stream": true, "max_tokens": 2, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": [{"type": "text", "text": "one two three"}]}]}"#;
        let reply = reply(request).unwrap();
        let text = String::from_utf8(reply.body).unwrap();
        assert_eq!(reply.content_type, "text/event-stream");
        assert!(text.ends_with("data: [DONE]\n\n"));
        assert_eq!(text.matches("data: ").count(), 6); // role, 2 words, finish, usage, [DONE]
        assert!(text.contains(r#""finish_reason":"length""#));
        assert!(text.contains(r#""content":"one ""#));
    }
}
