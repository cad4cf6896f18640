//! Anthropic's Messages API (<https://docs.anthropic.com/en/api/messages>), translated from and
//! to OpenAI chat completions. Turns, answers and streams are assembled as Bedrock's are
//! (`blocks.rs`), in the Messages API's field names.
//!
//! `response_format` (JSON object or JSON schema) is answered through a forced tool whose input
//! schema is the requested schema; the tool's input comes back as the message content, as
//! JSON text, with finish reason "stop".
//!
//! Token counts: `POST /v1/messages/count_tokens` takes the Messages body's `model`, `messages`,
//! `system`, `thinking`, `tools` and `tool_choice` (not `max_tokens`, `stream` or the sampling
//! fields) and answers `{"input_tokens": n}`
//! (<https://docs.anthropic.com/en/api/messages-count-tokens>).

use serde_json::{json, Map, Value};

use super::blocks::{block_turns, Answer, BlockProtocol, BlockStream};
use super::count;
use super::shared::{
    data_url, function_tool, image_url_of, json_format, parse_json, thinking_budget, tool_choice,
    unsupported_part, Meta, Params, Tokens, ToolChoice,
};
use super::url::{endpoint, join_query, split_query};
use crate::call::{Call, Context, HttpRequest};
use crate::error::{api_error, error_in_success, CoreError};
use crate::sse::Event;
use crate::translate::{Chunks, Translate};

pub const API_VERSION: &str = "2023-06-01";
/// The API requires `max_tokens`; this is used when the caller gives none (on top of the
/// thinking budget, which counts against it).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;
/// Anthropic's smallest thinking budget.
const MIN_THINKING_BUDGET: u64 = 1024;

/// Body fields copied as they are.
const SAME_NAME: &[(&str, &str)] = &[
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("top_k", "top_k"),
    ("metadata", "metadata"),
    ("thinking", "thinking"),
    ("service_tier", "service_tier"),
];

pub fn build_request(call: Call, context: &mut Context) -> Result<HttpRequest, CoreError> {
    let url = endpoint(&call.base_url, "/messages");
    let stream = call.stream;
    let body = build_body(call, context)?;
    let mut request = HttpRequest::post_json(url, &body, stream);
    request
        .headers
        .insert("anthropic-version", API_VERSION.to_string());
    Ok(request)
}

/// The fields of a Messages body that the counting endpoint takes.
const COUNTED: &[&str] = &[
    "model",
    "messages",
    "system",
    "thinking",
    "tools",
    "tool_choice",
];

/// A `count_tokens` call: the chat call's body, counted. A base URL spelled out to
/// `.../v1/messages` counts at `.../v1/messages/count_tokens`.
pub fn build_count_tokens(call: Call, context: &mut Context) -> Result<HttpRequest, CoreError> {
    let (base, query) = split_query(&call.base_url);
    let base = base.trim_end_matches('/');
    let base = join_query(
        base.strip_suffix("/messages").unwrap_or(base).to_string(),
        query,
    );
    let url = endpoint(&base, "/messages/count_tokens");
    let body = count_body(call, context)?;
    let mut request = HttpRequest::post_json(url, &body, false);
    request
        .headers
        .insert("anthropic-version", API_VERSION.to_string());
    Ok(request)
}

/// The counting endpoint's body of a call: its Messages body, of the fields the endpoint takes,
/// then the caller's `additional_params` (Claude on Vertex AI sends it too).
pub fn count_body(mut call: Call, context: &mut Context) -> Result<Map<String, Value>, CoreError> {
    let additional_params = std::mem::take(&mut call.additional_params);
    call.stream = false;
    let body = build_body(call, context)?;
    Ok(count::only(body, COUNTED, additional_params))
}

/// A counting endpoint's answer, `{"input_tokens": n}`.
pub fn parse_count(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    count::read(context, status, body, "input_tokens")
}

