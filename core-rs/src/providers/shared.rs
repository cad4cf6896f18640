//! Pieces shared by the protocols that translate: reading OpenAI-shaped input, and writing
//! OpenAI-shaped answers and chunks.

use serde_json::{json, Map, Value};

use crate::error::CoreError;
use crate::limits::check_depth;

/// Parameters people bring from providers' own APIs, and what ritellm calls them.
const OUR_NAMES: &[(&str, &str)] = &[
    ("max_output_tokens", "max_tokens"),
    ("max_tokens_to_sample", "max_tokens"),
    ("maxOutputTokens", "max_tokens"),
    ("stop_sequences", "stop"),
    ("stopSequences", "stop"),
    ("system", "a message with role \"system\""),
    ("system_instruction", "a message with role \"system\""),
    ("candidate_count", "n"),
    ("response_mime_type", "response_format"),
    ("response_schema", "response_format"),
    ("topP", "top_p"),
];

/// The request's body fields from keyword arguments, taken one by one by a protocol module.
/// Whatever it did not take is reported as unsupported rather than silently dropped.
pub struct Params {
    fields: Map<String, Value>,
    provider: &'static str,
}

impl Params {
    pub fn new(fields: Map<String, Value>, provider: &'static str) -> Self {
        Params { fields, provider }
    }

    /// Removes a field; a JSON `null` counts as absent.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.fields.remove(name).filter(|v| !v.is_null())
    }

    /// Moves each field `ours` that is present into `target`, named `theirs`.
    pub fn move_renamed(&mut self, names: &[(&str, &str)], target: &mut Map<String, Value>) {
        for (ours, theirs) in names {
            if let Some(value) = self.take(ours) {
                target.insert(theirs.to_string(), value);
            }
        }
    }

    /// Removes a field that may be one string or a list of them (like `stop`), as a list.
    pub fn take_list(&mut self, name: &str) -> Option<Value> {
        self.take(name).map(|value| match value {
            Value::String(one) => json!([one]),
            many => many,
        })
    }

    /// Fails naming every field nobody took, with ritellm's name for those it knows under
    /// another; with `drop` (the caller's `drop_params`), leaves them out instead.
    pub fn finish(self, drop: bool) -> Result<(), CoreError> {
        if self.fields.is_empty() || drop {
            return Ok(());
        }
        let names: Vec<String> = self
            .fields
            .keys()
            .map(
                |name| match OUR_NAMES.iter().find(|(theirs, _)| theirs == name) {
                    Some((_, ours)) => format!("{} (use {})", name, ours),
                    None => name.clone(),
                },
            )
            .collect();
        Err(CoreError::invalid_request(format!(
            "{}/ does not support the parameter{} {}; provider-specific fields go in \
             additional_params, and drop_params=True leaves unsupported ones out",
            self.provider,
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        )))
    }
}

/// `reasoning_effort` as a thinking budget in tokens, as LiteLLM maps it: `None` for "none"
/// (no thinking), at least `minimum` (the provider's smallest budget).
pub fn thinking_budget(effort: &Value, minimum: u64) -> Result<Option<u64>, CoreError> {
    let budget = match effort.as_str() {
        Some("none") | Some("disable") => return Ok(None),
        Some("minimal") => 128,
        Some("low") => 1024,
        Some("medium") => 2048,
        Some("high") => 4096,
        _ => {
            return Err(CoreError::invalid_request(format!(
                "reasoning_effort must be one of none, minimal, low, medium, high; got {}",
                effort
            )))
        }
    };
    Ok(Some(budget.max(minimum)))
}

/// The messages as a list of objects (`prepare` has checked the shape).
pub fn message_list(messages: &Value) -> &[Value] {
    messages.as_array().map(Vec::as_slice).unwrap_or_default()
}

pub fn role_of(message: &Value, index: usize) -> Result<&str, CoreError> {
    message["role"]
        .as_str()
        .ok_or_else(|| CoreError::invalid_request(format!("messages[{}] has no role", index)))
}

/// The error for a message role a provider has no place for.
pub fn unsupported_role(index: usize, role: &str, provider: &str) -> CoreError {
    CoreError::invalid_request(format!(
        "messages[{}] has role {:?}, which {}/ does not take",
        index, role, provider
    ))
}

