//! ritellm-core: the sans-I/O heart of ritellm.
//!
//! It turns a caller's OpenAI-shaped request into an HTTP request for one provider, and the
//! provider's answer (a JSON body, or server-sent-event bytes fed as they arrive) into
//! OpenAI-shaped chat.completion and chat.completion.chunk JSON. It does no I/O, reads no
//! clock or environment and never sees an API key: the host owns sockets, keys, retries and
//! time. This file is the whole pure API; `abi.rs` exposes it to WebAssembly hosts.

// Errors are the cold path and cross the boundary as JSON: boxing them would buy nothing.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub mod error;
pub mod eventstream;
pub mod limits;
pub mod providers;
pub mod sse;
pub mod stream;

#[cfg(target_arch = "wasm32")]
mod abi;

pub use error::{CoreError, ErrorKind};
pub use limits::Limits;
use providers::{Auth, Protocol, Provider};
pub use stream::ChunkStream;

/// What the host sends to [`prepare`]. Every field but `model` and `messages` is optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallInput {
    model: Value,
    messages: Value,
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
    #[serde(default)]
    limits: Limits,
    /// Leave out parameters the provider's protocol has no place for, instead of refusing them.
    #[serde(default)]
    drop_params: bool,
}

/// A validated call, handed to the provider's protocol module.
pub struct Call {
    pub provider: &'static Provider,
    /// The provider's own model name: the model string after its prefix.
    pub model: String,
    pub messages: Value,
    pub stream: bool,
    pub base_url: String,
    pub params: Map<String, Value>,
    pub additional_params: Map<String, Value>,
    pub env: BTreeMap<String, String>,
    pub api_version: Option<String>,
    pub drop_params: bool,
}

/// The HTTP request for the host to send. The host adds the key (see `auth`) and keeps
/// `context` to hand back with the answer.
#[derive(Debug, Serialize)]
pub struct HttpRequest {
    /// The provider prefix and the provider's model name, for the host's error messages.
    pub provider: &'static str,
    pub model: String,
    pub method: &'static str,
    pub url: String,
    pub headers: BTreeMap<&'static str, String>,
    pub auth: Option<Auth>,
    /// True when a success answer is already a chat.completion: the host may take a JSON
    /// object without an `error` member as it is, and needs `parse_response` only otherwise.
    pub passthrough: bool,
    /// Where the caller's messages, serialized as given, lie in `body` (start and end byte
    /// offsets), when the body is otherwise independent of them: the host may then reuse the
    /// rest of the body for another call alike, with its own messages in the slot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_slot: Option<(usize, usize)>,
    /// Opaque to the host: JSON text to pass to `parse_response` or `ChunkStream::new`.
    pub context: String,
    #[serde(skip)]
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn post_json(url: String, body: &Map<String, Value>, stream: bool) -> Self {
        let mut headers = BTreeMap::new();
        headers.insert("content-type", "application/json".to_string());
        let accept = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        headers.insert("accept", accept.to_string());
        HttpRequest {
            provider: "",
            model: String::new(),
            method: "POST",
            url,
            headers,
            auth: None,
            passthrough: false,
            messages_slot: None,
            context: String::new(),
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }
}

/// What the core needs to read one call's answer, carried by the host between calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub protocol: Protocol,
    /// Named in errors about the answer.
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub created: i64,
    /// The caller asked for a final usage chunk (`stream_options.include_usage`).
    #[serde(default)]
    pub include_usage: bool,
    /// The tool that carries a `response_format` answer, for providers without a JSON mode:
    /// its input becomes the message content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_tool: Option<String>,
    #[serde(default)]
    pub limits: Limits,
}

impl Context {
    /// Names this call's provider and model in `error`.
    pub fn tag(&self, mut error: CoreError) -> CoreError {
        if !self.provider.is_empty() {
            error.provider = Some(self.provider.clone());
            error.model = Some(self.model.clone());
        }
        error
    }
}