/// The Messages API body of a call (Claude on Vertex AI sends it too, at its own URL).
pub fn build_body(call: Call, context: &mut Context) -> Result<Map<String, Value>, CoreError> {
    let mut params = Params::new(call.params, "anthropic");
    let mut body = Map::new();
    body.insert("model".into(), Value::String(call.model));
    let (system, messages) = translate_messages(&call.messages)?;
    if let Some(system) = system {
        body.insert("system".into(), system);
    }
    body.insert("messages".into(), messages);
    let budget = match params.take("reasoning_effort") {
        Some(effort) => thinking_budget(&effort, MIN_THINKING_BUDGET)?,
        None => None,
    };
    let max_tokens = params
        .take("max_tokens")
        .or_else(|| params.take("max_completion_tokens"));
    if let Some(budget) = budget {
        if max_tokens
            .as_ref()
            .and_then(Value::as_u64)
            .map_or(false, |max| max <= budget)
        {
            return Err(CoreError::invalid_request(format!(
                "anthropic/ counts thinking against max_tokens: with reasoning_effort's budget of {} tokens, max_tokens must be more than that",
                budget
            )));
        }
        body.insert(
            "thinking".into(),
            json!({"type": "enabled", "budget_tokens": budget}),
        );
    }
    let max_tokens = max_tokens.unwrap_or_else(|| json!(DEFAULT_MAX_TOKENS + budget.unwrap_or(0)));
    body.insert("max_tokens".into(), max_tokens);
    params.move_renamed(SAME_NAME, &mut body);
    if let Some(stops) = params.take_list("stop") {
        body.insert("stop_sequences".into(), stops);
    }
    if let Some(user) = params.take("user") {
        body.entry("metadata").or_insert_with(|| json!({}))["user_id"] = user;
    }
    if let Some(n) = params.take("n") {
        if n != json!(1) {
            return Err(CoreError::invalid_request(
                "anthropic/ answers with one choice: n must be 1",
            ));
        }
    }
    params.take("stream_options"); // only include_usage, which the context carries

    let mut tools = Vec::new();
    if let Some(Value::Array(list)) = params.take("tools") {
        for (index, tool) in list.iter().enumerate() {
            let (name, description, schema) = function_tool(tool, index)?;
            let mut out = json!({"name": name, "input_schema": schema});
            if description.is_string() {
                out["description"] = description.clone();
            }
            tools.push(out);
        }
    }
    let mut choice = match params.take("tool_choice") {
        None => None,
        Some(choice) => Some(match tool_choice(&choice)? {
            ToolChoice::Mode("none") => json!({"type": "none"}),
            ToolChoice::Mode("required") => json!({"type": "any"}),
            ToolChoice::Mode(_) => json!({"type": "auto"}),
            ToolChoice::Function(name) => json!({"type": "tool", "name": name}),
        }),
    };
    if params.take("parallel_tool_calls") == Some(Value::Bool(false)) {
        choice.get_or_insert_with(|| json!({"type": "auto"}))["disable_parallel_tool_use"] =
            json!(true);
    }
    if let Some((name, schema)) = json_format(params.take("response_format"))? {
        tools.push(json!({"name": name, "description": "Respond with JSON in this shape.", "input_schema": schema}));
        choice = Some(json!({"type": "tool", "name": name}));
        context.json_tool = Some(name);
    }
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = choice {
        body.insert("tool_choice".into(), choice);
    }
    params.finish(call.drop_params)?;
    if call.stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    body.extend(call.additional_params);
    Ok(body)
}

struct Messages;

impl BlockProtocol for Messages {
    const PROVIDER: &'static str = "anthropic";

    fn content(content: &Value, index: usize) -> Result<Vec<Value>, CoreError> {
        content_blocks(content, index)
    }

    fn thinking(block: &Value) -> Option<Value> {
        Some(block.clone()) // Anthropic's own blocks, as they came
    }

    fn tool_use(id: &Value, name: &Value, input: Value) -> Value {
        json!({"type": "tool_use", "id": id, "name": name, "input": input})
    }

    fn tool_result(id: &str, content: &Value, index: usize) -> Result<Value, CoreError> {
        let content = match content {
            Value::String(text) => json!(text),
            other => Value::Array(content_blocks(other, index)?),
        };
        Ok(json!({"type": "tool_result", "tool_use_id": id, "content": content}))
    }
}