/// The error for a content part type a provider has no place for.
pub fn unsupported_part(index: usize, part: &Value, provider: &str) -> CoreError {
    CoreError::invalid_request(format!(
        "messages[{}] has a content part of type {:?}, which {}/ does not take",
        index,
        part["type"].as_str().unwrap_or("(none)"),
        provider
    ))
}

/// Appends a turn's content, merged into the previous turn when it has the same role (both
/// APIs want roles to alternate). Empty turns are left out.
pub fn push_turn(
    turns: &mut Vec<(&'static str, Vec<Value>)>,
    role: &'static str,
    content: Vec<Value>,
) {
    if content.is_empty() {
        return;
    }
    match turns.last_mut() {
        Some((last, existing)) if *last == role => existing.extend(content),
        _ => turns.push((role, content)),
    }
}

/// Splits a base64 `data:` URL into its media type and data.
pub fn data_url(url: &str) -> Option<(&str, &str)> {
    let (meta, data) = url.strip_prefix("data:")?.split_once(',')?;
    Some((meta.strip_suffix(";base64")?, data))
}

/// The URL of an `image_url` content part (`{"url": ...}` or a bare string).
pub fn image_url_of(part: &Value) -> Option<&str> {
    let image = &part["image_url"];
    image
        .get("url")
        .and_then(Value::as_str)
        .or_else(|| image.as_str())
}

/// A tool call's arguments, which OpenAI sends as JSON text, as a JSON value.
pub fn arguments_of(call: &Value, place: &str) -> Result<Value, CoreError> {
    match &call["function"]["arguments"] {
        Value::String(text) if text.trim().is_empty() => Ok(json!({})),
        Value::String(text) => serde_json::from_str(text).map_err(|e| {
            CoreError::invalid_request(format!("{} arguments are not valid JSON: {}", place, e))
        }),
        Value::Null => Ok(json!({})),
        other => Ok(other.clone()),
    }
}

/// An assistant message's tool calls, each with its arguments parsed from their JSON text.
pub fn tool_calls_of(message: &Value, index: usize) -> Result<Vec<(&Value, Value)>, CoreError> {
    let calls = message["tool_calls"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    calls
        .iter()
        .enumerate()
        .map(|(position, call)| {
            let place = format!("messages[{}].tool_calls[{}]", index, position);
            Ok((call, arguments_of(call, &place)?))
        })
        .collect()
}

/// Turns a tool in OpenAI's shape into (name, description, JSON schema of its parameters).
pub fn function_tool(tool: &Value, index: usize) -> Result<(&Value, &Value, Value), CoreError> {
    let function = &tool["function"];
    if tool["type"] != "function" || !function["name"].is_string() {
        return Err(CoreError::invalid_request(format!(
            "tools[{}] must be {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}",
            index
        )));
    }
    let parameters = match &function["parameters"] {
        Value::Null => json!({"type": "object", "properties": {}}),
        schema => schema.clone(),
    };
    Ok((&function["name"], &function["description"], parameters))
}

/// The function name a `tool_choice` names, or the mode it asks for ("auto", "none", "required").
pub enum ToolChoice<'a> {
    Mode(&'a str),
    Function(&'a str),
}

pub fn tool_choice(choice: &Value) -> Result<ToolChoice<'_>, CoreError> {
    match choice {
        Value::String(mode) if ["auto", "none", "required"].contains(&mode.as_str()) => {
            Ok(ToolChoice::Mode(mode))
        }
        _ => match choice["function"]["name"].as_str() {
            Some(name) => Ok(ToolChoice::Function(name)),
            None => Err(CoreError::invalid_request(
                "tool_choice must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}",
            )),
        },
    }
}

/// `response_format` as a JSON schema to answer in, with its name, if it asks for JSON.
pub fn json_format(format: Option<Value>) -> Result<Option<(String, Value)>, CoreError> {
    let format = match format {
        Some(format) => format,
        None => return Ok(None),
    };
    match format["type"].as_str() {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(("json_response".into(), json!({"type": "object"})))),
        Some("json_schema") => {
            let spec = &format["json_schema"];
            let name = spec["name"].as_str().unwrap_or("json_response").to_string();
            let schema = spec
                .get("schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            Ok(Some((name, schema)))
        }
        _ => Err(CoreError::invalid_request(
            "response_format type must be \"text\", \"json_object\" or \"json_schema\"",
        )),
    }
}

/// Parses an answer or event to translate, within the depth limit.
pub fn parse_json(body: &[u8], max_depth: usize) -> Result<Value, CoreError> {
    check_depth(body, max_depth)?;
    serde_json::from_slice(body).map_err(|e| {
        CoreError::invalid_response(format!("the provider's answer is not valid JSON: {}", e))
    })
}

/// Identity and time of an answer, repeated in every chunk.
#[derive(Debug, Default, Clone)]
pub struct Meta {
    pub id: Value,
    pub model: Value,
    pub created: i64,
}

impl Meta {
    pub fn completion(&self, choices: Value, usage: Value) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": choices,
            "usage": usage,
        })
    }

    /// A chunk with one choice.
    pub fn chunk(&self, index: u64, delta: Value, finish_reason: Option<&str>) -> Value {
        self.chunk_with(json!([{
            "index": index,
            "delta": delta,
            "finish_reason": finish_reason,
            "logprobs": null,
        }]))
    }

    /// The final chunk OpenAI sends for `stream_options.include_usage`: no choices, the usage.
    pub fn usage_chunk(&self, usage: Value) -> Value {
        let mut chunk = self.chunk_with(json!([]));
        chunk["usage"] = usage;
        chunk
    }

    fn chunk_with(&self, choices: Value) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        })
    }
}

