//! ritellm-core: the sans-I/O heart of ritellm.
//!
//! It turns a caller's OpenAI-shaped request into an HTTP request for one provider, and the
//! provider's answer (a JSON body, or stream bytes fed as they arrive) into OpenAI-shaped
//! chat.completion and chat.completion.chunk JSON, or, for an embedding call, OpenAI's list of
//! embeddings, checked, or, for a token count, `{"input_tokens": n}`. It does no I/O, reads no
//! clock or environment and never sees an API key: the host owns sockets, keys, retries and
//! time.
//!
//! # Layout
//! Arrows point down: a module imports only those below it.
//!
//! * `lib.rs` (this file): the pure API, [`prepare`], [`parse_response`], [`open_stream`] and
//!   [`describe`]. `abi.rs` exposes it to WebAssembly hosts and documents the boundary.
//! * `providers/`: the provider table and the protocol modules, one file per API; its
//!   `mod.rs` holds the table and the only two matches on how requests are built and how
//!   answers are read (a newcomer adds a provider there, see its docs).
//! * `stream.rs`: a stream in progress, a framing's decoder feeding a reader's translator.
//! * `sse.rs`, `eventstream.rs`: the two framings, bytes into events.
//! * Leaves, imported by both sides: `call.rs` (the call, the HTTP request, the answer's
//!   context), `translate.rs` (the `Translate` trait and its chunks), `shape.rs` (what every
//!   chat.completion.chunk looks like when it leaves), `error.rs`, `limits.rs`.

// Errors are the cold path and cross the boundary as JSON: boxing them would buy nothing.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

pub mod call;
pub mod error;
pub mod eventstream;
pub mod limits;
pub mod providers;
pub mod shape;
pub mod sse;
pub mod stream;
pub mod translate;

#[cfg(target_arch = "wasm32")]
mod abi;

pub use call::{Call, Context, Embedding, HttpRequest, Operation, Reader, Stored};
pub use error::{CoreError, ErrorKind};
pub use limits::Limits;
use providers::Provider;
pub use stream::ChunkStream;

/// What the host sends to [`prepare`]. Every field but `model`, and `messages` (chat) or
/// `input` (embedding), is optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallInput {
    model: Value,
    /// `"chat"` (the default), `"embedding"`, `"responses"` or `"count_tokens"` (a chat call's
    /// messages and fields, its input tokens counted by the provider's own endpoint).
    #[serde(default)]
    operation: Operation,
    #[serde(default)]
    messages: Value,
    /// An embedding call's input: a string, a list of strings, a list of token ids, or a list of
    /// lists of token ids. A Responses call's: a string or a list of input items.
    #[serde(default)]
    input: Value,
    /// A Responses call on a stored response instead of a new one: what to do, and its id.
    #[serde(default)]
    stored: Option<Stored>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    base_url: Option<String>,
    /// Body fields from keyword arguments (`temperature`, `tools`, ...), sent as given.
    #[serde(default)]
    params: Map<String, Value>,
    /// Extra body fields whose keys win: a JSON object, or its text.
    #[serde(default)]
    additional_params: Value,
    /// The values, where set, of the environment variables a provider names in `describe()`
    /// (`base_url_env`, `extra_env`). Never keys.
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// An API version for providers that take one in the URL (Azure).
    #[serde(default)]
    api_version: Option<String>,
    /// Unix time from the host, for the `created` field of answers from providers that send none.
    #[serde(default)]
    created: i64,
    /// A random value from the host, new for every call (16 lowercase hex digits), from which
    /// the core derives the ids it invents. Older hosts send none.
    #[serde(default)]
    nonce: String,
    #[serde(default)]
    limits: Limits,
    /// Leave out parameters the provider's protocol has no place for, instead of refusing them.
    #[serde(default)]
    drop_params: bool,
}

/// The longest nonce taken; a host sends 16 characters.
const MAX_NONCE: usize = 64;

/// A call read and checked, before its request is built: what [`prepare`] and
/// [`cache_material`] share.
struct ReadCall {
    provider: &'static Provider,
    call: Call,
    created: i64,
    nonce: String,
    limits: Limits,
}

/// Reads and validates a call (see [`CallInput`]).
fn read_call(input: &[u8]) -> Result<ReadCall, CoreError> {
    let input: CallInput = serde_json::from_slice(input)
        .map_err(|e| CoreError::invalid_request(format!("malformed call: {}", e)))?;
    let (provider, model) = split_model(&input.model)?;
    let operation = input.operation;
    provider.serves(operation)?;
    // LiteLLM's spelling for "through the Responses API": `openai/responses/<model>`.
    let speaks_responses = matches!(operation, Operation::Chat | Operation::Responses)
        && provider.operations.native_responses;
    let (model, via_responses) = match model.strip_prefix("responses/") {
        Some(name) if speaks_responses && !name.is_empty() => (name.to_string(), true),
        _ => (model, false),
    };
    if input.stored.is_some() && operation != Operation::Responses {
        return Err(CoreError::invalid_request(
            "stored responses are a Responses call's",
        ));
    }
    let mut params = input.params;
    let (messages, embedding) = match operation {
        Operation::Chat => (
            messages(input.messages, &input.input)?,
            Embedding::default(),
        ),
        Operation::CountTokens => {
            if input.stream {
                return Err(CoreError::invalid_request(
                    "count_tokens calls have no streams: stream=True is for chat",
                ));
            }
            (
                messages(input.messages, &input.input)?,
                Embedding::default(),
            )
        }
        Operation::Responses => {
            if !input.messages.is_null() {
                return Err(CoreError::invalid_request(
                    "a Responses call takes input, not messages",
                ));
            }
            if input.stored.is_none() {
                responses_input(&input.input)?;
            }
            (input.input, Embedding::default())
        }
        Operation::Embedding => {
            if !input.messages.is_null() {
                return Err(CoreError::invalid_request(
                    "an embedding call takes input, not messages",
                ));
            }
            if input.stream {
                return Err(CoreError::invalid_request(
                    "embedding calls have no streams: stream=True is for chat",
                ));
            }
            (Value::Null, Embedding::read(input.input, &mut params)?)
        }
    };
    if input.nonce.len() > MAX_NONCE || !input.nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(CoreError::invalid_request(format!(
            "nonce must be at most {} letters and digits",
            MAX_NONCE
        )));
    }
    let base_url = provider.base_url(input.base_url, &input.env)?;
    let mut additional_params = match input.additional_params {
        Value::Null => Map::new(),
        Value::Object(fields) => fields,
        Value::String(text) => match serde_json::from_str(&text) {
            Ok(Value::Object(fields)) => fields,
            Ok(other) => {
                return Err(CoreError::invalid_request(format!(
                    "additional_params must be a JSON object, got {}",
                    json_type(&other)
                )))
            }
            Err(e) => {
                return Err(CoreError::invalid_request(format!(
                    "additional_params is not valid JSON: {}",
                    e
                )))
            }
        },
        other => {
            return Err(CoreError::invalid_request(format!(
                "additional_params must be a JSON string, got {}",
                json_type(&other)
            )))
        }
    };
    if operation == Operation::Embedding {
        // No embeddings API is sent a null field (vLLM refuses `"encoding_format": null`).
        params.retain(|_, value| !value.is_null());
        additional_params.retain(|_, value| !value.is_null());
    }
    let reader = provider.reader_for(&model, operation, via_responses);
    let call = Call {
        provider: provider.prefix,
        operation,
        reader,
        model,
        messages,
        stream: input.stream,
        base_url,
        params,
        additional_params,
        env: input.env,
        api_version: input.api_version,
        drop_params: input.drop_params,
        embedding,
        stored: input.stored,
    };
    Ok(ReadCall {
        provider,
        call,
        created: input.created,
        nonce: input.nonce,
        limits: input.limits,
    })
}