/// OpenAI messages to Anthropic's `system` and `messages`.
fn translate_messages(messages: &Value) -> Result<(Option<Value>, Value), CoreError> {
    let (system, turns) = block_turns::<Messages>(messages)?;
    // Plain text blocks join into one string; blocks with more (cache_control) stay blocks.
    let system = if system.is_empty() {
        None
    } else if system
        .iter()
        .all(|b| b.as_object().map_or(false, |o| o.len() == 2))
    {
        let texts: Vec<&str> = system.iter().filter_map(|b| b["text"].as_str()).collect();
        Some(json!(texts.join("\n\n")))
    } else {
        Some(Value::Array(system))
    };
    Ok((system, turns))
}

/// OpenAI message content (a string, parts, or null) as Anthropic content blocks.
fn content_blocks(content: &Value, index: usize) -> Result<Vec<Value>, CoreError> {
    let parts = match content {
        Value::Null => return Ok(Vec::new()),
        Value::String(text) if text.is_empty() => return Ok(Vec::new()),
        Value::String(text) => return Ok(vec![json!({"type": "text", "text": text})]),
        Value::Array(parts) => parts,
        _ => {
            return Err(CoreError::invalid_request(format!(
                "messages[{}] content must be a string or a list of parts",
                index
            )))
        }
    };
    let mut blocks = Vec::new();
    for part in parts {
        let mut block = match part["type"].as_str() {
            Some("text") => json!({"type": "text", "text": part["text"]}),
            Some("image_url") => {
                let url = image_url_of(part).unwrap_or("");
                let source = match data_url(url) {
                    Some((media_type, data)) => json!({"type": "base64", "media_type": media_type, "data": data}),
                    None if url.starts_with("http://") || url.starts_with("https://") => {
                        json!({"type": "url", "url": url})
                    }
                    None => {
                        return Err(CoreError::invalid_request(format!(
                            "messages[{}] has an image that is neither a base64 data URL nor an http(s) URL",
                            index
                        )))
                    }
                };
                json!({"type": "image", "source": source})
            }
            _ => return Err(unsupported_part(index, part, "anthropic")),
        };
        if let Some(cache_control) = part.get("cache_control") {
            block["cache_control"] = cache_control.clone();
        }
        blocks.push(block);
    }
    Ok(blocks)
}

/// Anthropic's usage: `input_tokens` counts only the input neither read from nor written to the
/// cache, and `cache_creation` splits the writes by how long they last.
fn translate_usage(usage_in: &Value) -> Value {
    let count = |value: &Value| value.as_u64().unwrap_or(0);
    let read = count(&usage_in["cache_read_input_tokens"]);
    let written = count(&usage_in["cache_creation_input_tokens"]);
    let by_ttl = usage_in["cache_creation"].as_object().map(|ttl| {
        (
            count(&ttl["ephemeral_5m_input_tokens"]),
            count(&ttl["ephemeral_1h_input_tokens"]),
        )
    });
    Tokens {
        prompt: count(&usage_in["input_tokens"])
            .saturating_add(read)
            .saturating_add(written),
        completion: count(&usage_in["output_tokens"]),
        cache_read: read,
        cache_write: Some(written),
        cache_write_by_ttl: by_ttl,
        reasoning: None,
    }
    .usage()
}

pub fn parse_response(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    if !(200..300).contains(&status) {
        return Err(api_error(Some(status), body));
    }
    let answer = parse_json(body, context.limits.max_depth)?;
    if answer["type"] == "error" {
        return Err(error_in_success(status, body));
    }
    let mut assembled = Answer::default();
    for block in answer["content"].as_array().into_iter().flatten() {
        match block["type"].as_str() {
            Some("text") => assembled.text(&block["text"]),
            Some("thinking") => assembled.thinking(&block["thinking"], &block["signature"]),
            Some("redacted_thinking") => assembled.redacted(&block["data"]),
            Some("tool_use") => {
                assembled.tool_use(context, &block["id"], &block["name"], &block["input"])
            }
            _ => {}
        }
    }
    let meta = Meta {
        id: answer["id"].clone(),
        model: answer["model"].clone(),
        created: context.created,
    };
    Ok(assembled.completion(
        &meta,
        &answer["stop_reason"],
        translate_usage(&answer["usage"]),
    ))
}