pub fn tool_call(id: &Value, name: &Value, arguments: String) -> Value {
    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
}

/// A later fragment of a streamed tool call, more of its arguments: with every key of the
/// first, `id` and `name` null, as LiteLLM gives them (`shape.rs`).
pub fn tool_call_fragment(index: usize, arguments: &Value) -> Value {
    json!({
        "index": index,
        "id": null,
        "type": "function",
        "function": {"name": null, "arguments": arguments.as_str().unwrap_or("")},
    })
}

/// OpenAI's usage object. Counts come from the server: sums saturate rather than wrap.
pub fn usage(prompt: u64, completion: u64, cached: u64, reasoning: Option<u64>) -> Value {
    Tokens {
        prompt,
        completion,
        cache_read: cached,
        reasoning,
        ..Tokens::default()
    }
    .usage()
}

/// One answer's tokens, kept apart by how each class is billed, for [`Tokens::usage`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tokens {
    /// Every input token: those read from and written to the cache included.
    pub prompt: u64,
    /// Every output token: reasoning included (it is billed as output).
    pub completion: u64,
    /// Of `prompt`, those read from the cache.
    pub cache_read: u64,
    /// Of `prompt`, those written to the cache, where the provider bills writes apart
    /// (Anthropic, Bedrock); `None` where it does not.
    pub cache_write: Option<u64>,
    /// Of `cache_write`, those written for 5 minutes and for an hour, where the provider says
    /// (Anthropic's `cache_creation`): the two are billed at different rates.
    pub cache_write_by_ttl: Option<(u64, u64)>,
    /// Of `completion`, those spent reasoning, where the provider says.
    pub reasoning: Option<u64>,
}

