//! Calls and contexts for the protocol modules' tests.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::lookup;
use crate::call::{Call, Context, Embedding, Operation};
use crate::limits::Limits;

/// A non-streamed call to `prefix/model` at the provider's default base URL.
pub fn call(prefix: &str, model: &str, messages: Value, params: Value) -> Call {
    let provider = lookup(prefix).unwrap();
    Call {
        provider: provider.prefix,
        operation: Operation::Chat,
        reader: provider.reader_for(model, Operation::Chat, false),
        model: model.into(),
        messages,
        stream: false,
        base_url: provider
            .base_url
            .unwrap_or("https://example.invalid")
            .into(),
        params: params.as_object().cloned().unwrap_or_default(),
        additional_params: Map::new(),
        env: BTreeMap::new(),
        api_version: None,
        drop_params: false,
        embedding: Embedding::default(),
        stored: None,
    }
}

/// The context of such a call, created at a fixed time, asking for a usage chunk.
pub fn context(prefix: &str, model: &str) -> Context {
    Context {
        reader: lookup(prefix)
            .unwrap()
            .reader_for(model, Operation::Chat, false),
        operation: Operation::Chat,
        provider: prefix.into(),
        model: model.into(),
        created: 1700000000,
        nonce: String::new(),
        include_usage: true,
        json_tool: None,
        limits: Limits::default(),
        inputs: 0,
        dimensions: None,
        base64: false,
        echo: Value::Null,
    }
}

/// An embedding call to `prefix/model` of `input` (as a caller gives it) with `params`.
pub fn embedding(prefix: &str, model: &str, input: Value, params: Value) -> Call {
    let mut call = call(prefix, model, Value::Null, params);
    call.operation = Operation::Embedding;
    call.embedding = Embedding::read(input, &mut call.params).unwrap();
    call
}

/// The context of such a call, carrying `inputs`.
pub fn embedding_context(prefix: &str, model: &str, inputs: usize) -> Context {
    Context {
        operation: Operation::Embedding,
        inputs,
        include_usage: false,
        ..context(prefix, model)
    }
}

/// The chunks of `body` read whole as one stream in `context`, and the error that ended it
/// (null if none).
pub fn read_stream(context: &Context, body: &[u8]) -> (Vec<Value>, Value) {
    let context = serde_json::to_string(context).unwrap();
    let mut stream = crate::open_stream(context.as_bytes()).unwrap();
    let batch: Value = serde_json::from_str(&stream.feed(body)).unwrap();
    let mut chunks = batch["chunks"].as_array().unwrap().clone();
    if batch.get("error").is_some() {
        return (chunks, batch["error"].clone());
    }
    let end: Value = serde_json::from_str(&stream.finish()).unwrap();
    chunks.extend(end["chunks"].as_array().unwrap().clone());
    (chunks, end.get("error").cloned().unwrap_or(Value::Null))
}

/// `events` as the body of a stream of server-sent events, each its `data`.
pub fn sse(events: &[Value]) -> Vec<u8> {
    events
        .iter()
        .flat_map(|event| format!("data: {}\n\n", event).into_bytes())
        .collect()
}

/// Asserts that `chunks` are shaped as LiteLLM's streams shape them (`shape.rs`), checked
/// here without `shape.rs`: every chunk carries something, and every tool-call fragment has
/// exactly `index`, `id`, `type` ("function") and `function` with exactly `name` and a text
/// `arguments`. Returns the fragments, in order.
pub fn assert_litellm_shaped(chunks: &[Value]) -> Vec<Value> {
    let mut fragments = Vec::new();
    for chunk in chunks {
        let choices = chunk["choices"].as_array().unwrap();
        let carries = !chunk["usage"].is_null()
            || !chunk["prompt_filter_results"].is_null()
            || choices.iter().any(|choice| {
                !choice["finish_reason"].is_null()
                    || !choice["logprobs"].is_null()
                    || choice["delta"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .any(|(name, value)| {
                            let empty_content = name == "content" && *value == "";
                            !(value.is_null() || empty_content)
                        })
            });
        assert!(carries, "a chunk that carries nothing: {}", chunk);
        for choice in choices {
            for call in choice["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let keys: Vec<&String> = call.as_object().unwrap().keys().collect();
                assert_eq!(keys.len(), 4, "{}", call);
                for key in ["index", "id", "type", "function"] {
                    assert!(call.get(key).is_some(), "no {}: {}", key, call);
                }
                assert!(call["index"].is_u64(), "{}", call);
                assert_eq!(call["type"], "function", "{}", call);
                let function = call["function"].as_object().unwrap();
                assert_eq!(function.len(), 2, "{}", call);
                assert!(function.contains_key("name"), "{}", call);
                assert!(function["arguments"].is_string(), "{}", call);
                fragments.push(call.clone());
            }
        }
    }
    fragments
}