/// Validates a call and assembles its HTTP request.
pub fn prepare(input: &[u8]) -> Result<HttpRequest, CoreError> {
    let ReadCall {
        provider,
        call,
        created,
        nonce,
        limits,
    } = read_call(input)?;
    let include_usage = call
        .params
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        == Some(&Value::Bool(true));
    let (reader, operation) = (call.reader, call.operation);
    let reading = providers::reading(reader, operation);
    let mut context = Context {
        reader,
        operation,
        provider: provider.prefix.to_string(),
        model: call.model.clone(),
        created,
        // Only where ids are invented: the contexts of other calls alike stay the same bytes.
        nonce: if reading.invents_ids {
            nonce
        } else {
            String::new()
        },
        include_usage,
        json_tool: None,
        limits,
        inputs: 0,
        dimensions: call.embedding.dimensions,
        base64: call.embedding.base64,
        echo: Value::Null,
    };
    let mut request = providers::build_request(provider, call, &mut context)?;
    context.inputs = request.inputs.unwrap_or(0);
    if request.url.len() > providers::url::MAX_URL_BYTES {
        return Err(CoreError::invalid_request(format!(
            "the request's URL would be {} bytes long, more than the {} ritellm sends: shorten the model or base_url",
            request.url.len(),
            providers::url::MAX_URL_BYTES
        )));
    }
    request.provider = provider.prefix;
    request.model = context.model.clone();
    request.auth = provider.auth;
    request.passthrough = reading.passthrough;
    request.context = serde_json::to_string(&context).unwrap_or_default();
    Ok(request)
}

/// The version of [`cache_material`]'s text: a change to what it holds changes it, so that
/// answers cached under the old text are not found under the new.
const CACHE_MATERIAL_VERSION: u64 = 1;

/// What determines a call's answer, as canonical JSON text (keys sorted at every level, nulls
/// left out, a `v`ersion): the operation, the provider prefix, the provider's model name (after
/// `responses/` is resolved), the resolved base URL, `api_version`, the messages or input, the
/// body parameters (not `stream_options`, which only says how a stream reports usage), the
/// parsed `additional_params` and `drop_params`. Not `stream`, `created`, `nonce`, `limits` or
/// `env` (its part in the URL is in the URL). A host hashes it into a cache key; it takes the
/// same call JSON as [`prepare`] and refuses what `prepare` refuses.
pub fn cache_material(input: &[u8]) -> Result<String, CoreError> {
    let call = read_call(input)?.call;
    if call.stored.is_some() {
        return Err(CoreError::invalid_request(
            "calls on stored responses are not cached",
        ));
    }
    let mut params = call.params;
    params.remove("stream_options");
    let mut material = json!({
        "v": CACHE_MATERIAL_VERSION,
        "operation": call.operation,
        "provider": call.provider,
        "model": call.model,
        "base_url": call.base_url,
        "api_version": call.api_version,
        "params": params,
        "additional_params": call.additional_params,
    });
    let fields = material.as_object_mut().expect("an object");
    if call.drop_params {
        fields.insert("drop_params".into(), Value::Bool(true));
    }
    match call.operation {
        Operation::Embedding => {
            let embedding = call.embedding;
            fields.insert("input".into(), json!(embedding.input));
            fields.insert("dimensions".into(), json!(embedding.dimensions));
            fields.insert("input_type".into(), json!(embedding.input_type));
            if embedding.base64 {
                fields.insert("base64".into(), Value::Bool(true));
            }
        }
        Operation::Responses => {
            fields.insert("input".into(), call.messages);
        }
        Operation::Chat | Operation::CountTokens => {
            fields.insert("messages".into(), call.messages);
        }
    }
    Ok(canonical(material).to_string())
}

/// `value` with every object's keys sorted and its null members left out.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(fields) => {
            let sorted: BTreeMap<String, Value> = fields
                .into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(name, value)| (name, canonical(value)))
                .collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// A chat call's messages, checked: a list of objects, and no embedding `input`.
fn messages(messages: Value, input: &Value) -> Result<Value, CoreError> {
    if !input.is_null() {
        return Err(CoreError::invalid_request(
            "input is an embedding call's: a chat call takes messages",
        ));
    }
    match messages {
        Value::Array(list) if list.iter().all(Value::is_object) => Ok(Value::Array(list)),
        _ => Err(CoreError::invalid_request(
            "messages must be a list of message objects, like [{\"role\": \"user\", \"content\": \"Hi\"}]",
        )),
    }
}

/// A Responses call's input, checked: a string, or a list of items (objects).
fn responses_input(input: &Value) -> Result<(), CoreError> {
    match input {
        Value::String(_) => Ok(()),
        Value::Array(items) if items.iter().all(Value::is_object) => Ok(()),
        _ => Err(CoreError::invalid_request(
            "input must be a string or a list of input items, like [{\"role\": \"user\", \"content\": \"Hi\"}]",
        )),
    }
}