impl Tokens {
    /// OpenAI's usage object, with the fields LiteLLM adds for cache writes: `prompt_tokens`
    /// is the whole input, `prompt_tokens_details` says how much of it was read from
    /// (`cached_tokens`) and written to (`cache_creation_tokens`) the cache, and
    /// `cache_read_input_tokens` / `cache_creation_input_tokens` repeat those at the top level
    /// as Anthropic's API names them. Sums saturate rather than wrap.
    pub fn usage(&self) -> Value {
        let mut usage = json!({
            "prompt_tokens": self.prompt,
            "completion_tokens": self.completion,
            "total_tokens": self.prompt.saturating_add(self.completion),
            "prompt_tokens_details": {"cached_tokens": self.cache_read},
        });
        if let Some(written) = self.cache_write {
            let details = &mut usage["prompt_tokens_details"];
            details["cache_creation_tokens"] = json!(written);
            if let Some((five_minutes, hour)) = self.cache_write_by_ttl {
                details["cache_creation_token_details"] = json!({
                    "ephemeral_5m_input_tokens": five_minutes,
                    "ephemeral_1h_input_tokens": hour,
                });
            }
            usage["cache_creation_input_tokens"] = json!(written);
            usage["cache_read_input_tokens"] = json!(self.cache_read);
        }
        if let Some(reasoning) = self.reasoning {
            usage["completion_tokens_details"] = json!({ "reasoning_tokens": reasoning });
        }
        usage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_report_what_nobody_took() {
        let fields = json!({"temperature": 1, "seed": 3, "logit_bias": {}, "n": null});
        let mut params = Params::new(fields.as_object().unwrap().clone(), "anthropic");
        assert_eq!(params.take("temperature"), Some(json!(1)));
        assert_eq!(params.take("n"), None);
        let error = params.finish(false).unwrap_err();
        assert!(error
            .message
            .contains("anthropic/ does not support the parameters logit_bias, seed"));
    }

    #[test]
    fn params_suggest_our_name_or_are_dropped_when_asked() {
        let fields = json!({"max_output_tokens": 5, "seed": 3});
        let params = Params::new(fields.as_object().unwrap().clone(), "gemini");
        let error = params.finish(false).unwrap_err();
        assert!(
            error
                .message
                .contains("max_output_tokens (use max_tokens), seed"),
            "{}",
            error.message
        );
        assert!(error.message.contains("drop_params=True"));
        let params = Params::new(fields.as_object().unwrap().clone(), "gemini");
        assert!(params.finish(true).is_ok());
    }

    #[test]
    fn data_urls() {
        assert_eq!(
            data_url("data:image/png;base64,AAAA"),
            Some(("image/png", "AAAA"))
        );
        assert_eq!(data_url("data:text/plain,hi"), None);
        assert_eq!(data_url("https://x/y.png"), None);
    }

    #[test]
    fn arguments() {
        let call = json!({"function": {"arguments": "{\"a\": 1}"}});
        assert_eq!(arguments_of(&call, "x").unwrap(), json!({"a": 1}));
        let call = json!({"function": {"arguments": ""}});
        assert_eq!(arguments_of(&call, "x").unwrap(), json!({}));
        let call = json!({"function": {"arguments": "{oops"}});
        assert!(arguments_of(&call, "messages[1].tool_calls[0]")
            .unwrap_err()
            .message
            .starts_with("messages[1].tool_calls[0] arguments are not valid JSON"));
    }

    #[test]
    fn response_formats() {
        assert!(json_format(Some(json!({"type": "text"})))
            .unwrap()
            .is_none());
        let (name, schema) = json_format(Some(json!({"type": "json_schema", "json_schema": {"name": "person", "schema": {"type": "object", "required": ["name"]}}}))).unwrap().unwrap();
        assert_eq!(
            (name.as_str(), &schema["required"][0]),
            ("person", &json!("name"))
        );
        assert!(json_format(Some(json!({"type": "xml"}))).is_err());
    }

    #[test]
    fn usage_keeps_cache_reads_writes_and_reasoning_apart() {
        assert_eq!(
            usage(10, 5, 2, None),
            json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                   "prompt_tokens_details": {"cached_tokens": 2}})
        );
        let tokens = Tokens {
            prompt: 16,
            completion: 7,
            cache_read: 4,
            cache_write: Some(2),
            cache_write_by_ttl: Some((0, 2)),
            reasoning: Some(3),
        };
        assert_eq!(
            tokens.usage(),
            json!({"prompt_tokens": 16, "completion_tokens": 7, "total_tokens": 23,
                   "prompt_tokens_details": {"cached_tokens": 4, "cache_creation_tokens": 2,
                       "cache_creation_token_details": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 2}},
                   "cache_creation_input_tokens": 2, "cache_read_input_tokens": 4,
                   "completion_tokens_details": {"reasoning_tokens": 3}})
        );
        let most = Tokens {
            prompt: u64::MAX,
            completion: 1,
            ..Tokens::default()
        };
        assert_eq!(most.usage()["total_tokens"], u64::MAX);
    }
}
