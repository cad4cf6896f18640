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