/// Validates a call and assembles its HTTP request.
pub fn prepare(input: &[u8]) -> Result<HttpRequest, CoreError> {
    let input: CallInput = serde_json::from_slice(input)
        .map_err(|e| CoreError::invalid_request(format!("malformed call: {}", e)))?;
    let (provider, model) = split_model(&input.model)?;
    let messages = match input.messages {
        Value::Array(list) if list.iter().all(Value::is_object) => Value::Array(list),
        _ => {
            return Err(CoreError::invalid_request(
                "messages must be a list of message objects, like [{\"role\": \"user\", \"content\": \"Hi\"}]",
            ))
        }
    };
    let base_url = base_url(provider, input.base_url, &input.env)?;
    let additional_params = match input.additional_params {
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
    let include_usage = input
        .params
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        == Some(&Value::Bool(true));
    let mut context = Context {
        protocol: provider.protocol,
        provider: provider.prefix.to_string(),
        model: model.clone(),
        created: input.created,
        include_usage,
        json_tool: None,
        limits: input.limits,
    };
    let passthrough = matches!(provider.protocol, Protocol::OpenAi | Protocol::Azure);
    let messages_json = if passthrough {
        serde_json::to_vec(&messages).ok()
    } else {
        None
    };
    let call = Call {
        provider,
        model,
        messages,
        stream: input.stream,
        base_url,
        params: input.params,
        additional_params,
        env: input.env,
        api_version: input.api_version,
        drop_params: input.drop_params,
    };
    let mut request = providers::build_request(call, &mut context)?;
    request.provider = provider.prefix;
    request.model = context.model.clone();
    request.auth = provider.auth;
    request.passthrough = passthrough;
    request.messages_slot =
        messages_json.and_then(|json| messages_slot(&request.body, &context.model, &json));
    request.context = serde_json::to_string(&context).unwrap_or_default();
    Ok(request)
}

/// The slot of the messages in a pass-through body, which `openai::body` writes second, right
/// after the model, as given; None if the body is not laid out so (`additional_params`
/// replaced them, say).
fn messages_slot(body: &[u8], model: &str, messages_json: &[u8]) -> Option<(usize, usize)> {
    let head = format!(
        "{{\"model\":{},\"messages\":",
        serde_json::to_string(model).ok()?
    );
    let end = head.len() + messages_json.len();
    let laid_out = body.starts_with(head.as_bytes()) && body.get(head.len()..end)? == messages_json;
    if laid_out {
        Some((head.len(), end))
    } else {
        None
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

/// The caller's `base_url`, else the provider's environment variable, else its default.
fn base_url(
    provider: &Provider,
    given: Option<String>,
    env: &BTreeMap<String, String>,
) -> Result<String, CoreError> {
    // A host from the environment may come without a scheme (OLLAMA_HOST=127.0.0.1:11434).
    let from_env = provider
        .base_url_env
        .iter()
        .find_map(|name| env.get(*name).filter(|url| !url.is_empty()))
        .map(|url| {
            if url.contains("://") {
                url.clone()
            } else {
                format!("http://{}", url)
            }
        });
    let url = match given.filter(|url| !url.is_empty()).or(from_env) {
        Some(url) => url,
        None => {
            if let Some(template) = provider.base_url.filter(|url| url.contains('{')) {
                return fill_template(provider, template, env);
            }
            return provider.base_url.map(str::to_string).ok_or_else(|| {
                let env_hint = match provider.base_url_env.first() {
                    Some(name) => format!(" (or set {})", name),
                    None => String::new(),
                };
                CoreError::invalid_request(format!(
                    "provider {:?} needs base_url{}",
                    provider.prefix, env_hint
                ))
            });
        }
    };
    let rest = match url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    {
        Some(rest) => rest,
        None => {
            return Err(CoreError::invalid_request(format!(
                "base_url must start with http:// or https://, got {:?}",
                url
            )))
        }
    };
    // A bare server root gets the API's path, as the providers' SDKs add it.
    let path = rest.split('?').next().unwrap_or("");
    let is_root = path.find('/').map_or(true, |slash| &path[slash..] == "/");
    if is_root && !provider.root_path.is_empty() {
        let (base, query) = providers::split_query(&url);
        let base = format!("{}{}", base.trim_end_matches('/'), provider.root_path);
        return Ok(providers::join_query(base, query));
    }
    Ok(url)
}

/// A default base URL with `{NAME}` parts, filled from those environment variables (listed in
/// the provider's `extra_env`); a missing one is refused before any I/O.
fn fill_template(
    provider: &Provider,
    template: &str,
    env: &BTreeMap<String, String>,
) -> Result<String, CoreError> {
    let mut url = template.to_string();
    for name in provider.extra_env {
        let part = format!("{{{}}}", name);
        if !url.contains(&part) {
            continue;
        }
        match env.get(*name).filter(|value| !value.is_empty()) {
            Some(value) => url = url.replace(&part, &providers::path_segment(value)),
            None => {
                return Err(CoreError::invalid_request(format!(
                    "{}/ builds its URL from {}: set it, or pass base_url",
                    provider.prefix, name
                )))
            }
        }
    }
    Ok(url)
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

/// Translates a complete answer with HTTP `status` into a chat.completion, as JSON text.
pub fn parse_response(context: &[u8], status: u16, body: &[u8]) -> Result<String, CoreError> {
    let context = parse_context(context)?;
    providers::parse_response(&context, status, body).map_err(|e| context.tag(e))
}

pub fn open_stream(context: &[u8]) -> Result<ChunkStream, CoreError> {
    Ok(ChunkStream::new(&parse_context(context)?))
}

/// What hosts need to know about this build, as JSON text.
pub fn describe() -> String {
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "error_kinds": ErrorKind::ALL,
        "providers": providers::PROVIDERS,
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
        let request = call(json!({"CLOUDFLARE_ACCOUNT_ID": "acc/1"})).unwrap();
        assert_eq!(
            request.url,
            "https://api.cloudflare.com/client/v4/accounts/acc%2F1/ai/v1/chat/completions"
        );
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
        assert_eq!(context.protocol, Protocol::OpenAi);
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
}
