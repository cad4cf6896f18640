//! The `mock/` provider's server: answers an OpenAI chat-completions request body with the last
//! user message echoed back (or the body's `mock_response` text, which the host sets for
//! LiteLLM's `mock_response=`), as a JSON answer or as real SSE bytes. Deterministic (`created` is
//! 0; the core has no clock), so hosts can run the whole pipeline with no network and no key.
//!
//! An embeddings request body (one with `input`) is answered as OpenAI answers it: for each
//! input, `dimensions` numbers (8 by default) derived from a hash of its text and normalized to
//! length 1, so the same text always gets the same vector, or the body's `mock_response` when it
//! is a list of numbers; base64 of float32 when `encoding_format` asks. Usage counts words (or
//! token ids).

use serde_json::{json, Map, Value};

use super::vectors::encode;
use crate::call::MAX_DIMENSIONS;
use crate::error::CoreError;

pub struct Reply {
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

pub fn reply(request_body: &[u8]) -> Result<Reply, CoreError> {
    let request: Value = serde_json::from_slice(request_body)
        .map_err(|e| CoreError::invalid_request(format!("mock request is not JSON: {}", e)))?;
    if request.get("input").is_some() {
        return embeddings(&request);
    }
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

fn embeddings(request: &Value) -> Result<Reply, CoreError> {
    let inputs: Vec<&Value> = match &request["input"] {
        Value::Array(items) if items.iter().all(Value::is_number) => vec![&request["input"]],
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let dimensions = match request.get("dimensions") {
        None => 8,
        Some(n) => match n.as_u64() {
            Some(n) if (1..=MAX_DIMENSIONS).contains(&n) => n as usize,
            _ => return Err(CoreError::invalid_request("mock: dimensions out of range")),
        },
    };
    let fixed: Option<Vec<f32>> = request["mock_response"]
        .as_array()
        .and_then(|list| list.iter().map(|n| n.as_f64().map(|n| n as f32)).collect());
    let base64 = request["encoding_format"] == "base64";
    let mut data = Vec::new();
    let mut tokens = 0;
    for (index, input) in inputs.iter().enumerate() {
        let (text, count) = match input {
            Value::String(text) => (text.clone(), word_count(text)),
            Value::Array(ids) => (input.to_string(), ids.len()),
            other => (other.to_string(), 1),
        };
        tokens += count;
        let vector = fixed
            .clone()
            .unwrap_or_else(|| vector_of(&text, dimensions));
        let embedding = if base64 {
            let bytes: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
            json!(encode(&bytes))
        } else {
            // Widened exactly: the floats read back equal the base64 ones.
            json!(vector.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>())
        };
        let mut item = Map::new();
        item.insert("object".into(), json!("embedding"));
        item.insert("index".into(), json!(index));
        item.insert("embedding".into(), embedding);
        data.push(Value::Object(item));
    }
    let answer = json!({
        "object": "list",
        "data": data,
        "model": request["model"].as_str().unwrap_or("mock"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    });
    Ok(Reply {
        content_type: "application/json",
        body: answer.to_string().into_bytes(),
    })
}

/// `dimensions` numbers from a hash of `text`, of length 1.
fn vector_of(text: &str, dimensions: usize) -> Vec<f32> {
    let mut state: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a of the text seeds splitmix64
    for byte in text.bytes() {
        state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let values: Vec<f64> = (0..dimensions)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect();
    let norm = values.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
    values.iter().map(|v| (v / norm) as f32).collect()
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
    fn embeddings_are_deterministic_unit_vectors_in_either_encoding() {
        let answer = |body: Value| -> Value {
            serde_json::from_slice(&reply(body.to_string().as_bytes()).unwrap().body).unwrap()
        };
        let floats = answer(json!({"model": "m", "input": ["a b", "c", "a b"]}));
        assert_eq!(floats["object"], "list");
        assert_eq!(
            floats["usage"],
            json!({"prompt_tokens": 5, "total_tokens": 5})
        );
        let data = floats["data"].as_array().unwrap();
        assert_eq!(data.len(), 3);
        assert_eq!(data[2]["index"], 2);
        assert_eq!(data[0]["embedding"], data[2]["embedding"]);
        assert_ne!(data[0]["embedding"], data[1]["embedding"]);
        let vector: Vec<f64> = serde_json::from_value(data[0]["embedding"].clone()).unwrap();
        assert_eq!(vector.len(), 8);
        let norm: f64 = vector.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-6, "{}", norm);
        let encoded = answer(
            json!({"model": "m", "input": "a b", "encoding_format": "base64", "dimensions": 3}),
        );
        let text = encoded["data"][0]["embedding"].as_str().unwrap();
        let bytes = super::super::vectors::decode(text).unwrap();
        let decoded: Vec<f64> = bytes
            .chunks(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect();
        assert_eq!(decoded.len(), 3);
        let three = answer(json!({"model": "m", "input": ["a b"], "dimensions": 3}));
        assert_eq!(three["data"][0]["embedding"], json!(decoded));
        let tokens = answer(json!({"model": "m", "input": [1, 2, 3], "mock_response": [0.5, 1]}));
        assert_eq!(tokens["data"][0]["embedding"], json!([0.5, 1.0]));
        assert_eq!(tokens["usage"]["prompt_tokens"], 3);
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

    #[test]
    fn its_streams_read_as_litellm_shapes_them() {
        use crate::providers::testing;
        let request =
            br#"{"model": "echo", "stream": true, "mock_response": "a b", "messages": []}"#;
        let body = reply(request).unwrap().body;
        let (chunks, error) = testing::read_stream(&testing::context("mock", "echo"), &body);
        assert_eq!(error, Value::Null);
        testing::assert_litellm_shaped(&chunks);
        // The role (with content ""), two words, the finish: all carry something.
        assert_eq!(chunks.len(), 4);
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": ""})
        );
    }
}