/// Splits `"prefix/name"` at the first `/`; the name may contain more slashes.
fn split_model(model: &Value) -> Result<(&'static Provider, String), CoreError> {
    let model = model.as_str().ok_or_else(|| {
        CoreError::invalid_request(format!(
            "model must be a string like \"openai/gpt-4o-mini\", got {}",
            json_type(model)
        ))
    })?;
    let supported = || providers::prefixes().join(", ");
    let (prefix, name) = model.split_once('/').ok_or_else(|| {
        CoreError::new(
            ErrorKind::UnsupportedProvider,
            format!(
                "model {:?} has no provider prefix; write it as \"<provider>/{}\" with a provider from: {}",
                model,
                model,
                supported()
            ),
        )
    })?;
    let provider = providers::lookup(prefix).ok_or_else(|| {
        CoreError::new(
            ErrorKind::UnsupportedProvider,
            format!(
                "unsupported provider {:?} in model {:?}; supported providers: {}",
                prefix,
                model,
                supported()
            ),
        )
    })?;
    if name.is_empty() {
        return Err(CoreError::invalid_request(format!(
            "model {:?} names no model after the provider prefix",
            model
        )));
    }
    Ok((provider, name.to_string()))
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub fn parse_context(context: &[u8]) -> Result<Context, CoreError> {
    serde_json::from_slice(context)
        .map_err(|e| CoreError::invalid_request(format!("malformed call context: {}", e)))
}

/// Translates a complete answer with HTTP `status` into a chat.completion, or for an embedding
/// call a list of embeddings, or for a token count `{"input_tokens": n}`, as JSON text.
pub fn parse_response(context: &[u8], status: u16, body: &[u8]) -> Result<String, CoreError> {
    let context = parse_context(context)?;
    match providers::reading(context.reader, context.operation).complete {
        Some(read) => read(&context, status, body).map_err(|e| context.tag(e)),
        None => Err(CoreError::invalid_request(
            "this context's reader decodes streams only",
        )),
    }
}

/// A stream decoder for a call's answer (see [`ChunkStream`]).
pub fn open_stream(context: &[u8]) -> Result<ChunkStream, CoreError> {
    let context = parse_context(context)?;
    let reading = providers::reading(context.reader, context.operation);
    let translator = (reading.translator)(&context);
    Ok(ChunkStream::new(reading.framing, translator, context))
}

/// What hosts need to know about this build, as JSON text.
pub fn describe() -> String {
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "error_kinds": ErrorKind::ALL,
        "providers": providers::PROVIDERS,
        "native_responses": providers::native_responses(),
        "limits": Limits::default(),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(input: Value) -> Result<(HttpRequest, Value), CoreError> {
        let request = prepare(input.to_string().as_bytes())?;
        let body = serde_json::from_slice(&request.body).unwrap();
        Ok((request, body))
    }

    fn user(text: &str) -> Value {
        json!([{"role": "user", "content": text}])
    }

    fn material(input: Value) -> String {
        cache_material(input.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn cache_material_is_canonical_and_holds_what_changes_the_answer() {
        let base = json!({
            "model": "openai/gpt-4o-mini",
            "messages": [{"content": "hi", "role": "user", "name": null}],
            "params": {"temperature": 0.5, "max_tokens": 5},
        });
        let text = material(base.clone());
        assert_eq!(
            text,
            concat!(
                r#"{"additional_params":{},"base_url":"https://api.openai.com/v1","#,
                r#""messages":[{"content":"hi","role":"user"}],"model":"gpt-4o-mini","#,
                r#""operation":"chat","params":{"max_tokens":5,"temperature":0.5},"#,
                r#""provider":"openai","v":1}"#
            )
        );
        // What does not change the answer does not change the material.
        let mut same = base.clone();
        same["stream"] = json!(true);
        same["created"] = json!(12);
        same["nonce"] = json!("abc");
        same["limits"] = json!({"max_depth": 10});
        same["params"] =
            json!({"max_tokens": 5, "temperature": 0.5, "stream_options": {"include_usage": true}});
        assert_eq!(material(same), text);
        let mut spelled = base.clone();
        spelled["model"] = json!("openai/responses/gpt-4o-mini");
        assert_eq!(material(spelled), text);
        // Each of what does, does.
        let changes = [
            ("model", json!("openai/gpt-4o")),
            ("messages", user("hello")),
            ("params", json!({"temperature": 0.6, "max_tokens": 5})),
            ("additional_params", json!("{\"seed\": 1}")),
            ("base_url", json!("http://127.0.0.1:1/v1")),
            ("api_version", json!("2024-10-21")),
            ("drop_params", json!(true)),
        ];
        for (field, value) in changes {
            let mut changed = base.clone();
            changed[field] = value;
            assert_ne!(material(changed), text, "{}", field);
        }
        assert!(cache_material(b"{\"model\": \"nosuch/x\", \"messages\": []}").is_err());
    }

    #[test]
    fn cache_material_of_embeddings_and_responses() {
        let one = material(json!({
            "model": "openai/text-embedding-3-small", "operation": "embedding", "input": ["a"],
            "params": {"dimensions": 8, "encoding_format": "base64"},
        }));
        assert!(one.contains(r#""base64":true,"#) && one.contains(r#""dimensions":8,"#));
        assert!(one.contains(r#""input":["a"]"#));
        let string = material(json!({
            "model": "openai/text-embedding-3-small", "operation": "embedding", "input": "a",
            "params": {"dimensions": 8, "encoding_format": "base64"},
        }));
        assert_eq!(one, string);
        let responses = material(json!({
            "model": "openai/gpt-4o", "operation": "responses", "input": "hi",
        }));
        assert!(responses.contains(r#""input":"hi""#));
        assert!(responses.contains(r#""operation":"responses""#));
    }

    #[test]
    fn openai_request_with_params_and_additional_params() {
        let (request, body) = prepared(json!({
            "model": "openai/gpt-4o-mini",
            "messages": user("hi"),
            "stream": true,
            "params": {"temperature": 0.7, "max_tokens": 5, "top_p": 0.5},
            "additional_params": "{\"top_p\": 0.9, \"seed\": 1}",
        }))
        .unwrap();
        assert_eq!(request.url, "https://api.openai.com/v1/chat/completions");
        assert_eq!(request.auth.unwrap().env, "OPENAI_API_KEY");
        assert_eq!(request.headers["accept"], "text/event-stream");
        assert_eq!(body["model"], "gpt-4o-mini");
        assert_eq!(body["stream"], true);
        assert_eq!(body["top_p"], 0.9);
        assert_eq!(body["seed"], 1);
        assert!(String::from_utf8(request.body)
            .unwrap()
            .contains("\"temperature\":0.7"));
    }

    #[test]
    fn pass_through_bodies_name_the_messages_slot() {
        let messages = json!([{"role": "user", "content": "hi \u{e9}"}]);
        let (request, body) = prepared(json!({
            "model": "openai/gpt-x", "messages": messages, "params": {"temperature": 0.5},
        }))
        .unwrap();
        let (start, end) = request.messages_slot.unwrap();
        let text = String::from_utf8(request.body.clone()).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text[start..end]).unwrap(),
            messages
        );
        assert_eq!(body["temperature"], json!(0.5));
        let (replaced, _) = prepared(json!({
            "model": "openai/gpt-x", "messages": messages,
            "additional_params": {"messages": []},
        }))
        .unwrap();
        assert_eq!(replaced.messages_slot, None);
        let (anthropic, _) =
            prepared(json!({"model": "anthropic/claude", "messages": messages})).unwrap();
        assert_eq!(anthropic.messages_slot, None);
    }

    #[test]
    fn model_names_keep_their_slashes() {
        let (_, body) = prepared(
            json!({"model": "openrouter/meta-llama/llama-3.1-70b", "messages": user("x")}),
        )
        .unwrap();
        assert_eq!(body["model"], "meta-llama/llama-3.1-70b");
    }

    #[test]
    fn bad_models_name_the_prefix_and_the_supported_list() {
        for (model, kind, needle) in [
            ("nope/x", ErrorKind::UnsupportedProvider, "\"nope\""),
            (
                "gpt-4o",
                ErrorKind::UnsupportedProvider,
                "no provider prefix",
            ),
            ("openai/", ErrorKind::InvalidRequest, "names no model"),
        ] {
            let error = prepared(json!({"model": model, "messages": user("x")})).unwrap_err();
            assert_eq!(error.kind, kind, "{}", model);
            assert!(error.message.contains(needle), "{}", error.message);
            if kind == ErrorKind::UnsupportedProvider {
                assert!(error.message.contains("openai, groq"), "{}", error.message);
            }
        }
        let error = prepared(json!({"model": 5, "messages": user("x")})).unwrap_err();
        assert!(error.message.contains("model must be a string"));
    }

    #[test]
    fn bad_additional_params_and_messages() {
        let call = |extra: Value| {
            prepared(
                json!({"model": "openai/m", "messages": user("x"), "additional_params": extra}),
            )
            .unwrap_err()
            .message
        };
        assert!(call(json!("{not json")).contains("not valid JSON"));
        assert!(call(json!("[1]")).contains("must be a JSON object, got an array"));
        assert!(call(json!(3)).contains("must be a JSON string"));
        let error = prepared(json!({"model": "openai/m", "messages": "hi"})).unwrap_err();
        assert!(error.message.contains("messages must be a list"));
    }

    #[test]
    fn roots_and_the_environment_reach_each_api() {
        let url = |model: &str, base: Value, env: Value| {
            prepare(
                json!({"model": model, "messages": user("x"), "base_url": base, "env": env})
                    .to_string()
                    .as_bytes(),
            )
            .unwrap()
            .url
        };
        let none = json!({});
        assert_eq!(
            url("anthropic/c", json!("http://h:4000"), none.clone()),
            "http://h:4000/v1/messages"
        );
        assert_eq!(
            url("anthropic/c", json!("http://h:4000/v1"), none.clone()),
            "http://h:4000/v1/messages"
        );
        assert_eq!(
            url(
                "anthropic/c",
                json!("http://h:4000/v1/messages"),
                none.clone()
            ),
            "http://h:4000/v1/messages"
        );
        assert_eq!(
            url(
                "anthropic/c",
                Value::Null,
                json!({"ANTHROPIC_BASE_URL": "http://proxy"})
            ),
            "http://proxy/v1/messages"
        );
        assert_eq!(
            url(
                "openai/m",
                Value::Null,
                json!({"OPENAI_API_BASE": "http://p/v1"})
            ),
            "http://p/v1/chat/completions"
        );
        assert_eq!(
            url(
                "openai/m",
                Value::Null,
                json!({"OPENAI_BASE_URL": "http://first/v1", "OPENAI_API_BASE": "http://p/v1"})
            ),
            "http://first/v1/chat/completions"
        );
        assert_eq!(
            url(
                "ollama/l",
                Value::Null,
                json!({"OLLAMA_HOST": "127.0.0.1:11434"})
            ),
            "http://127.0.0.1:11434/v1/chat/completions"
        );
        assert_eq!(
            url("ollama/l", json!("http://localhost:11434/"), none.clone()),
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(
            url("openai/m", json!("http://h?tenant=a"), none.clone()),
            "http://h/v1/chat/completions?tenant=a"
        );
        assert_eq!(
            url(
                "perplexity/s",
                json!("https://api.perplexity.ai"),
                none.clone()
            ),
            "https://api.perplexity.ai/chat/completions"
        );
        assert_eq!(
            url("gemini/g", json!("https://g.example"), none),
            "https://g.example/v1beta/models/g:generateContent"
        );
    }

    #[test]
    fn a_url_built_from_the_environment_is_refused_without_its_part() {
        let call = |env: Value| {
            prepare(json!({"model": "cloudflare/@cf/meta/llama-3.1-8b-instruct", "messages": user("x"), "env": env}).to_string().as_bytes())
        };
        let error = call(json!({})).unwrap_err();
        assert!(error
            .message
            .contains("cloudflare/ builds its URL from CLOUDFLARE_ACCOUNT_ID"));
        let request = call(json!({"CLOUDFLARE_ACCOUNT_ID": "0123abcd"})).unwrap();
        assert_eq!(
            request.url,
            "https://api.cloudflare.com/client/v4/accounts/0123abcd/ai/v1/chat/completions"
        );
        let error = call(json!({"CLOUDFLARE_ACCOUNT_ID": "acc/../1"})).unwrap_err();
        assert!(error
            .message
            .starts_with("CLOUDFLARE_ACCOUNT_ID \"acc/../1\" is not a Cloudflare account id"));
        let error = prepare(
            json!({"model": "databricks/m", "messages": user("x")})
                .to_string()
                .as_bytes(),
        )
        .unwrap_err();
        assert!(error
            .message
            .contains("needs base_url (or set DATABRICKS_API_BASE)"));
    }

    #[test]
    fn base_url_precedence_and_requirement() {
        let call = |base: Value, env: Value| {
            prepare(json!({"model": "hosted_vllm/m", "messages": user("x"), "base_url": base, "env": env}).to_string().as_bytes())
        };
        let error = call(Value::Null, json!({})).unwrap_err();
        assert!(error
            .message
            .contains("needs base_url (or set HOSTED_VLLM_API_BASE)"));
        let from_env = call(
            Value::Null,
            json!({"HOSTED_VLLM_API_BASE": "http://h:8000/v1"}),
        )
        .unwrap();
        assert_eq!(from_env.url, "http://h:8000/v1/chat/completions");
        let given = call(
            json!("http://g/v1/chat/completions"),
            json!({"HOSTED_VLLM_API_BASE": "http://h"}),
        )
        .unwrap();
        assert_eq!(given.url, "http://g/v1/chat/completions");
        assert!(call(json!("ftp://x"), json!({})).is_err());
    }

    #[test]
    fn context_round_trips_and_describe_lists_everything() {
        let request = prepare(
            json!({"model": "mock/echo", "messages": user("x")})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        let context = parse_context(request.context.as_bytes()).unwrap();
        assert_eq!(context.reader, Reader::OpenAi);
        let described: Value = serde_json::from_str(&describe()).unwrap();
        assert_eq!(
            described["error_kinds"].as_array().unwrap().len(),
            ErrorKind::ALL.len()
        );
        assert_eq!(
            described["providers"].as_array().unwrap().len(),
            providers::PROVIDERS.len()
        );
    }

    #[test]
    fn mock_answers_decode_through_the_openai_stream() {
        let request = prepare(
            json!({"model": "mock/echo", "messages": user("a b c"), "stream": true})
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        let reply = providers::mock::reply(&request.body).unwrap();
        let mut stream = open_stream(request.context.as_bytes()).unwrap();
        let batch: Value = serde_json::from_str(&stream.feed(&reply.body)).unwrap();
        assert_eq!(batch["done"], true);
        assert_eq!(batch["chunks"].as_array().unwrap().len(), 5);
        let finished: Value = serde_json::from_str(&stream.finish()).unwrap();
        assert!(finished.get("error").is_none());
    }

    #[test]
    fn a_stream_without_its_terminator_is_reported() {
        let mut stream = open_stream(br#"{"protocol": "openai"}"#).unwrap();
        stream.feed(b"data: {\"a\": 1}\n\n");
        let finished: Value = serde_json::from_str(&stream.finish()).unwrap();
        assert_eq!(finished["error"]["kind"], "stream_incomplete");
    }

    #[test]
    fn the_head_is_the_one_abi_rs_documents() {
        let documented: Vec<String> = include_str!("abi.rs")
            .split("# The prepare head")
            .nth(1)
            .unwrap()
            .lines()
            .take_while(|line| !line.starts_with("//! # "))
            .filter_map(|line| line.strip_prefix("//! * `"))
            .map(|line| line.split('`').next().unwrap().to_string())
            .collect();
        let (request, _) = prepared(json!({"model": "openai/m", "messages": user("x")})).unwrap();
        let chat = serde_json::to_value(&request).unwrap();
        assert!(chat.get("messages_slot").is_some());
        let (request, _) = embedded(json!({"model": "openai/m", "input": "x"})).unwrap();
        let embedding = serde_json::to_value(&request).unwrap();
        assert!(embedding.get("max_inputs").is_some());
        // Every member of either head is documented, in order, and nothing else is.
        let mut members: Vec<String> = Vec::new();
        for name in documented.iter() {
            if chat.get(name).is_some() || embedding.get(name).is_some() {
                members.push(name.clone());
            }
        }
        assert_eq!(documented, members);
        for head in [&chat, &embedding] {
            let keys: Vec<&String> = head.as_object().unwrap().keys().collect();
            let known: Vec<&String> = documented
                .iter()
                .filter(|d| head.get(*d).is_some())
                .collect();
            assert_eq!(keys, known);
        }
    }

    /// Prepares an embedding call: `call` with `"operation": "embedding"`.
    fn embedded(mut call: Value) -> Result<(HttpRequest, Value), CoreError> {
        call["operation"] = json!("embedding");
        prepared(call)
    }

    #[test]
    fn openai_embedding_requests_carry_the_fields_as_the_api_takes_them() {
        let (request, body) = embedded(json!({
            "model": "openai/text-embedding-3-small", "input": ["a", "b"],
            "params": {"dimensions": 256, "user": "u-1", "encoding_format": "float", "input_type": "query", "seed": null},
        }))
        .unwrap();
        assert_eq!(request.url, "https://api.openai.com/v1/embeddings");
        assert_eq!(
            body,
            json!({"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 256,
                   "encoding_format": "base64", "user": "u-1"})
        );
        assert_eq!((request.inputs, request.max_inputs), (Some(2), Some(2048)));
        assert!(!request.passthrough);
        assert_eq!(request.messages_slot, None);
        let context = parse_context(request.context.as_bytes()).unwrap();
        assert_eq!(context.operation, Operation::Embedding);
        assert_eq!(
            (context.inputs, context.dimensions, context.base64),
            (2, Some(256), false)
        );
        assert!(!request.context.contains("nonce"));
        // One string, one list of token ids, lists of them: always a list of inputs.
        for (input, sent) in [
            (json!("hi"), json!(["hi"])),
            (json!([1, 2, 3]), json!([[1, 2, 3]])),
            (json!([[1], [2, 3]]), json!([[1], [2, 3]])),
        ] {
            let (_, body) = embedded(json!({"model": "openai/m", "input": input})).unwrap();
            assert_eq!(body["input"], sent);
        }
        let (_, body) = embedded(
            json!({"model": "azure/d", "input": [7], "base_url": "https://r.openai.azure.com"}),
        )
        .unwrap();
        assert_eq!(body["input"], json!([[7]]));
    }

    #[test]
    fn embedding_inputs_and_fields_are_refused_naming_them() {
        for (input, needle) in [
            (json!([]), "input is an empty list"),
            (json!(""), "input[0] is an empty string"),
            (json!(["a", ""]), "input[1] is an empty string"),
            (json!([1.5]), "input[0] must be a list of token ids"),
            (json!([[1, -2]]), "input[0] must be a list of token ids"),
            (json!([[]]), "input[0] is an empty list of token ids"),
            (
                json!([true]),
                "input[0] must be a string or a list of token ids",
            ),
            (json!(["a", [1]]), "mixes strings and token ids"),
            (json!({"a": 1}), "input must be a string"),
            (Value::Null, "input must be a string"),
        ] {
            let error = embedded(json!({"model": "openai/m", "input": input})).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidRequest);
            assert!(
                error.message.contains(needle),
                "{}: {}",
                needle,
                error.message
            );
        }
        for (params, needle) in [
            (
                json!({"dimensions": 0}),
                "dimensions must be a whole number",
            ),
            (
                json!({"dimensions": "256"}),
                "dimensions must be a whole number",
            ),
            (
                json!({"encoding_format": "bytes"}),
                "encoding_format must be",
            ),
            (json!({"input_type": 3}), "input_type must be"),
        ] {
            let error =
                embedded(json!({"model": "openai/m", "input": "x", "params": params})).unwrap_err();
            assert!(
                error.message.contains(needle),
                "{}: {}",
                needle,
                error.message
            );
        }
        let error = embedded(json!({"model": "together_ai/m", "input": [[1, 2]]})).unwrap_err();
        assert!(error
            .message
            .contains("together_ai/ takes text input only: input[0] is a list of token ids"));
        let error =
            embedded(json!({"model": "openai/m", "input": "x", "stream": true})).unwrap_err();
        assert!(error.message.contains("no streams"));
        let error = embedded(json!({"model": "openai/m", "messages": user("x")})).unwrap_err();
        assert!(error.message.contains("takes input, not messages"));
        let error = prepared(json!({"model": "openai/m", "messages": user("x"), "input": "x"}))
            .unwrap_err();
        assert!(error.message.contains("a chat call takes messages"));
    }

    #[test]
    fn rows_refuse_operations_they_do_not_serve_before_anything_else() {
        let error = embedded(json!({"model": "groq/m", "input": []})).unwrap_err();
        assert_eq!(error.kind, ErrorKind::UnsupportedProvider);
        assert!(error
            .message
            .starts_with("openai-compatible row groq/ has no embeddings endpoint; providers with embeddings: openai, mistral,"),
            "{}", error.message);
        let error = embedded(json!({"model": "anthropic/c", "input": "x"})).unwrap_err();
        assert!(error
            .message
            .starts_with("anthropic/ has no embeddings endpoint"));
        let error =
            prepared(json!({"model": "voyage/voyage-3.5", "messages": user("x")})).unwrap_err();
        assert_eq!(error.kind, ErrorKind::UnsupportedProvider);
        assert_eq!(
            error.message,
            "voyage/ has no chat endpoint: it serves embeddings only"
        );
        let described: Value = serde_json::from_str(&describe()).unwrap();
        let operations = |prefix: &str| {
            described["providers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["prefix"] == prefix)
                .unwrap()["operations"]
                .clone()
        };
        assert_eq!(
            operations("openai"),
            json!(["chat", "embedding", "responses"])
        );
        assert_eq!(
            operations("gemini"),
            json!(["chat", "embedding", "responses", "count_tokens"])
        );
        assert_eq!(
            operations("anthropic"),
            json!(["chat", "responses", "count_tokens"])
        );
        assert_eq!(operations("groq"), json!(["chat", "responses"]));
        assert_eq!(operations("voyage"), json!(["embedding"]));
    }

    fn counted(call: Value) -> Result<(HttpRequest, Value), CoreError> {
        let mut call = call;
        call["operation"] = json!("count_tokens");
        prepared(call)
    }

    #[test]
    fn count_tokens_is_refused_where_there_is_no_counting_endpoint_and_for_streams() {
        for model in ["openai/gpt-4o", "groq/m", "azure/d", "voyage/voyage-3.5"] {
            let error = counted(
                json!({"model": model, "messages": user("x"), "base_url": "https://h.example"}),
            )
            .unwrap_err();
            assert_eq!(error.kind, ErrorKind::UnsupportedProvider, "{}", model);
            assert!(
                error.message.ends_with(
                    "has no token-counting endpoint; providers with one: anthropic, gemini, bedrock, vertex_ai"
                ),
                "{}",
                error.message
            );
        }
        let error = counted(json!({"model": "anthropic/c", "messages": user("x"), "stream": true}))
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidRequest);
        assert!(error.message.contains("no streams"), "{}", error.message);
        let error = counted(json!({"model": "anthropic/c", "input": "x"})).unwrap_err();
        assert!(error.message.contains("a chat call takes messages"));
    }

    #[test]
    fn count_tokens_calls_are_built_and_read_per_provider() {
        let env = json!({"VERTEXAI_PROJECT": "p", "AWS_REGION": "us-east-1"});
        for (model, path, answer) in [
            (
                "anthropic/claude-sonnet-4-5",
                "https://api.anthropic.com/v1/messages/count_tokens",
                json!({"input_tokens": 12}),
            ),
            (
                "gemini/gemini-2.5-flash",
                "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens",
                json!({"totalTokens": 12}),
            ),
            (
                "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
                "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/count-tokens",
                json!({"inputTokens": 12}),
            ),
            (
                "vertex_ai/gemini-2.5-flash",
                "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens",
                json!({"totalTokens": 12, "totalBillableCharacters": 40}),
            ),
            (
                "vertex_ai/claude-sonnet-4-5@20250929",
                "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/anthropic/models/count-tokens:rawPredict",
                json!({"input_tokens": 12}),
            ),
        ] {
            let (request, _) = counted(json!({"model": model, "messages": user("x"), "env": env,
                "params": {"max_tokens": 10, "temperature": 0.5}}))
            .unwrap();
            assert_eq!(request.url, path);
            assert!(!request.passthrough);
            let context: Value = serde_json::from_str(&request.context).unwrap();
            assert_eq!(context["operation"], "count_tokens", "{}", model);
            let read = parse_response(
                request.context.as_bytes(),
                200,
                answer.to_string().as_bytes(),
            )
            .unwrap();
            assert_eq!(read, r#"{"input_tokens":12}"#, "{}", model);
            let error = parse_response(
                request.context.as_bytes(),
                429,
                br#"{"error": {"message": "slow down"}, "message": "slow down"}"#,
            )
            .unwrap_err();
            assert_eq!(error.status, Some(429), "{}", model);
            assert_eq!(error.provider.as_deref(), Some(model.split('/').next().unwrap()));
            let mut stream = open_stream(request.context.as_bytes()).unwrap();
            let fed: Value = serde_json::from_str(&stream.feed(b"data: {}\n\n")).unwrap();
            assert!(fed["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no streams"));
        }
    }

    #[test]
    fn each_request_carries_at_most_its_providers_limit_of_inputs() {
        let many: Vec<String> = (0..2100).map(|i| format!("t{}", i)).collect();
        for (model, extra, max) in [
            ("openai/m", json!({}), 2048),
            ("dashscope/text-embedding-v4", json!({}), 10),
            ("cohere/embed-v4.0", json!({}), 96),
            ("voyage/voyage-3.5", json!({}), 1000),
            (
                "cloudflare/@cf/baai/bge-m3",
                json!({"env": {"CLOUDFLARE_ACCOUNT_ID": "a1"}}),
                100,
            ),
            ("mock/e", json!({}), 2048),
        ] {
            let mut call = json!({"model": model, "input": many});
            call.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let (request, body) = embedded(call).unwrap();
            assert_eq!(
                (request.inputs, request.max_inputs),
                (Some(max), Some(max)),
                "{}",
                model
            );
            assert_eq!(body["input"].as_array().unwrap().len(), max);
            assert_eq!(body["input"][max - 1], format!("t{}", max - 1));
            let context = parse_context(request.context.as_bytes()).unwrap();
            assert_eq!(context.inputs, max);
        }
        let (request, _) = embedded(json!({"model": "dashscope/m", "input": ["a", "b"]})).unwrap();
        assert_eq!((request.inputs, request.max_inputs), (Some(2), Some(10)));
    }

    #[test]
    fn base64_is_asked_for_only_where_honoured_and_float_never_sent() {
        let sent = |model: &str, params: Value| {
            let mut call = json!({"model": model, "input": "x", "params": params});
            if model.starts_with("hosted_vllm") {
                call["base_url"] = json!("http://h:8000/v1");
            }
            embedded(call).unwrap().1.get("encoding_format").cloned()
        };
        let base64 = Some(json!("base64"));
        for model in [
            "openai/m",
            "mistral/mistral-embed",
            "openrouter/o/m",
            "deepinfra/m",
            "voyage/voyage-3.5",
            "mock/m",
        ] {
            assert_eq!(sent(model, json!({})), base64, "{}", model);
            assert_eq!(
                sent(model, json!({"encoding_format": "float"})),
                base64,
                "{}",
                model
            );
        }
        for model in [
            "ollama/m",
            "lm_studio/m",
            "hosted_vllm/m",
            "llamafile/m",
            "together_ai/m",
            "cohere/m",
        ] {
            assert_eq!(
                sent(model, json!({"encoding_format": "base64"})),
                None,
                "{}",
                model
            );
            assert_eq!(
                sent(model, json!({"encoding_format": "float"})),
                None,
                "{}",
                model
            );
        }
        // Voyage's base64 of int8 or bits is not float32: then numbers are asked for.
        assert_eq!(
            sent("voyage/voyage-3.5", json!({"output_dtype": "int8"})),
            None
        );
        // The caller's additional_params win.
        let (_, body) = embedded(json!({"model": "openai/m", "input": "x", "additional_params": {"encoding_format": "float"}})).unwrap();
        assert_eq!(body["encoding_format"], "float");
        let (request, _) = embedded(
            json!({"model": "ollama/m", "input": "x", "params": {"encoding_format": "base64"}}),
        )
        .unwrap();
        assert!(parse_context(request.context.as_bytes()).unwrap().base64);
    }

    #[test]
    fn input_types_and_dimensions_in_each_rows_fields() {
        let body = |model: &str, params: Value| {
            embedded(json!({"model": model, "input": "x", "params": params})).map(|(_, body)| body)
        };
        let nim = "nvidia_nim/nvidia/nv-embedqa-e5-v5";
        assert_eq!(body(nim, json!({})).unwrap()["input_type"], "passage");
        assert_eq!(
            body(nim, json!({"input_type": "query"})).unwrap()["input_type"],
            "query"
        );
        assert_eq!(
            body(nim, json!({"input_type": "document"})).unwrap()["input_type"],
            "passage"
        );
        let voyage = body(
            "voyage/voyage-3.5",
            json!({"input_type": "document", "dimensions": 512}),
        )
        .unwrap();
        assert_eq!(voyage["input_type"], "document");
        assert_eq!(voyage["output_dimension"], 512);
        assert!(voyage.get("dimensions").is_none());
        assert!(body("voyage/voyage-3.5", json!({}))
            .unwrap()
            .get("input_type")
            .is_none());
        assert_eq!(
            body("openrouter/m", json!({"input_type": "search_query"})).unwrap()["input_type"],
            "search_query"
        );
        assert!(body("openai/m", json!({"input_type": "query"}))
            .unwrap()
            .get("input_type")
            .is_none());
        assert_eq!(
            body("mistral/codestral-embed", json!({"dimensions": 256})).unwrap()
                ["output_dimension"],
            256
        );
        let error = body("openai/text-embedding-ada-002", json!({"dimensions": 256})).unwrap_err();
        assert_eq!(error.param.as_deref(), Some("dimensions"));
        assert!(error
            .message
            .contains("openai/text-embedding-ada-002 cannot shorten its vectors"));
        let (request, body) = embedded(
            json!({"model": "openai/text-embedding-ada-002", "input": "x",
            "params": {"dimensions": 256}, "drop_params": true}),
        )
        .unwrap();
        assert!(body.get("dimensions").is_none());
        assert_eq!(
            parse_context(request.context.as_bytes())
                .unwrap()
                .dimensions,
            None
        );
    }

    #[test]
    fn embeddings_urls_follow_each_rows_base() {
        let url = |model: &str, extra: Value| {
            let mut call = json!({"model": model, "input": "x"});
            call.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            embedded(call).unwrap().0.url
        };
        let none = json!({});
        assert_eq!(
            url("ollama/m", none.clone()),
            "http://localhost:11434/v1/embeddings"
        );
        assert_eq!(
            url("deepinfra/m", none.clone()),
            "https://api.deepinfra.com/v1/openai/embeddings"
        );
        assert_eq!(
            url("voyage/voyage-3.5", none.clone()),
            "https://api.voyageai.com/v1/embeddings"
        );
        assert_eq!(
            url(
                "voyage/v",
                json!({"env": {"VOYAGE_API_BASE": "http://v:1"}})
            ),
            "http://v:1/v1/embeddings"
        );
        assert_eq!(
            url("cohere/embed-v4.0", none.clone()),
            "https://api.cohere.ai/compatibility/v1/embeddings"
        );
        for base in [
            "http://h:8/v1",
            "http://h:8/v1/",
            "http://h:8/v1/embeddings",
            "http://h:8/v1/chat/completions",
        ] {
            assert_eq!(
                url("openai/m", json!({"base_url": base})),
                "http://h:8/v1/embeddings",
                "{}",
                base
            );
        }
        assert_eq!(
            url("openai/m", json!({"base_url": "http://h:8/v1?k=1"})),
            "http://h:8/v1/embeddings?k=1"
        );
        assert_eq!(
            url(
                "azure/emb",
                json!({"base_url": "https://r.openai.azure.com", "api_version": "2024-10-21"})
            ),
            "https://r.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21"
        );
    }

    /// Reads `answer` as the answer to an embedding call prepared from `call`.
    fn read_embeddings(call: Value, status: u16, answer: &str) -> Result<Value, CoreError> {
        let (request, _) = embedded(call)?;
        let read = parse_response(request.context.as_bytes(), status, answer.as_bytes())?;
        Ok(serde_json::from_str(&read).unwrap())
    }

    #[test]
    fn openai_compatible_answers_in_every_shape_are_read_into_openais() {
        let two = json!({"model": "openai/text-embedding-3-small", "input": ["a", "b"]});
        let answer = read_embeddings(
            two.clone(),
            200,
            r#"{"object": "list", "data": [
            {"object": "embedding", "index": 1, "embedding": "AACAPwAAAEA="},
            {"object": "embedding", "index": 0, "embedding": "AAAAPwAAgD8="}],
            "model": "text-embedding-3-small", "usage": {"prompt_tokens": 2, "total_tokens": 2}}"#,
        )
        .unwrap();
        assert_eq!(
            answer["data"][0],
            json!({"object": "embedding", "index": 0, "embedding": "AAAAPwAAgD8="})
        );
        assert_eq!(answer["data"][1]["embedding"], "AACAPwAAAEA=");
        assert_eq!(
            answer["usage"],
            json!({"prompt_tokens": 2, "total_tokens": 2})
        );
        for bare in [
            r#"[{"index": 0, "embedding": [0.5, 1]}, {"index": 1, "embedding": [[1, 2]]}]"#,
            r#"[[0.5, 1], [1, 2]]"#,
        ] {
            let answer = read_embeddings(two.clone(), 200, bare).unwrap();
            assert_eq!(answer["data"][1]["embedding"], json!([1, 2]), "{}", bare);
            assert_eq!(answer["model"], "text-embedding-3-small");
            assert_eq!(
                answer["usage"],
                json!({"prompt_tokens": 0, "total_tokens": 0})
            );
        }
        let voyage = json!({"model": "voyage/voyage-3.5", "input": "a", "params": {"encoding_format": "base64"}});
        let answer = read_embeddings(voyage, 200, r#"{"object": "list", "data": [{"object": "embedding", "embedding": [0.5, 1], "index": 0}], "model": "voyage-3.5", "usage": {"total_tokens": 10}}"#).unwrap();
        assert_eq!(answer["data"][0]["embedding"], "AAAAPwAAgD8=");
        assert_eq!(
            answer["usage"],
            json!({"prompt_tokens": 10, "total_tokens": 10})
        );
        for (status, body, kind, needle) in [
            (
                200,
                r#"[[0.5, 1]]"#,
                ErrorKind::InvalidResponse,
                "1 vectors for the 2 inputs",
            ),
            (
                200,
                r#"[[0.5, NaN], [1, 2]]"#,
                ErrorKind::InvalidResponse,
                "NaN and Infinity",
            ),
            (
                200,
                r#"[[0.5, 1], [1]]"#,
                ErrorKind::InvalidResponse,
                "differ in length",
            ),
            (
                200,
                r#"[{"index": 0, "embedding": [1]}, {"index": 0, "embedding": [2]}]"#,
                ErrorKind::InvalidResponse,
                "numbers its vectors wrong",
            ),
            (
                200,
                r#"[{"index": 0, "embedding": [[1], [2]]}, {"index": 1, "embedding": [2]}]"#,
                ErrorKind::InvalidResponse,
                "a vector per token",
            ),
            (
                200,
                r#"{"data": "x"}"#,
                ErrorKind::InvalidResponse,
                "not what its API sends",
            ),
            (
                200,
                r#"{"error": {"message": "hidden", "type": "invalid_request_error"}}"#,
                ErrorKind::ApiError,
                "hidden",
            ),
            (
                400,
                r#"{"error": {"message": "Invalid value for 'encoding_format'", "type": "invalid_request_error"}}"#,
                ErrorKind::ApiError,
                "encoding_format",
            ),
            (
                413,
                r#"{"error": {"message": "This model's maximum context length is 8192 tokens"}}"#,
                ErrorKind::ContextWindowExceeded,
                "8192",
            ),
        ] {
            let error = read_embeddings(two.clone(), status, body).unwrap_err();
            assert_eq!(error.kind, kind, "{}", body);
            assert!(
                error.message.contains(needle),
                "{}: {}",
                needle,
                error.message
            );
            assert_eq!(error.provider.as_deref(), Some("openai"));
        }
        let dims = json!({"model": "openai/m", "input": "a", "params": {"dimensions": 3}});
        let error = read_embeddings(dims, 200, r#"{"data": [{"embedding": [1, 2]}]}"#).unwrap_err();
        assert!(error
            .message
            .contains("dimensions: asked for 3, the provider sent vectors of 2"));
    }

    #[test]
    fn mock_embeddings_round_trip_through_the_core() {
        let answer = |call: Value| {
            let (request, _) = embedded(call).unwrap();
            let reply = providers::mock::reply(&request.body).unwrap();
            let read = parse_response(request.context.as_bytes(), 200, &reply.body).unwrap();
            serde_json::from_str::<Value>(&read).unwrap()
        };
        let answer = answer(
            json!({"model": "mock/e", "input": ["hello world", "x"], "params": {"dimensions": 4}}),
        );
        assert_eq!(answer["data"].as_array().unwrap().len(), 2);
        assert_eq!(answer["model"], "e");
        assert_eq!(answer["usage"]["prompt_tokens"], 3);
        let vector =
            providers::vectors::decode(answer["data"][1]["embedding"].as_str().unwrap()).unwrap();
        assert_eq!(vector.len(), 16);
        let error = parse_response(
            br#"{"reader": "openai", "operation": "embedding"}"#,
            200,
            b"",
        )
        .unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidResponse);
        let mut stream = open_stream(br#"{"reader": "openai", "operation": "embedding"}"#).unwrap();
        let batch: Value = serde_json::from_str(&stream.feed(b"data: {}\n\n")).unwrap();
        assert!(batch["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no streams"));
    }

    /// The URL of a call, or the message of its error.
    fn url_of(model: &str, extra: Value) -> Result<String, String> {
        let mut call = json!({"model": model, "messages": user("x")});
        call.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        prepare(call.to_string().as_bytes())
            .map(|request| request.url)
            .map_err(|error| {
                assert_eq!(error.kind, ErrorKind::InvalidRequest, "{}", error.message);
                error.message
            })
    }

    #[test]
    fn settings_that_steer_the_request_are_checked_from_every_source() {
        let vertex = |env: Value| url_of("vertex_ai/gemini-2.5-flash", json!({"env": env}));
        let project = json!({"VERTEXAI_PROJECT": "p", "VERTEXAI_LOCATION": "evil.example#"});
        // Once: https://evil.example#-aiplatform.googleapis.com/..., the token sent there.
        assert!(vertex(project).unwrap_err().starts_with("vertex_location "));
        let project = json!({"VERTEXAI_PROJECT": "p/../q", "VERTEXAI_LOCATION": "global"});
        assert!(vertex(project).unwrap_err().starts_with("vertex_project "));
        let fine = json!({"VERTEXAI_PROJECT": "example.com:p", "VERTEXAI_LOCATION": "us-east5"});
        assert_eq!(
            vertex(fine).unwrap(),
            "https://us-east5-aiplatform.googleapis.com/v1/projects/example.com:p/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent"
        );
        for extra in [
            json!({"env": {"AWS_REGION": "us-east-1\r\nX-Injected: 1"}}),
            json!({"env": {"AWS_REGION": "us east 1"}}),
            // Not in the URL, but in the signature the host makes for it.
            json!({"env": {"AWS_REGION": "evil.example#"}, "base_url": "http://127.0.0.1:1"}),
        ] {
            let error = url_of("bedrock/m", extra).unwrap_err();
            assert!(error.starts_with("aws_region_name "), "{}", error);
        }
        assert_eq!(
            url_of("bedrock/m", json!({"env": {"AWS_REGION": "us-gov-west-1"}})).unwrap(),
            "https://bedrock-runtime.us-gov-west-1.amazonaws.com/model/m/converse"
        );
        let azure = |extra: Value| {
            let mut extra = extra;
            extra["base_url"] = json!("https://r.openai.azure.com");
            url_of("azure/d", extra)
        };
        for extra in [
            json!({"api_version": "2024-10-21&x=1"}),
            json!({"env": {"AZURE_API_VERSION": "2024-10-21 "}}),
        ] {
            assert!(azure(extra)
                .unwrap_err()
                .starts_with("api_version (or AZURE_API_VERSION) "));
        }
        // The caller's api_version wins, and an unused variable is not checked.
        let chosen =
            json!({"api_version": "2025-01-01-preview", "env": {"AZURE_API_VERSION": "#"}});
        assert!(azure(chosen)
            .unwrap()
            .ends_with("?api-version=2025-01-01-preview"));
    }

    #[test]
    fn model_names_stay_one_segment_of_the_path() {
        let vertex = json!({"env": {"VERTEXAI_PROJECT": "p"}});
        let azure = json!({"base_url": "https://r.openai.azure.com", "api_version": "2024-10-21"});
        let none = json!({});
        for (model, extra) in [
            // Once: posted to /v1/projects/p/x:generateContent, /admin/chat/completions, /converse.
            ("vertex_ai/../../../../../x", &vertex),
            ("vertex_ai/claude-x/../../y", &vertex),
            ("azure/../../admin", &azure),
            ("azure/.", &azure),
            ("gemini/../x", &none),
            ("gemini/models/..", &none),
            ("gemini/models/", &none),
            ("bedrock/..", &json!({"env": {"AWS_REGION": "us-east-1"}})),
        ] {
            let error = url_of(model, extra.clone()).unwrap_err();
            assert!(error.starts_with("model "), "{}: {}", model, error);
        }
        for (model, extra, path) in [
            (
                "azure/d?x=1#y",
                &azure,
                "/openai/deployments/d%3Fx%3D1%23y/chat/completions?api-version=2024-10-21",
            ),
            (
                "azure/d\r\ne",
                &azure,
                "/openai/deployments/d%0D%0Ae/chat/completions?api-version=2024-10-21",
            ),
            (
                "azure/org/d 1",
                &azure,
                "/openai/deployments/org/d%201/chat/completions?api-version=2024-10-21",
            ),
            ("gemini/m x\u{fc}", &none, "/v1beta/models/m%20x%C3%BC:generateContent"),
            (
                "bedrock/arn:aws:bedrock:us-east-1:1:inference-profile/us.m-v1:0",
                &json!({"env": {"AWS_REGION": "us-east-1"}}),
                "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.m-v1%3A0/converse",
            ),
        ] {
            let url = url_of(model, extra.clone()).unwrap();
            assert!(url.ends_with(path), "{}: {}", model, url);
        }
    }

    #[test]
    fn base_urls_are_sent_encoded_and_refused_naming_their_source() {
        let base =
            |base: &str, env: Value| url_of("openai/m", json!({"base_url": base, "env": env}));
        assert_eq!(
            base("http://127.0.0.1:8/a b/v1?q=\u{fc}", json!({})).unwrap(),
            "http://127.0.0.1:8/a%20b/v1/chat/completions?q=%C3%BC"
        );
        assert!(base("http://h/v1\r\nX: 1", json!({}))
            .unwrap_err()
            .starts_with("base_url has a control character"));
        let from_env = json!({"OPENAI_BASE_URL": "http://h/v1\n"});
        assert!(base("", from_env)
            .unwrap_err()
            .starts_with("OPENAI_BASE_URL has a control character"));
        let ollama = url_of(
            "ollama/l",
            json!({"env": {"OLLAMA_HOST": "127.0.0.1 :11434"}}),
        );
        assert!(ollama.unwrap_err().starts_with("OLLAMA_HOST has host"));
        let gemini = url_of("gemini/m", json!({"base_url": "https://g.example/v1beta#"}));
        assert!(gemini.unwrap_err().starts_with("base_url has a fragment"));
        let long = url_of(&format!("gemini/{}", "x".repeat(20000)), json!({}));
        assert!(long
            .unwrap_err()
            .contains("more than the 16384 ritellm sends"));
    }

    #[test]
    fn input_after_the_end_is_not_even_decoded() {
        let context = br#"{"reader": "openai", "limits": {"max_event_bytes": 64}}"#;
        let mut stream = open_stream(context).unwrap();
        let long_line = format!("data: [DONE]\n\n{}", "x".repeat(100));
        let batch: Value = serde_json::from_str(&stream.feed(long_line.as_bytes())).unwrap();
        assert_eq!(batch, json!({"chunks": [], "done": true}));
    }

    #[test]
    fn readers_can_be_named_as_older_hosts_did() {
        let old = parse_context(br#"{"protocol": "raw_sse"}"#).unwrap();
        let new = parse_context(br#"{"reader": "raw_sse"}"#).unwrap();
        assert_eq!((old.reader, new.reader), (Reader::RawSse, Reader::RawSse));
        let error = parse_response(br#"{"reader": "raw_sse"}"#, 200, b"{}").unwrap_err();
        assert!(error.message.contains("streams only"), "{}", error.message);
        assert!(parse_context(br#"{"reader": "vertex_ai"}"#).is_err());
    }

    #[test]
    fn only_readers_that_invent_ids_keep_the_nonce() {
        let context = |model: &str, nonce: &str| {
            let request = prepare(
                json!({"model": model, "messages": user("x"), "nonce": nonce, "created": 5})
                    .to_string()
                    .as_bytes(),
            )
            .unwrap();
            request.context
        };
        for model in ["openai/m", "anthropic/c"] {
            let first = context(model, "0123456789abcdef");
            assert_eq!(first, context(model, "fedcba9876543210"));
            assert!(!first.contains("nonce"), "{}", first);
        }
        let gemini = parse_context(context("gemini/g", "0123456789abcdef").as_bytes()).unwrap();
        assert_eq!(gemini.nonce, "0123456789abcdef");
        let vertex = |model: &str| {
            let request = prepare(
                json!({"model": model, "messages": user("x"), "nonce": "ab12",
                       "env": {"VERTEXAI_PROJECT": "p"}})
                .to_string()
                .as_bytes(),
            )
            .unwrap();
            parse_context(request.context.as_bytes()).unwrap()
        };
        assert_eq!(vertex("vertex_ai/gemini-2.5-flash").nonce, "ab12");
        assert_eq!(vertex("vertex_ai/claude-sonnet-4-5").nonce, "");
        let error = prepared(json!({"model": "gemini/g", "messages": user("x"), "nonce": "a b"}))
            .unwrap_err();
        assert!(error.message.contains("nonce"), "{}", error.message);
    }

    #[test]
    fn a_version_is_added_where_the_providers_clients_add_it() {
        let url = |model: &str, base: &str| {
            prepare(
                json!({"model": model, "messages": user("x"), "base_url": base})
                    .to_string()
                    .as_bytes(),
            )
            .unwrap()
            .url
        };
        for (base, expected) in [
            // LiteLLM proxy's drop-in base: a path prefix, as Anthropic's client takes it.
            (
                "http://h:4000/anthropic",
                "http://h:4000/anthropic/v1/messages",
            ),
            (
                "http://h:4000/anthropic/",
                "http://h:4000/anthropic/v1/messages",
            ),
            (
                "http://h:4000/anthropic?k=1",
                "http://h:4000/anthropic/v1/messages?k=1",
            ),
            (
                "https://gateway.example/v1/acc/gw/anthropic",
                "https://gateway.example/v1/acc/gw/anthropic/v1/messages",
            ),
            ("http://h:4000", "http://h:4000/v1/messages"),
            (
                "http://h:4000/anthropic/v1",
                "http://h:4000/anthropic/v1/messages",
            ),
            ("http://h:4000/v1/messages", "http://h:4000/v1/messages"),
            ("http://h:4000/v1/messages/", "http://h:4000/v1/messages"),
        ] {
            assert_eq!(url("anthropic/c", base), expected, "{}", base);
        }
        for (base, expected) in [
            (
                "http://h:4000/gemini",
                "http://h:4000/gemini/v1beta/models/g:generateContent",
            ),
            (
                "http://h:4000/gemini/v1beta",
                "http://h:4000/gemini/v1beta/models/g:generateContent",
            ),
            (
                "https://g.example/v1",
                "https://g.example/v1/models/g:generateContent",
            ),
            (
                "https://g.example/",
                "https://g.example/v1beta/models/g:generateContent",
            ),
        ] {
            assert_eq!(url("gemini/g", base), expected, "{}", base);
        }
        // The openai SDK adds nothing to a base with a path, and neither do OpenAI-compatible rows.
        assert_eq!(
            url("openai/m", "http://h:4000/openai"),
            "http://h:4000/openai/chat/completions"
        );
        assert_eq!(
            url("groq/m", "http://h:4000"),
            "http://h:4000/openai/v1/chat/completions"
        );
    }

    #[test]
    fn token_counts_from_the_wire_add_up_without_overflowing() {
        let max = u64::MAX;
        for (reader, body) in [
            (
                "anthropic",
                json!({"content": [], "usage": {"input_tokens": max, "cache_creation_input_tokens": max, "output_tokens": max}}),
            ),
            (
                "bedrock",
                json!({"output": {"message": {"content": []}}, "usage": {"inputTokens": max, "cacheReadInputTokens": max, "outputTokens": max}}),
            ),
            (
                "gemini",
                json!({"candidates": [], "usageMetadata": {"promptTokenCount": max, "candidatesTokenCount": max, "thoughtsTokenCount": max}}),
            ),
        ] {
            let context = json!({"reader": reader}).to_string();
            let answer = parse_response(context.as_bytes(), 200, body.to_string().as_bytes());
            let answer: Value = serde_json::from_str(&answer.unwrap()).unwrap();
            assert_eq!(answer["usage"]["total_tokens"], max, "{}", reader);
            assert_eq!(answer["usage"]["prompt_tokens"], max, "{}", reader);
        }
    }
}