pub fn translator(context: &Context) -> Box<dyn Translate> {
    let meta = Meta {
        created: context.created,
        ..Meta::default()
    };
    Box::new(StreamTranslator {
        blocks: BlockStream::new(context, meta),
        max_depth: context.limits.max_depth,
        usage: Map::new(),
    })
}

struct StreamTranslator {
    blocks: BlockStream,
    max_depth: usize,
    /// The usage so far: `message_start` has the input's, `message_delta` the output's.
    usage: Map<String, Value>,
}

impl Translate for StreamTranslator {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        let data = parse_json(event.data.as_bytes(), self.max_depth)?;
        // A key for the block's state (see `BlockStream`): a block without one is none known.
        let index = data["index"].as_u64().unwrap_or(u64::MAX);
        let blocks = &mut self.blocks;
        match data["type"].as_str().unwrap_or(&event.event_type) {
            "message_start" => {
                let message = &data["message"];
                blocks.meta.id = message["id"].clone();
                blocks.meta.model = message["model"].clone();
                if let Some(usage) = message["usage"].as_object() {
                    self.usage.extend(usage.clone());
                }
                blocks.start(out);
            }
            "content_block_start" => {
                let block = &data["content_block"];
                let index = data["index"].as_u64().unwrap_or(0);
                match block["type"].as_str() {
                    Some("text") => blocks.start_text(index, &block["text"], out)?,
                    Some("thinking") => {
                        blocks.start_thinking(index, &block["thinking"], &block["signature"])?
                    }
                    Some("redacted_thinking") => {
                        blocks.redacted(&block["data"], out);
                        blocks.start_other(index)?;
                    }
                    Some("tool_use") => {
                        blocks.start_tool(index, &block["id"], &block["name"], out)?
                    }
                    _ => blocks.start_other(index)?,
                }
            }
            "content_block_delta" => {
                let delta = &data["delta"];
                match delta["type"].as_str() {
                    Some("text_delta") => blocks.text(&delta["text"], out),
                    Some("input_json_delta") => {
                        blocks.tool_input(index, &delta["partial_json"], out)
                    }
                    Some("thinking_delta") => blocks.thinking(&delta["thinking"], out),
                    Some("signature_delta") => blocks.signature(&delta["signature"]),
                    _ => {} // citations
                }
            }
            "content_block_stop" => blocks.stop_block(index, out),
            "message_delta" => {
                if let Some(usage) = data["usage"].as_object() {
                    self.usage.extend(usage.clone());
                }
                blocks.finish(&data["delta"]["stop_reason"], out);
            }
            "message_stop" => {
                let usage = translate_usage(&Value::Object(std::mem::take(&mut self.usage)));
                blocks.usage(usage, out);
                return Ok(true);
            }
            "error" => return Err(api_error(None, event.data.as_bytes())),
            _ => {} // ping, and event types added later
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing;

    fn call(messages: Value, params: Value) -> Call {
        testing::call("anthropic", "claude-sonnet-4-5", messages, params)
    }

    fn context() -> Context {
        testing::context("anthropic", "claude-sonnet-4-5")
    }

    fn body(call: Call, context: &mut Context) -> Value {
        let request = build_request(call, context).unwrap();
        assert_eq!(request.url, "https://api.anthropic.com/v1/messages");
        assert_eq!(request.headers["anthropic-version"], API_VERSION);
        serde_json::from_slice(&request.body).unwrap()
    }

    #[test]
    fn messages_system_images_tools_and_merging() {
        let messages = json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Paris\"}"}},
                {"id": "toolu_2", "type": "function", "function": {"name": "weather", "arguments": "{\"city\": \"Rome\"}"}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": "rain"},
        ]);
        let sent = body(call(messages, json!({})), &mut context());
        assert_eq!(sent["system"], "Be brief.");
        assert_eq!(sent["max_tokens"], DEFAULT_MAX_TOKENS);
        let turns = sent["messages"].as_array().unwrap();
        assert_eq!(turns.len(), 3);
        assert_eq!(turns[0]["role"], "user");
        assert_eq!(turns[0]["content"].as_array().unwrap().len(), 4);
        assert_eq!(
            turns[0]["content"][2]["source"],
            json!({"type": "base64", "media_type": "image/png", "data": "AAAA"})
        );
        assert_eq!(
            turns[0]["content"][3]["source"],
            json!({"type": "url", "url": "https://example.com/cat.jpg"})
        );
        assert_eq!(
            turns[1]["content"][1],
            json!({"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Rome"}})
        );
        assert_eq!(
            turns[2]["content"][0],
            json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"})
        );
        assert_eq!(turns[2]["content"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn parameters_map_and_unsupported_ones_are_named() {
        let tools = json!([{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"}}}]);
        let params = json!({"temperature": 0.2, "top_p": 0.9, "max_tokens": 10, "stop": "END", "user": "u1",
            "tools": tools, "tool_choice": "required", "parallel_tool_calls": false, "stream_options": {"include_usage": true}});
        let sent = body(
            call(json!([{"role": "user", "content": "x"}]), params),
            &mut context(),
        );
        assert_eq!(sent["stop_sequences"], json!(["END"]));
        assert_eq!(sent["metadata"]["user_id"], "u1");
        assert_eq!(
            sent["tools"][0],
            json!({"name": "f", "description": "d", "input_schema": {"type": "object"}})
        );
        assert_eq!(
            sent["tool_choice"],
            json!({"type": "any", "disable_parallel_tool_use": true})
        );
        for (choice, expected) in [
            (json!("auto"), json!({"type": "auto"})),
            (json!("none"), json!({"type": "none"})),
            (
                json!({"type": "function", "function": {"name": "f"}}),
                json!({"type": "tool", "name": "f"}),
            ),
        ] {
            let sent = body(
                call(json!([]), json!({"tool_choice": choice})),
                &mut context(),
            );
            assert_eq!(sent["tool_choice"], expected);
        }
        let error = build_request(
            call(json!([]), json!({"seed": 1, "logprobs": true})),
            &mut context(),
        )
        .unwrap_err();
        assert!(
            error.message.contains("seed, logprobs"),
            "{}",
            error.message
        );
    }

    #[test]
    fn response_format_becomes_a_forced_tool_and_comes_back_as_content() {
        let format = json!({"type": "json_schema", "json_schema": {"name": "person", "schema": {"type": "object"}}});
        let mut context = context();
        let sent = body(
            call(
                json!([{"role": "user", "content": "x"}]),
                json!({"response_format": format}),
            ),
            &mut context,
        );
        assert_eq!(
            sent["tool_choice"],
            json!({"type": "tool", "name": "person"})
        );
        assert_eq!(context.json_tool.as_deref(), Some("person"));
        let answer = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "person", "input": {"name": "Ada"}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 3}});
        let parsed: Value = serde_json::from_str(
            &parse_response(&context, 200, answer.to_string().as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            parsed["choices"][0]["message"]["content"],
            "{\"name\":\"Ada\"}"
        );
        assert_eq!(parsed["choices"][0]["finish_reason"], "stop");
        assert!(parsed["choices"][0]["message"].get("tool_calls").is_none());
    }

    #[test]
    fn answers_translate_with_stop_reasons_and_usage() {
        for (stop, finish) in [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("tool_use", "tool_calls"),
            ("refusal", "content_filter"),
        ] {
            let answer = json!({"id": "msg_1", "type": "message", "model": "claude", "stop_reason": stop,
                "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "Hello"},
                            {"type": "tool_use", "id": "toolu_9", "name": "f", "input": {"a": [1, 2]}}],
                "usage": {"input_tokens": 10, "cache_read_input_tokens": 4, "cache_creation_input_tokens": 2, "output_tokens": 7}});
            let parsed: Value = serde_json::from_str(
                &parse_response(&context(), 200, answer.to_string().as_bytes()).unwrap(),
            )
            .unwrap();
            let choice = &parsed["choices"][0];
            assert_eq!(choice["finish_reason"], finish);
            assert_eq!(choice["message"]["content"], "Hello");
            assert_eq!(choice["message"]["reasoning_content"], "hmm");
            assert_eq!(
                choice["message"]["tool_calls"][0],
                json!({"id": "toolu_9", "type": "function", "function": {"name": "f", "arguments": "{\"a\":[1,2]}"}})
            );
            assert_eq!(
                parsed["usage"],
                json!({"prompt_tokens": 16, "completion_tokens": 7, "total_tokens": 23,
                       "prompt_tokens_details": {"cached_tokens": 4, "cache_creation_tokens": 2},
                       "cache_creation_input_tokens": 2, "cache_read_input_tokens": 4})
            );
            assert_eq!(
                (parsed["created"].as_i64(), parsed["object"].as_str()),
                (Some(1700000000), Some("chat.completion"))
            );
        }
    }

    #[test]
    fn reasoning_effort_becomes_a_thinking_budget_counted_in_max_tokens() {
        let user = json!([{"role": "user", "content": "x"}]);
        let sent = body(
            call(user.clone(), json!({"reasoning_effort": "low"})),
            &mut context(),
        );
        assert_eq!(
            sent["thinking"],
            json!({"type": "enabled", "budget_tokens": 1024})
        );
        assert_eq!(sent["max_tokens"], json!(DEFAULT_MAX_TOKENS + 1024));
        let sent = body(
            call(user.clone(), json!({"reasoning_effort": "none"})),
            &mut context(),
        );
        assert!(sent.get("thinking").is_none());
        let error = build_request(
            call(
                user.clone(),
                json!({"reasoning_effort": "high", "max_tokens": 4096}),
            ),
            &mut context(),
        )
        .unwrap_err();
        assert!(
            error.message.contains("budget of 4096"),
            "{}",
            error.message
        );
        let error = build_request(
            call(user, json!({"reasoning_effort": "extreme"})),
            &mut context(),
        )
        .unwrap_err();
        assert!(error.message.contains("reasoning_effort must be one of"));
    }

    #[test]
    fn thinking_blocks_come_back_with_their_signatures_and_are_sent_back_first() {
        let answer = json!({"id": "msg_1", "model": "claude", "stop_reason": "tool_use",
            "content": [{"type": "thinking", "thinking": "hmm", "signature": "sig-1"},
                        {"type": "redacted_thinking", "data": "opaque"},
                        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}],
            "usage": {"input_tokens": 5, "output_tokens": 3}});
        let parsed: Value = serde_json::from_str(
            &parse_response(&context(), 200, answer.to_string().as_bytes()).unwrap(),
        )
        .unwrap();
        let message = parsed["choices"][0]["message"].clone();
        assert_eq!(
            message["thinking_blocks"],
            json!([{"type": "thinking", "thinking": "hmm", "signature": "sig-1"},
                   {"type": "redacted_thinking", "data": "opaque"}])
        );
        let history = json!([{"role": "user", "content": "x"}, message,
            {"role": "tool", "tool_call_id": "toolu_1", "content": "42"}]);
        let sent = body(call(history, json!({})), &mut context());
        let blocks = &sent["messages"][1]["content"];
        assert_eq!(
            blocks[0],
            json!({"type": "thinking", "thinking": "hmm", "signature": "sig-1"})
        );
        assert_eq!(
            blocks[1],
            json!({"type": "redacted_thinking", "data": "opaque"})
        );
        assert_eq!(blocks[2]["type"], "tool_use");
    }

    #[test]
    fn a_streamed_thinking_block_ends_with_its_signature() {
        let stream = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude\",\"usage\":{\"input_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"one \"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"two\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"sig-9\"}}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        let chunks = decode(&[stream.as_bytes()]);
        let deltas: Vec<&Value> = chunks
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["choices"][0]["delta"])
            .collect();
        assert_eq!(deltas[1]["reasoning_content"], "one ");
        assert_eq!(
            deltas[3]["thinking_blocks"],
            json!([{"type": "thinking", "thinking": "one two", "signature": "sig-9"}])
        );
    }

    const STREAM: &str = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n",
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Héllo \"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"wörld\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"weather\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );

    fn decode(pieces: &[&[u8]]) -> Value {
        let context = serde_json::to_string(&context()).unwrap();
        let mut stream = crate::open_stream(context.as_bytes()).unwrap();
        let mut chunks = Vec::new();
        for piece in pieces {
            let batch: Value = serde_json::from_str(&stream.feed(piece)).unwrap();
            chunks.extend(batch["chunks"].as_array().unwrap().clone());
        }
        let end: Value = serde_json::from_str(&stream.finish()).unwrap();
        assert!(end.get("error").is_none(), "{}", end);
        Value::Array(chunks)
    }

    #[test]
    fn stream_translates_and_is_the_same_split_anywhere() {
        let chunks = decode(&[STREAM.as_bytes()]);
        let list = chunks.as_array().unwrap();
        assert_eq!(
            list[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": ""})
        );
        assert_eq!(list[0]["id"], "msg_1");
        assert_eq!(
            list[1]["choices"][0]["delta"],
            json!({"reasoning_content": "hmm"})
        );
        assert_eq!(list[2]["choices"][0]["delta"], json!({"content": "Héllo "}));
        assert_eq!(
            list[4]["choices"][0]["delta"]["tool_calls"][0],
            json!({"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": ""}})
        );
        assert_eq!(
            list[5]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
            "{\"city\": "
        );
        assert_eq!(list[7]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(list[8]["choices"], json!([]));
        assert_eq!(list[8]["usage"]["completion_tokens"], 15);
        assert_eq!(list.len(), 9);
        let bytes = STREAM.as_bytes();
        for cut in 0..=bytes.len() {
            assert_eq!(
                decode(&[&bytes[..cut], &bytes[cut..]]),
                chunks,
                "split at {}",
                cut
            );
        }
    }

    /// Two tool calls streamed as Anthropic streams them, the first piece of each input empty.
    fn parallel_tool_use(stop_reason: Value) -> Vec<u8> {
        let start = |index: u64, id: &str, name: &str| {
            json!({"type": "content_block_start", "index": index,
                   "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}})
        };
        let input = |index: u64, partial: &str| {
            json!({"type": "content_block_delta", "index": index,
                   "delta": {"type": "input_json_delta", "partial_json": partial}})
        };
        testing::sse(&[
            json!({"type": "message_start", "message": {"id": "msg_1", "model": "claude", "usage": {"input_tokens": 3}}}),
            json!({"type": "ping"}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": ""}}),
            json!({"type": "content_block_stop", "index": 0}),
            start(1, "toolu_1", "weather"),
            input(1, ""),
            input(1, "{\"city\": "),
            input(1, "\"Paris\"}"),
            json!({"type": "content_block_stop", "index": 1}),
            start(2, "toolu_2", "time"),
            input(2, "{}"),
            json!({"type": "content_block_stop", "index": 2}),
            json!({"type": "message_delta", "delta": {"stop_reason": stop_reason}, "usage": {"output_tokens": 9}}),
            json!({"type": "message_stop"}),
        ])
    }

    #[test]
    fn tool_call_fragments_get_every_key_and_nothing_empty_goes_out() {
        let (chunks, error) =
            testing::read_stream(&context(), &parallel_tool_use(json!("tool_use")));
        assert_eq!(error, Value::Null);
        let fragments = testing::assert_litellm_shaped(&chunks);
        let later = |index: u64, arguments: &str| json!({"index": index, "id": null, "type": "function", "function": {"name": null, "arguments": arguments}});
        assert_eq!(
            fragments,
            [
                json!({"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": ""}}),
                later(0, ""),
                later(0, "{\"city\": "),
                later(0, "\"Paris\"}"),
                json!({"index": 1, "id": "toolu_2", "type": "function", "function": {"name": "time", "arguments": ""}}),
                later(1, "{}"),
            ]
        );
        // The role, six fragments, the finish, the usage: no chunk for the empty text.
        assert_eq!(chunks.len(), 9);
        assert_eq!(chunks[7]["choices"][0]["finish_reason"], "tool_calls");
        // A message_delta without a stop reason would be a chunk of nothing: it is left out.
        let (chunks, _) = testing::read_stream(&context(), &parallel_tool_use(Value::Null));
        testing::assert_litellm_shaped(&chunks);
        assert_eq!(chunks.len(), 8);
    }

    #[test]
    fn cache_reads_and_writes_are_kept_apart_in_answers_and_streams_alike() {
        let counts = json!({"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 30,
            "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20}, "output_tokens": 7});
        let expected = json!({"prompt_tokens": 140, "completion_tokens": 7, "total_tokens": 147,
            "prompt_tokens_details": {"cached_tokens": 100, "cache_creation_tokens": 30,
                "cache_creation_token_details": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20}},
            "cache_creation_input_tokens": 30, "cache_read_input_tokens": 100});
        let answer = json!({"id": "msg_1", "type": "message", "model": "claude", "stop_reason": "end_turn",
            "content": [{"type": "text", "text": "hi"}], "usage": counts});
        let parsed: Value = serde_json::from_str(
            &parse_response(&context(), 200, answer.to_string().as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(parsed["usage"], expected);
        let mut start_counts = counts.clone();
        start_counts["output_tokens"] = json!(1);
        let start = json!({"type": "message_start", "message": {"id": "msg_1", "model": "claude", "usage": start_counts}});
        let stream = format!(
            "event: message_start\ndata: {}\n\n{}",
            start,
            concat!(
                "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
                "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n",
                "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
                "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":7}}\n\n",
                "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            )
        );
        let chunks = decode(&[stream.as_bytes()]);
        let last = chunks.as_array().unwrap().last().unwrap();
        assert_eq!(last["usage"], expected);
        // Without cache fields, both count as none.
        let plain = translate_usage(&json!({"input_tokens": 3, "output_tokens": 2}));
        assert_eq!(
            plain,
            json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5,
                   "prompt_tokens_details": {"cached_tokens": 0, "cache_creation_tokens": 0},
                   "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
        );
    }

    #[test]
    fn token_counts_send_the_chat_body_without_what_counts_nothing() {
        let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
        let messages =
            json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "x"}]);
        let params = json!({"tools": tools, "tool_choice": "required", "reasoning_effort": "low",
            "max_tokens": 5000, "temperature": 0.2, "stop": "END", "user": "u"});
        let mut count_call = call(messages, params);
        count_call.operation = crate::call::Operation::CountTokens;
        count_call
            .additional_params
            .insert("mcp_servers".into(), json!([]));
        let request = build_count_tokens(count_call, &mut context()).unwrap();
        assert_eq!(
            request.url,
            "https://api.anthropic.com/v1/messages/count_tokens"
        );
        assert_eq!(request.headers["anthropic-version"], API_VERSION);
        assert_eq!(request.headers["accept"], "application/json");
        let sent: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            sent,
            json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
                   "system": "Be brief.", "thinking": {"type": "enabled", "budget_tokens": 1024},
                   "tools": [{"name": "f", "input_schema": {"type": "object"}}], "tool_choice": {"type": "any"},
                   "mcp_servers": []})
        );
        for base in [
            "http://proxy:4000/anthropic/v1",
            "http://proxy:4000/anthropic/v1/",
            "http://proxy:4000/anthropic/v1/messages",
        ] {
            let mut count_call = call(json!([{"role": "user", "content": "x"}]), json!({}));
            count_call.base_url = base.into();
            let request = build_count_tokens(count_call, &mut context()).unwrap();
            assert_eq!(
                request.url,
                "http://proxy:4000/anthropic/v1/messages/count_tokens"
            );
        }
        let error = build_count_tokens(
            call(
                json!([{"role": "user", "content": "x"}]),
                json!({"seed": 1}),
            ),
            &mut context(),
        )
        .unwrap_err();
        assert!(
            error.message.contains("parameter seed"),
            "{}",
            error.message
        );
    }

    #[test]
    fn overloaded_error_event_mid_stream_is_a_529() {
        let context = serde_json::to_string(&context()).unwrap();
        let mut stream = crate::open_stream(context.as_bytes()).unwrap();
        let events = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{}}}\n\n",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
        );
        let batch: Value = serde_json::from_str(&stream.feed(events.as_bytes())).unwrap();
        assert_eq!(batch["chunks"].as_array().unwrap().len(), 1);
        assert_eq!(batch["error"]["status"], 529);
        assert_eq!(batch["error"]["provider"], "anthropic");
    }

    #[test]
    fn unknown_roles_and_parts_are_named() {
        let error = build_request(
            call(json!([{"role": "function", "content": "x"}]), json!({})),
            &mut context(),
        )
        .unwrap_err();
        assert!(error.message.contains("role \"function\""));
        let error = build_request(
            call(
                json!([{"role": "user", "content": [{"type": "input_audio"}]}]),
                json!({}),
            ),
            &mut context(),
        )
        .unwrap_err();
        assert!(error.message.contains("\"input_audio\""));
    }
}
