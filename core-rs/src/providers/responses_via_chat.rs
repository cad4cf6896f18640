//! OpenAI's Responses API on providers that speak only chat: a Responses call becomes the chat
//! call its provider's API builds, and the chat answer and chunks that the provider's reader
//! translated become a response object and Responses stream events.
//!
//! What needs a server that keeps responses or runs OpenAI's own tools is refused by name
//! (`previous_response_id`, `store=true`, `background`, `conversation`, `prompt`, item
//! references, files by id, tools other than functions): such a call needs a provider with a
//! native Responses API. The conversation goes in `input` instead, its items as they came back.
//!
//! Claude's thinking goes both ways without loss: a thinking block comes back as a reasoning item
//! whose `encrypted_content` is the block's signature (redacted thinking: an item with no text,
//! its data in `encrypted_content`), and such items in a later call's input go back to the
//! assistant message after them as those blocks, which Anthropic checks when a conversation
//! with thinking and tool calls goes on.
//!
//! Ids derive from the call's nonce, else from the chat answer's id: a response's complete and
//! streamed forms have the same ids. A complete response lists its reasoning, its message, then
//! its function calls; a stream lists its items in the order they came (the same order, for
//! every provider's usual answers).

use serde_json::{json, Map, Value};

use super::blocks::{redacted_block, thinking_block};
use super::shared::parse_json;
use std::collections::HashMap;

use crate::call::{Call, Context, Operation, Reader};
use crate::error::CoreError;
use crate::sse::Event;
use crate::translate::{Chunks, Translate};

/// A Responses call as the chat call its provider's API builds.
pub fn chat_call(mut call: Call, context: &mut Context) -> Result<Call, CoreError> {
    let provider = call.provider;
    let mut params = std::mem::take(&mut call.params);
    for (name, what) in STATEFUL {
        match params.remove(*name) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => {}
            Some(_) => return Err(needs_native(provider, what)),
        }
    }
    context.echo = Value::Object(echo(&params));
    // Repeated by a response, never sent: `metadata` is kept with a stored response (and
    // Anthropic's own `metadata` takes only a user id); `truncation` and `include` shape what
    // OpenAI's server does (the one include a chat answer can honour, reasoning's encrypted
    // content, is always there); a Responses `stream_options` has no usage to ask for.
    for name in ["metadata", "truncation", "include", "stream_options"] {
        params.remove(name);
    }

    let mut messages = Vec::new();
    match take(&mut params, "instructions") {
        None => {}
        Some(Value::String(text)) => messages.push(json!({"role": "system", "content": text})),
        Some(_) => return Err(CoreError::invalid_request("instructions must be a string")),
    }
    // Only Anthropic's and Bedrock's APIs take thinking back; to other servers the field is
    // unknown, and strict ones refuse it.
    let thinking_blocks = matches!(call.reader, Reader::Anthropic | Reader::Bedrock);
    input_messages(&call.messages, thinking_blocks, provider, &mut messages)?;
    call.messages = Value::Array(messages);

    // The rest (temperature, top_p, parallel_tool_calls, user, service_tier, ...) has the same
    // name in chat; a field the provider's chat API has no place for is refused by its builder.
    if let Some(tools) = take(&mut params, "tools") {
        params.insert("tools".into(), chat_tools(tools, provider)?);
    }
    if let Some(choice) = take(&mut params, "tool_choice") {
        params.insert("tool_choice".into(), chat_tool_choice(choice, provider)?);
    }
    if let Some(text) = take(&mut params, "text") {
        if let Some(format) = response_format(&text["format"])? {
            params.insert("response_format".into(), format);
        }
        if !text["verbosity"].is_null() {
            params.insert("verbosity".into(), text["verbosity"].clone());
        }
    }
    // Only the effort: a chat answer's reasoning is its text, summarized or not as the model does.
    if let Some(reasoning) = take(&mut params, "reasoning") {
        if !reasoning["effort"].is_null() {
            params.insert("reasoning_effort".into(), reasoning["effort"].clone());
        }
    }
    if let Some(max) = take(&mut params, "max_output_tokens") {
        params.insert("max_tokens".into(), max);
    }
    if call.stream {
        // Every chat builder takes it, and a response's last event carries the usage.
        params.insert("stream_options".into(), json!({"include_usage": true}));
        context.include_usage = true;
    }
    call.params = params;
    call.operation = Operation::Chat;
    Ok(call)
}

/// The fields that need stored responses, prompts or conversations, or a server that runs the
/// response on its own, and what each asks for; null, or `false`, asks for none of that.
/// The most output items a streamed response may have, and parts one item may have.
const MAX_ITEMS: usize = 1024;

const STATEFUL: &[(&str, &str)] = &[
    (
        "previous_response_id",
        "previous_response_id continues a stored response",
    ),
    ("store", "store=true keeps the response"),
    (
        "background",
        "background=true runs the response in the background",
    ),
    (
        "conversation",
        "conversation continues a stored conversation",
    ),
    ("prompt", "prompt uses a stored prompt"),
];

/// The error for what needs OpenAI's Responses API on the server, `what` saying what it is.
fn needs_native(provider: &str, what: &str) -> CoreError {
    CoreError::invalid_request(format!(
        "{}, which needs a provider with a native Responses API (openai/, azure/): {}/ answers \
         Responses calls through its chat API and keeps nothing",
        what, provider
    ))
}

/// Removes a field; a JSON `null` counts as absent.
fn take(params: &mut Map<String, Value>, name: &str) -> Option<Value> {
    params.remove(name).filter(|value| !value.is_null())
}

/// The request's fields that a response object repeats (those of the openai SDK's `Response`),
/// with the defaults OpenAI's server fills in.
fn echo(params: &Map<String, Value>) -> Map<String, Value> {
    let defaults = [
        ("instructions", Value::Null),
        ("tools", json!([])),
        ("tool_choice", json!("auto")),
        ("parallel_tool_calls", json!(true)),
        ("temperature", Value::Null),
        ("top_p", Value::Null),
        ("max_output_tokens", Value::Null),
        ("text", json!({"format": {"type": "text"}})),
        ("reasoning", Value::Null),
        ("metadata", json!({})),
        ("truncation", json!("disabled")),
        ("user", Value::Null),
    ];
    let mut echo: Map<String, Value> = defaults
        .into_iter()
        .map(|(name, default)| {
            let given = params.get(name).filter(|value| !value.is_null()).cloned();
            (name.to_string(), given.unwrap_or(default))
        })
        .collect();
    // Such a response continues none.
    echo.insert("previous_response_id".into(), Value::Null);
    echo
}

/// The fields of `from` among `names` that are there and not null.
fn fields(from: &Value, names: &[&str]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|name| {
            let value = from.get(*name).filter(|value| !value.is_null())?;
            Some((name.to_string(), value.clone()))
        })
        .collect()
}

/// Function tools in chat's shape; OpenAI's own tools run on its server only.
fn chat_tools(tools: Value, provider: &str) -> Result<Value, CoreError> {
    let tools = match tools {
        Value::Array(tools) => tools,
        _ => return Err(CoreError::invalid_request("tools must be a list")),
    };
    let mut chat = Vec::new();
    for (index, tool) in tools.iter().enumerate() {
        if tool["type"] != "function" {
            let kind = tool["type"].as_str().unwrap_or("(untyped)");
            let what = format!("tools[{}] is a {} tool", index, kind);
            return Err(needs_native(provider, &what));
        }
        let function = fields(tool, &["name", "description", "parameters", "strict"]);
        chat.push(json!({"type": "function", "function": function}));
    }
    Ok(Value::Array(chat))
}

/// A mode ("auto", "none", "required") as it is; a function by name in chat's shape.
fn chat_tool_choice(choice: Value, provider: &str) -> Result<Value, CoreError> {
    match choice["type"].as_str() {
        None => Ok(choice),
        Some("function") => Ok(json!({"type": "function", "function": {"name": choice["name"]}})),
        Some(other) => Err(needs_native(
            provider,
            &format!("tool_choice of type {:?}", other),
        )),
    }
}

/// `text.format` as chat's `response_format`: none for plain text.
fn response_format(format: &Value) -> Result<Option<Value>, CoreError> {
    match format["type"].as_str() {
        None | Some("text") => Ok(None),
        Some("json_object") => Ok(Some(json!({"type": "json_object"}))),
        Some("json_schema") => {
            let schema = fields(format, &["name", "schema", "strict", "description"]);
            Ok(Some(json!({"type": "json_schema", "json_schema": schema})))
        }
        Some(other) => Err(CoreError::invalid_request(format!(
            "text.format type must be \"text\", \"json_object\" or \"json_schema\", got {:?}",
            other
        ))),
    }
}

/// A Responses input (a string, or a list of items) as chat messages, after `messages`.
fn input_messages(
    input: &Value,
    thinking_blocks: bool,
    provider: &str,
    messages: &mut Vec<Value>,
) -> Result<(), CoreError> {
    let items = match input {
        Value::String(text) => {
            messages.push(json!({"role": "user", "content": text}));
            return Ok(());
        }
        Value::Array(items) => items,
        _ => {
            return Err(CoreError::invalid_request(
                "input must be a string or a list of input items",
            ))
        }
    };
    // Reasoning items wait for the assistant message they belong to, the one after them.
    let mut reasoning: Vec<&Value> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let place = format!("input[{}]", index);
        if item["type"] == "reasoning" {
            reasoning.push(item);
            continue;
        }
        // Reasoning before anything but the assistant's turn has nowhere to go.
        let reasoning = std::mem::take(&mut reasoning);
        match item["type"].as_str() {
            None | Some("message") => {
                let role = match item["role"].as_str() {
                    Some(role @ ("user" | "assistant" | "system")) => role,
                    // The name every chat API takes.
                    Some("developer") => "system",
                    _ => {
                        return Err(CoreError::invalid_request(format!(
                            "{} has role {}, not user, assistant, system or developer",
                            place, item["role"]
                        )))
                    }
                };
                let content = content(&item["content"], &place, provider)?;
                if role != "assistant" {
                    messages.push(json!({"role": role, "content": content}));
                    continue;
                }
                let mut message = json!({"role": role, "content": joined(content)});
                attach(&mut message, &reasoning, thinking_blocks);
                messages.push(message);
            }
            Some("function_call") => {
                let call = json!({"id": item["call_id"], "type": "function",
                    "function": {"name": item["name"], "arguments": item["arguments"]}});
                // Calls after the assistant's text, or after each other, are that one message's.
                match messages.last_mut() {
                    Some(last) if last["role"] == "assistant" && reasoning.is_empty() => {
                        match last["tool_calls"].as_array_mut() {
                            Some(calls) => calls.push(call),
                            None => last["tool_calls"] = json!([call]),
                        }
                    }
                    _ => {
                        let mut message =
                            json!({"role": "assistant", "content": null, "tool_calls": [call]});
                        attach(&mut message, &reasoning, thinking_blocks);
                        messages.push(message);
                    }
                }
            }
            Some("function_call_output") => {
                let output = content(&item["output"], &place, provider)?;
                messages.push(
                    json!({"role": "tool", "tool_call_id": item["call_id"], "content": output}),
                );
            }
            Some("item_reference") => {
                let what = format!("{} is a reference to a stored item", place);
                return Err(needs_native(provider, &what));
            }
            Some(other) => {
                let what = format!("{} is a {} item", place, other);
                return Err(needs_native(provider, &what));
            }
        }
    }
    Ok(())
}

/// An assistant's text parts as one string, as every chat API takes an assistant's content.
fn joined(content: Value) -> Value {
    match content {
        Value::Array(parts) if parts.iter().all(|part| part["type"] == "text") => {
            Value::String(parts.iter().filter_map(|p| p["text"].as_str()).collect())
        }
        other => other,
    }
}

/// Gives the assistant message the reasoning items before it: their text as
/// `reasoning_content` and, for the APIs that take thinking back, Anthropic's `thinking_blocks`:
/// an item with text and `encrypted_content` is a thinking block and its signature, one with
/// only `encrypted_content` redacted thinking. Text without a signature is no block: Anthropic
/// refuses thinking it cannot check.
fn attach(message: &mut Value, reasoning: &[&Value], thinking_blocks: bool) {
    let mut texts = Vec::new();
    let mut blocks = Vec::new();
    for item in reasoning {
        let text = item_text(item);
        match (&text, &item["encrypted_content"]) {
            (Some(text), Value::String(_)) => {
                blocks.push(thinking_block(&json!(text), &item["encrypted_content"]))
            }
            (None, Value::String(_)) => blocks.push(redacted_block(&item["encrypted_content"])),
            _ => {}
        }
        texts.extend(text);
    }
    // Reasoning goes back only where it is read; to other chat servers both fields are
    // unknown, and strict ones (Mistral, DeepSeek's reasoner) refuse them.
    if !thinking_blocks {
        return;
    }
    let text = texts.join("\n\n");
    if !text.is_empty() {
        message["reasoning_content"] = json!(text);
    }
    if !blocks.is_empty() {
        message["thinking_blocks"] = Value::Array(blocks);
    }
}

/// A reasoning item's text: its reasoning text, else its summary; `None` when it has neither
/// (redacted thinking, or reasoning that is only encrypted).
fn item_text(item: &Value) -> Option<String> {
    let texts = |name: &str| -> Vec<&str> {
        item[name]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|part| part["text"].as_str())
            .collect()
    };
    let content = texts("content");
    let parts = if content.is_empty() {
        texts("summary")
    } else {
        content
    };
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// A message's or a tool output's content: a string as it is, parts as chat content parts.
fn content(content: &Value, place: &str, provider: &str) -> Result<Value, CoreError> {
    let parts = match content {
        Value::String(_) | Value::Null => return Ok(content.clone()),
        Value::Array(parts) => parts,
        _ => {
            return Err(CoreError::invalid_request(format!(
                "{} content must be a string or a list of parts",
                place
            )))
        }
    };
    let mut chat = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        let place = format!("{}.content[{}]", place, index);
        let stored = || {
            let what = format!(
                "{} names a stored file (file_id); send its data instead",
                place
            );
            needs_native(provider, &what)
        };
        chat.push(match part["type"].as_str().unwrap_or("(none)") {
            "input_text" | "output_text" => json!({"type": "text", "text": part["text"]}),
            "refusal" => json!({"type": "text", "text": part["refusal"]}),
            "input_image" if part["file_id"].is_string() => return Err(stored()),
            "input_image" => {
                let mut image = json!({"url": part["image_url"]});
                if part["detail"].is_string() {
                    image["detail"] = part["detail"].clone();
                }
                json!({"type": "image_url", "image_url": image})
            }
            "input_file" if part["file_data"].is_string() => {
                let file = fields(part, &["file_data", "filename"]);
                json!({"type": "file", "file": file})
            }
            "input_file" if part["file_id"].is_string() => return Err(stored()),
            "input_file" => {
                return Err(CoreError::invalid_request(format!(
                    "{} is a file without file_data, which chat APIs need",
                    place
                )))
            }
            other => {
                return Err(CoreError::invalid_request(format!(
                    "{} has type {:?}: a part is input_text, output_text, refusal, input_image or input_file",
                    place, other
                )))
            }
        });
    }
    Ok(Value::Array(chat))
}

/// What a piece of an item's content is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reasoning,
    Text,
    Refusal,
}

impl Kind {
    /// The types of the events of a part's deltas and of its end, and the end's field that
    /// holds the whole text.
    fn events(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Reasoning => (
                "response.reasoning_text.delta",
                "response.reasoning_text.done",
                "text",
            ),
            Kind::Text => (
                "response.output_text.delta",
                "response.output_text.done",
                "text",
            ),
            Kind::Refusal => ("response.refusal.delta", "response.refusal.done", "refusal"),
        }
    }
}

/// The fields of a chat message or delta that are a message item's text, and their kinds.
const TEXTS: &[(Kind, &str)] = &[(Kind::Text, "content"), (Kind::Refusal, "refusal")];

/// A content part of an output item.
#[derive(Debug)]
struct Part {
    kind: Kind,
    text: String,
}

impl Part {
    fn new(kind: Kind, text: &str) -> Self {
        Part {
            kind,
            text: text.to_string(),
        }
    }

    fn json(&self) -> Value {
        match self.kind {
            Kind::Reasoning => json!({"type": "reasoning_text", "text": self.text}),
            Kind::Text => {
                json!({"type": "output_text", "text": self.text, "annotations": [], "logprobs": []})
            }
            Kind::Refusal => json!({"type": "refusal", "refusal": self.text}),
        }
    }
}

/// An output item of a response.
#[derive(Debug)]
enum Item {
    /// Reasoning text, and what the provider needs to take it back: a thinking block's
    /// signature, or redacted thinking's data (then without text).
    Reasoning {
        parts: Vec<Part>,
        encrypted: Value,
    },
    Message {
        parts: Vec<Part>,
    },
    Call {
        call_id: Value,
        name: Value,
        arguments: String,
    },
}

impl Item {
    /// The item as a response lists it; `status` is a message's or a call's.
    fn json(&self, id: &str, status: &str) -> Value {
        let contents = |parts: &[Part]| Value::Array(parts.iter().map(Part::json).collect());
        match self {
            Item::Reasoning { parts, encrypted } => json!({"type": "reasoning", "id": id,
                "summary": [], "content": contents(parts), "encrypted_content": encrypted}),
            Item::Message { parts } => json!({"type": "message", "id": id, "status": status,
                "role": "assistant", "content": contents(parts)}),
            Item::Call {
                call_id,
                name,
                arguments,
            } => json!({"type": "function_call", "id": id, "call_id": call_id, "name": name,
                "arguments": arguments, "status": status}),
        }
    }

    fn parts(&self) -> &[Part] {
        match self {
            Item::Reasoning { parts, .. } | Item::Message { parts } => parts,
            Item::Call { .. } => &[],
        }
    }

    fn parts_mut(&mut self) -> Option<&mut Vec<Part>> {
        match self {
            Item::Reasoning { parts, .. } | Item::Message { parts } => Some(parts),
            Item::Call { .. } => None,
        }
    }

    fn last_part(&mut self) -> Option<&mut Part> {
        self.parts_mut()?.last_mut()
    }
}

/// A thinking block of a chat answer (`thinking_blocks`) as a reasoning item.
fn thinking_item(block: &Value) -> Option<Item> {
    match block["type"].as_str()? {
        "thinking" => Some(Item::Reasoning {
            parts: vec![Part::new(
                Kind::Reasoning,
                block["thinking"].as_str().unwrap_or(""),
            )],
            encrypted: block["signature"].clone(),
        }),
        "redacted_thinking" => Some(Item::Reasoning {
            parts: Vec::new(),
            encrypted: block["data"].clone(),
        }),
        _ => None,
    }
}

/// A message's or a delta's reasoning text: `reasoning_content`, or `reasoning` as some
/// OpenAI-compatible servers (vLLM, Ollama, OpenRouter) name it.
fn reasoning_of(message: &Value) -> &str {
    message["reasoning_content"]
        .as_str()
        .or_else(|| message["reasoning"].as_str())
        .unwrap_or("")
}

/// What a response is known by: the part its ids share, its model, and its time.
struct Head {
    suffix: String,
    model: Value,
    created: Value,
}

impl Head {
    /// The head of the response to a chat answer or chunk: its ids from the call's nonce, else
    /// from the answer's id.
    fn new(context: &Context, answer: &Value) -> Self {
        let id = answer["id"].as_str().unwrap_or("");
        let id = id.strip_prefix("chatcmpl-").unwrap_or(id);
        let seed = if context.nonce.is_empty() {
            id
        } else {
            &context.nonce
        };
        let mut suffix: String = seed.chars().filter(char::is_ascii_alphanumeric).collect();
        if suffix.is_empty() {
            suffix = context.created.to_string();
        }
        let or = |value: &Value, default: Value| match value {
            Value::Null => default,
            value => value.clone(),
        };
        Head {
            suffix,
            model: or(&answer["model"], json!(context.model)),
            created: or(&answer["created"], json!(context.created)),
        }
    }

    /// The id of the output item at `index`.
    fn item_id(&self, item: &Item, index: usize) -> String {
        let prefix = match item {
            Item::Reasoning { .. } => "rs",
            Item::Message { .. } => "msg",
            Item::Call { .. } => "fc",
        };
        format!("{}_{}_{}", prefix, self.suffix, index)
    }

    /// A call id for a tool call that came without one, at output `index`.
    fn call_id(&self, call: &Value, index: usize) -> Value {
        match &call["id"] {
            Value::String(id) => json!(id),
            _ => json!(format!("call_{}_{}", self.suffix, index)),
        }
    }
}

/// A response's status and `incomplete_details`, from the chat answer's finish reason.
fn ending(finish_reason: &Value) -> (&'static str, Value) {
    match finish_reason.as_str() {
        Some("length") => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some("content_filter") => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

/// An item's status: the last item of an incomplete response is the one cut short.
fn item_status(response_status: &str, last: bool) -> &'static str {
    if last && response_status == "incomplete" {
        "incomplete"
    } else {
        "completed"
    }
}

/// Chat usage as a response's.
fn usage(chat: &Value) -> Value {
    if !chat.is_object() {
        return Value::Null;
    }
    let count = |pointer: &str| chat.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    let (input, output) = (count("/prompt_tokens"), count("/completion_tokens"));
    json!({
        "input_tokens": input,
        "input_tokens_details": {
            "cached_tokens": count("/prompt_tokens_details/cached_tokens"),
            "cache_write_tokens": count("/prompt_tokens_details/cache_creation_tokens"),
        },
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": count("/completion_tokens_details/reasoning_tokens")},
        "total_tokens": chat["total_tokens"].as_u64().unwrap_or(input.saturating_add(output)),
    })
}

/// A response object: its head, status, output items and usage, and the request's fields that
/// it repeats (`context.echo`, or their defaults).
fn response_object(
    context: &Context,
    head: &Head,
    (status, incomplete): (&str, Value),
    items: &[Item],
    usage: Value,
) -> Value {
    let output: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let status = item_status(status, index + 1 == items.len());
            item.json(&head.item_id(item, index), status)
        })
        .collect();
    let mut response = json!({
        "id": format!("resp_{}", head.suffix),
        "object": "response",
        "created_at": head.created,
        "status": status,
        "error": null,
        "incomplete_details": incomplete,
        "model": head.model,
        "output": output,
        "usage": usage,
    });
    let echo = match &context.echo {
        Value::Object(fields) => fields.clone(),
        _ => echo(&Map::new()),
    };
    if let Value::Object(fields) = &mut response {
        fields.extend(echo);
    }
    response
}

/// A chat.completion (JSON text, as the provider's reader wrote it) as a response object.
pub fn response(context: &Context, completion: &str) -> Result<String, CoreError> {
    let completion = parse_json(completion.as_bytes(), context.limits.max_depth)?;
    let head = Head::new(context, &completion);
    let choice = completion["choices"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|choice| choice["index"].as_u64().unwrap_or(0) == 0)
        .unwrap_or(&Value::Null);
    let message = &choice["message"];
    let mut items: Vec<Item> = message["thinking_blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(thinking_item)
        .collect();
    let reasoning = reasoning_of(message);
    if items.is_empty() && !reasoning.is_empty() {
        let parts = vec![Part::new(Kind::Reasoning, reasoning)];
        let encrypted = Value::Null;
        items.push(Item::Reasoning { parts, encrypted });
    }
    let parts: Vec<Part> = TEXTS
        .iter()
        .filter_map(|&(kind, field)| {
            let text = message[field].as_str().filter(|text| !text.is_empty())?;
            Some(Part::new(kind, text))
        })
        .collect();
    if !parts.is_empty() {
        items.push(Item::Message { parts });
    }
    for call in message["tool_calls"].as_array().into_iter().flatten() {
        let function = &call["function"];
        items.push(Item::Call {
            call_id: head.call_id(call, items.len()),
            name: function["name"].clone(),
            arguments: function["arguments"].as_str().unwrap_or("").to_string(),
        });
    }
    let ending = ending(&choice["finish_reason"]);
    let usage = usage(&completion["usage"]);
    Ok(response_object(context, &head, ending, &items, usage).to_string())
}

/// The provider's chat translator, its chunks made Responses stream events.
pub fn translator(context: &Context, chat: Box<dyn Translate>) -> Box<dyn Translate> {
    Box::new(Bridge {
        chat,
        head: Head::new(context, &Value::Null),
        context: context.clone(),
        started: false,
        sequence: 0,
        items: Vec::new(),
        open: false,
        calls: HashMap::new(),
        finish_reason: Value::Null,
        usage: Value::Null,
    })
}

/// A Responses stream written from a chat stream's chunks: items open as their first delta
/// comes and close when another starts or the answer ends.
struct Bridge {
    chat: Box<dyn Translate>,
    context: Context,
    /// From the first chunk, when `response.created` goes out (`started`).
    head: Head,
    started: bool,
    /// The next event's `sequence_number`.
    sequence: u64,
    items: Vec<Item>,
    /// The last item is still open: more of it may come.
    open: bool,
    /// The chat stream's tool call indexes, and the items they are.
    calls: HashMap<u64, usize>,
    finish_reason: Value,
    usage: Value,
}

impl Translate for Bridge {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        let mut chunks = Chunks::default();
        let ended = self.chat.event(event, &mut chunks);
        self.read(&mut chunks, out)?;
        if ended? {
            self.finish(out);
            return Ok(true);
        }
        Ok(false)
    }

    fn end(&mut self, out: &mut Chunks) -> Option<CoreError> {
        let mut chunks = Chunks::default();
        let error = self.chat.end(&mut chunks);
        if let Err(error) = self.read(&mut chunks, out) {
            return Some(error);
        }
        if error.is_none() {
            self.finish(out);
        }
        error
    }
}

impl Bridge {
    /// Writes an event: its type, `fields`, and its sequence number.
    fn emit(&mut self, out: &mut Chunks, kind: &str, fields: Value) {
        let mut event = Map::new();
        event.insert("type".into(), json!(kind));
        if let Value::Object(fields) = fields {
            event.extend(fields);
        }
        event.insert("sequence_number".into(), json!(self.sequence));
        self.sequence += 1;
        out.push(&event);
    }

    /// The chat chunks the chat translator wrote, as events.
    fn read(&mut self, chunks: &mut Chunks, out: &mut Chunks) -> Result<(), CoreError> {
        let chunks: Vec<Value> = serde_json::from_str(&chunks.take_array()).map_err(|e| {
            CoreError::invalid_response(format!("a chat chunk is not valid JSON: {}", e))
        })?;
        for chunk in &chunks {
            self.chunk(chunk, out)?;
        }
        Ok(())
    }

    fn chunk(&mut self, chunk: &Value, out: &mut Chunks) -> Result<(), CoreError> {
        self.start(chunk, out);
        if !chunk["usage"].is_null() {
            self.usage = chunk["usage"].clone();
        }
        let choices = chunk["choices"].as_array().into_iter().flatten();
        for choice in choices.filter(|c| c["index"].as_u64().unwrap_or(0) == 0) {
            let delta = &choice["delta"];
            let reasoning = reasoning_of(delta);
            if !reasoning.is_empty() {
                self.text(Kind::Reasoning, reasoning, out);
            }
            for block in delta["thinking_blocks"].as_array().into_iter().flatten() {
                self.thinking(block, out);
            }
            for &(kind, field) in TEXTS {
                match delta[field].as_str() {
                    Some(text) if !text.is_empty() => self.text(kind, text, out),
                    _ => {}
                }
            }
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                self.tool_call(call, out)?;
            }
            if !choice["finish_reason"].is_null() {
                self.finish_reason = choice["finish_reason"].clone();
            }
        }
        // Every item and part is kept to the end and written again in the last events: a bound
        // keeps a hostile stream (a call, a text and a thought by turns) from growing without one.
        // Parts are only ever added to the last item.
        let parts = self.items.last().map_or(0, |item| item.parts().len());
        if self.items.len() > MAX_ITEMS || parts > MAX_ITEMS {
            return Err(CoreError::invalid_response(format!(
                "the stream has more than {} output items or parts of one",
                MAX_ITEMS
            )));
        }
        Ok(())
    }

    /// `response.created` and `response.in_progress`, once, with the first chunk's identity.
    fn start(&mut self, chunk: &Value, out: &mut Chunks) {
        if self.started {
            return;
        }
        self.started = true;
        self.head = Head::new(&self.context, chunk);
        let in_progress = ("in_progress", Value::Null);
        let response = response_object(&self.context, &self.head, in_progress, &[], Value::Null);
        let fields = json!({ "response": response });
        self.emit(out, "response.created", fields.clone());
        self.emit(out, "response.in_progress", fields);
    }

    /// Where the last item is: its id and output index, and with `part`, its last part's index.
    fn at_last(&self, part: bool) -> Value {
        let index = match self.items.len().checked_sub(1) {
            Some(index) => index,
            None => return Value::Null,
        };
        let item = &self.items[index];
        let mut at = json!({"item_id": self.head.item_id(item, index), "output_index": index});
        if part {
            at["content_index"] = json!(item.parts().len().saturating_sub(1));
        }
        at
    }

    /// Opens `item`, closing the open one.
    fn add(&mut self, item: Item, out: &mut Chunks) {
        self.close(out, "completed");
        let index = self.items.len();
        let added = item.json(&self.head.item_id(&item, index), "in_progress");
        self.items.push(item);
        self.open = true;
        let fields = json!({"output_index": index, "item": added});
        self.emit(out, "response.output_item.added", fields);
    }

    /// Text of `kind`: in the open item if it is of its sort (else in a new one), in a part of
    /// its kind (else in a new one).
    fn text(&mut self, kind: Kind, text: &str, out: &mut Chunks) {
        let fits = match self.items.last() {
            Some(Item::Reasoning { .. }) => kind == Kind::Reasoning,
            Some(Item::Message { .. }) => kind != Kind::Reasoning,
            _ => false,
        };
        if !(self.open && fits) {
            let parts = Vec::new();
            let item = match kind {
                Kind::Reasoning => Item::Reasoning {
                    parts,
                    encrypted: Value::Null,
                },
                _ => Item::Message { parts },
            };
            self.add(item, out);
        }
        let parts = self.items.last().map_or(&[][..], Item::parts);
        if parts.last().map(|part| part.kind) != Some(kind) {
            self.close_part(out);
            let part = Part::new(kind, "");
            let json = part.json();
            if let Some(parts) = self.items.last_mut().and_then(Item::parts_mut) {
                parts.push(part);
            }
            let mut fields = self.at_last(true);
            fields["part"] = json;
            self.emit(out, "response.content_part.added", fields);
        }
        if text.is_empty() {
            return;
        }
        if let Some(part) = self.items.last_mut().and_then(Item::last_part) {
            part.text.push_str(text);
        }
        let mut fields = self.at_last(true);
        fields["delta"] = json!(text);
        if kind == Kind::Text {
            fields["logprobs"] = json!([]);
        }
        self.emit(out, kind.events().0, fields);
    }

    /// Closes the last item's last part, if it has one.
    fn close_part(&mut self, out: &mut Chunks) {
        let part = match self.items.last().and_then(|item| item.parts().last()) {
            Some(part) => part,
            None => return,
        };
        let (_, done, field) = part.kind.events();
        let mut fields = self.at_last(true);
        fields[field] = json!(part.text);
        if part.kind == Kind::Text {
            fields["logprobs"] = json!([]);
        }
        let mut part_done = self.at_last(true);
        part_done["part"] = part.json();
        self.emit(out, done, fields);
        self.emit(out, "response.content_part.done", part_done);
    }

    /// Closes the open item, if any, with `status` if it is a message or a call.
    fn close(&mut self, out: &mut Chunks, status: &str) {
        if !std::mem::replace(&mut self.open, false) {
            return;
        }
        let index = self.items.len() - 1;
        match &self.items[index] {
            Item::Call { arguments, .. } => {
                let mut fields = self.at_last(false);
                fields["arguments"] = json!(arguments);
                self.emit(out, "response.function_call_arguments.done", fields);
            }
            _ => self.close_part(out),
        }
        let item = &self.items[index];
        let done = item.json(&self.head.item_id(item, index), status);
        let fields = json!({"output_index": index, "item": done});
        self.emit(out, "response.output_item.done", fields);
    }

    /// A whole thinking block: it ends the reasoning streamed before it, giving it the block's
    /// signature; without such reasoning (redacted thinking, or thinking sent whole) it is a
    /// reasoning item of its own, its text one delta.
    fn thinking(&mut self, block: &Value, out: &mut Chunks) {
        let (parts, encrypted) = match thinking_item(block) {
            Some(Item::Reasoning { parts, encrypted }) => (parts, encrypted),
            _ => return,
        };
        let streamed = self.open && matches!(self.items.last(), Some(Item::Reasoning { .. }));
        if !streamed {
            let item = Item::Reasoning {
                parts: Vec::new(),
                encrypted: Value::Null,
            };
            self.add(item, out);
            for part in parts {
                self.text(part.kind, &part.text, out);
            }
        }
        if let Some(Item::Reasoning {
            encrypted: last, ..
        }) = self.items.last_mut()
        {
            *last = encrypted;
        }
        self.close(out, "completed");
    }

    /// A tool call's first delta opens its item; later ones add to its arguments.
    fn tool_call(&mut self, call: &Value, out: &mut Chunks) -> Result<(), CoreError> {
        let position = call["index"].as_u64();
        let known = position.and_then(|position| self.calls.get(&position).copied());
        match known {
            // Every chat stream sends one call's deltas before the next call's.
            Some(item) if !(self.open && item + 1 == self.items.len()) => {
                return Err(CoreError::invalid_response(format!(
                    "the stream went back to tool call {} after another item started",
                    call["index"]
                )))
            }
            Some(_) => {}
            None => {
                let index = self.items.len();
                let item = Item::Call {
                    call_id: self.head.call_id(call, index),
                    name: call["function"]["name"].clone(),
                    arguments: String::new(),
                };
                self.add(item, out);
                if let Some(position) = position {
                    self.calls.insert(position, index);
                }
            }
        }
        let delta = call["function"]["arguments"].as_str().unwrap_or("");
        if delta.is_empty() {
            return Ok(());
        }
        if let Some(Item::Call { arguments, .. }) = self.items.last_mut() {
            arguments.push_str(delta);
        }
        let mut fields = self.at_last(false);
        fields["delta"] = json!(delta);
        self.emit(out, "response.function_call_arguments.delta", fields);
        Ok(())
    }

    /// The end of the answer: the open item closes, and the whole response comes as
    /// `response.completed` (or `response.incomplete`), as `response` writes it.
    fn finish(&mut self, out: &mut Chunks) {
        self.start(&Value::Null, out);
        let (status, incomplete) = ending(&self.finish_reason);
        self.close(out, item_status(status, true));
        let usage = usage(&self.usage);
        let response = response_object(
            &self.context,
            &self.head,
            (status, incomplete),
            &self.items,
            usage,
        );
        let kind = if status == "incomplete" {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.emit(out, kind, json!({ "response": response }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{anthropic, openai, testing};

    /// A Responses call to `prefix/model` of `input` with `params`, made a chat call, and the
    /// context it is read with.
    fn bridged(prefix: &str, input: Value, params: Value, stream: bool) -> (Call, Context) {
        let mut call = testing::call(prefix, "m", input, params);
        call.operation = Operation::Responses;
        call.stream = stream;
        let mut context = Context {
            operation: Operation::Responses,
            include_usage: false,
            ..testing::context(prefix, "m")
        };
        let call = chat_call(call, &mut context).unwrap();
        (call, context)
    }

    fn refused(prefix: &str, input: Value, params: Value) -> String {
        let mut call = testing::call(prefix, "m", input, params);
        call.operation = Operation::Responses;
        let mut context = testing::context(prefix, "m");
        chat_call(call, &mut context).err().unwrap().message
    }

    #[test]
    fn a_string_input_instructions_and_the_fields_chat_has() {
        let params = json!({
            "instructions": "Be brief.", "max_output_tokens": 50, "temperature": 0.5,
            "tools": [{"type": "function", "name": "f", "description": "F.", "parameters": {"type": "object"}, "strict": true}],
            "tool_choice": {"type": "function", "name": "f"},
            "text": {"format": {"type": "json_schema", "name": "p", "schema": {"type": "object"}, "strict": true}},
            "reasoning": {"effort": "low", "summary": "auto"},
            "store": false, "metadata": {"k": "v"}, "include": ["reasoning.encrypted_content"],
            "previous_response_id": null, "truncation": "disabled",
        });
        let (call, context) = bridged("anthropic", json!("Hi"), params, true);
        assert_eq!(call.operation, Operation::Chat);
        assert_eq!(
            call.messages,
            json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
        );
        assert_eq!(
            Value::Object(call.params),
            json!({
                "temperature": 0.5,
                "tools": [{"type": "function", "function": {"name": "f", "description": "F.", "parameters": {"type": "object"}, "strict": true}}],
                "tool_choice": {"type": "function", "function": {"name": "f"}},
                "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": {"type": "object"}, "strict": true}},
                "reasoning_effort": "low",
                "max_tokens": 50,
                "stream_options": {"include_usage": true},
            })
        );
        // A stream's last event carries the usage: the chat stream must end with it.
        assert!(context.include_usage);
        assert_eq!(context.echo["instructions"], "Be brief.");
        assert_eq!(context.echo["metadata"], json!({"k": "v"}));
        assert_eq!(
            context.echo["tool_choice"],
            json!({"type": "function", "name": "f"})
        );
        assert_eq!(context.echo["parallel_tool_calls"], true);
        assert_eq!(context.echo["previous_response_id"], Value::Null);
        // The fields with no place in chat are not sent.
        let (call, _) = bridged(
            "gemini",
            json!("Hi"),
            json!({"text": {"format": {"type": "text"}}}),
            false,
        );
        assert!(call.params.is_empty());
    }

    #[test]
    fn items_with_parts_calls_and_their_outputs() {
        let input = json!([
            {"role": "developer", "content": "Rules."},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "Look"},
                {"type": "input_image", "image_url": "data:image/png;base64,AA", "detail": "low"},
                {"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,JV"}]},
            {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
             "content": [{"type": "output_text", "text": "Checking", "annotations": []}, {"type": "output_text", "text": "."}]},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "g", "arguments": "{\"a\":1}"},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "two"}]},
        ]);
        let (call, _) = bridged("openai", input, json!({}), false);
        assert_eq!(
            call.messages,
            json!([
                {"role": "system", "content": "Rules."},
                {"role": "user", "content": [
                    {"type": "text", "text": "Look"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA", "detail": "low"}},
                    {"type": "file", "file": {"file_data": "data:application/pdf;base64,JV", "filename": "a.pdf"}}]},
                // The calls after the assistant's text are that message's.
                {"role": "assistant", "content": "Checking.", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "{\"a\":1}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "one"},
                {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "two"}]},
            ])
        );
    }

    #[test]
    fn reasoning_items_go_back_to_the_next_assistant_message() {
        let input = json!([
            {"role": "user", "content": "Weather?"},
            {"type": "reasoning", "id": "rs_1", "summary": [], "content": [{"type": "reasoning_text", "text": "hmm"}], "encrypted_content": "sig-1"},
            {"type": "reasoning", "id": "rs_2", "summary": [], "content": [], "encrypted_content": "opaque"},
            {"type": "function_call", "call_id": "toolu_1", "name": "weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "toolu_1", "output": "sunny"},
        ]);
        let (call, _) = bridged("anthropic", input.clone(), json!({}), false);
        assert_eq!(
            call.messages[1],
            json!({"role": "assistant", "content": null,
                "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}],
                "reasoning_content": "hmm",
                "thinking_blocks": [{"type": "thinking", "thinking": "hmm", "signature": "sig-1"},
                                    {"type": "redacted_thinking", "data": "opaque"}]})
        );
        // Other servers read neither, and strict ones refuse fields they do not know.
        let (call, _) = bridged("deepseek", input, json!({}), false);
        assert!(call.messages[1].get("reasoning_content").is_none());
        assert!(call.messages[1].get("thinking_blocks").is_none());
    }

    #[test]
    fn claude_thinking_and_tool_calls_go_round_without_loss() {
        // Claude's answer, read as every Anthropic answer is, then made a response.
        let answer = json!({"id": "msg_1", "model": "claude", "stop_reason": "tool_use",
            "content": [{"type": "thinking", "thinking": "hmm", "signature": "sig-1"},
                        {"type": "redacted_thinking", "data": "opaque"},
                        {"type": "text", "text": "Checking."},
                        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}],
            "usage": {"input_tokens": 5, "output_tokens": 3}});
        let (_, context) = bridged("anthropic", json!("x"), json!({}), false);
        let completion =
            anthropic::parse_response(&context, 200, answer.to_string().as_bytes()).unwrap();
        let response: Value =
            serde_json::from_str(&response(&context, &completion).unwrap()).unwrap();
        // Its output items, sent back with the tool's result, are Claude's blocks again.
        let mut input = vec![json!({"role": "user", "content": "x"})];
        input.extend(response["output"].as_array().unwrap().clone());
        input.push(json!({"type": "function_call_output", "call_id": "toolu_1", "output": "2"}));
        let (call, mut context) = bridged("anthropic", Value::Array(input), json!({}), false);
        let request = anthropic::build_request(call, &mut context).unwrap();
        let sent: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(sent["messages"][1]["content"], answer["content"]);
    }

    #[test]
    fn what_needs_a_native_responses_api_is_refused_by_name() {
        let user = || json!("x");
        for (params, name) in [
            (
                json!({"previous_response_id": "resp_1"}),
                "previous_response_id",
            ),
            (json!({"store": true}), "store=true"),
            (json!({"background": true}), "background=true"),
            (json!({"conversation": "conv_1"}), "conversation"),
            (json!({"prompt": {"id": "pmpt_1"}}), "prompt"),
            (
                json!({"tools": [{"type": "function", "name": "f"}, {"type": "web_search"}]}),
                "tools[1] is a web_search tool",
            ),
            (
                json!({"tool_choice": {"type": "file_search"}}),
                "tool_choice of type \"file_search\"",
            ),
        ] {
            let message = refused("anthropic", user(), params);
            assert!(message.starts_with(name), "{}", message);
            assert!(
                message.contains("native Responses API (openai/, azure/): anthropic/"),
                "{}",
                message
            );
        }
        for (input, name) in [
            (
                json!([{"type": "item_reference", "id": "msg_1"}]),
                "input[0] is a reference to a stored item",
            ),
            (
                json!([{"type": "web_search_call", "id": "ws_1"}]),
                "input[0] is a web_search_call item",
            ),
            (
                json!([{"role": "user", "content": [{"type": "input_image", "file_id": "file_1"}]}]),
                "input[0].content[0] names a stored file",
            ),
            (
                json!([{"role": "user", "content": [{"type": "input_file", "file_id": "file_1"}]}]),
                "input[0].content[0] names a stored file",
            ),
        ] {
            let message = refused("gemini", input, json!({}));
            assert!(message.starts_with(name), "{}", message);
        }
        // Asking for none of it is no refusal.
        let params = json!({"store": false, "background": false, "previous_response_id": null});
        bridged("anthropic", user(), params, false);
    }

    fn completion(message: Value, finish_reason: &str) -> String {
        json!({"id": "chatcmpl-abc", "object": "chat.completion", "created": 1700000000, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                      "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens_details": {"reasoning_tokens": 1}}})
        .to_string()
    }

    fn response_to(context: &Context, completion: &str) -> Value {
        serde_json::from_str(&response(context, completion).unwrap()).unwrap()
    }

    #[test]
    fn cache_reads_and_writes_keep_their_classes() {
        let (_, context) = bridged("anthropic", json!("x"), json!({}), false);
        let answer = json!({"id": "chatcmpl-abc", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 16, "completion_tokens": 7, "total_tokens": 23,
                      "prompt_tokens_details": {"cached_tokens": 4, "cache_creation_tokens": 2}}});
        let response = response_to(&context, &answer.to_string());
        assert_eq!(
            response["usage"]["input_tokens_details"],
            json!({"cached_tokens": 4, "cache_write_tokens": 2})
        );
    }

    #[test]
    fn a_text_answer_is_a_completed_response_with_the_request_repeated() {
        let params = json!({"instructions": "Be brief.", "temperature": 0.5});
        let (_, context) = bridged("deepseek", json!("x"), params, false);
        let answer = completion(json!({"role": "assistant", "content": "Hi."}), "stop");
        let response = response_to(&context, &answer);
        assert_eq!(
            response,
            json!({
                "id": "resp_abc", "object": "response", "created_at": 1700000000, "status": "completed",
                "error": null, "incomplete_details": null, "model": "m",
                "output": [{"type": "message", "id": "msg_abc_0", "status": "completed", "role": "assistant",
                            "content": [{"type": "output_text", "text": "Hi.", "annotations": [], "logprobs": []}]}],
                "usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 2, "cache_write_tokens": 0},
                          "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 1}, "total_tokens": 15},
                "instructions": "Be brief.", "tools": [], "tool_choice": "auto", "parallel_tool_calls": true,
                "temperature": 0.5, "top_p": null, "max_output_tokens": null, "text": {"format": {"type": "text"}},
                "reasoning": null, "metadata": {}, "truncation": "disabled", "user": null,
                "previous_response_id": null,
            })
        );
        // The nonce, where the reader keeps one, names the response.
        let context = Context {
            nonce: "0123abcd".into(),
            ..context
        };
        assert_eq!(response_to(&context, &answer)["id"], "resp_0123abcd");
    }

    #[test]
    fn reasoning_text_and_calls_are_items_in_that_order() {
        let (_, context) = bridged("deepseek", json!("x"), json!({}), false);
        let message = json!({"role": "assistant", "content": "Checking.", "reasoning_content": "hmm",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]});
        let output = response_to(&context, &completion(message, "tool_calls"))["output"].clone();
        assert_eq!(
            output,
            json!([
                {"type": "reasoning", "id": "rs_abc_0", "summary": [], "content": [{"type": "reasoning_text", "text": "hmm"}], "encrypted_content": null},
                {"type": "message", "id": "msg_abc_1", "status": "completed", "role": "assistant",
                 "content": [{"type": "output_text", "text": "Checking.", "annotations": [], "logprobs": []}]},
                {"type": "function_call", "id": "fc_abc_2", "call_id": "call_1", "name": "f", "arguments": "{}", "status": "completed"},
            ])
        );
    }

    #[test]
    fn a_cut_answer_is_incomplete_and_so_is_its_last_item() {
        let (_, context) = bridged("deepseek", json!("x"), json!({}), false);
        let message = json!({"role": "assistant", "content": "Hal"});
        let response = response_to(&context, &completion(message.clone(), "length"));
        assert_eq!(
            (
                &response["status"],
                &response["incomplete_details"],
                &response["output"][0]["status"]
            ),
            (
                &json!("incomplete"),
                &json!({"reason": "max_output_tokens"}),
                &json!("incomplete")
            )
        );
        let response = response_to(&context, &completion(message, "content_filter"));
        assert_eq!(
            response["incomplete_details"],
            json!({"reason": "content_filter"})
        );
    }

    /// The events `translator` writes for `events`, read by `chat`, and the error it ended with.
    fn stream(
        context: &Context,
        chat: Box<dyn Translate>,
        events: &[Value],
    ) -> (Vec<Value>, Option<CoreError>) {
        let mut bridge = translator(context, chat);
        let mut out = Chunks::default();
        let mut error = None;
        let mut ended = false;
        for data in events {
            let data = match data {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let event = Event {
                event_type: String::new(),
                data,
                id: String::new(),
            };
            match bridge.event(event, &mut out) {
                Ok(true) => {
                    ended = true;
                    break;
                }
                Ok(false) => {}
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        if !ended && error.is_none() {
            error = bridge.end(&mut out);
        }
        let events: Value = serde_json::from_str(&out.take_array()).unwrap();
        (events.as_array().unwrap().clone(), error)
    }

    fn types(events: &[Value]) -> Vec<&str> {
        events.iter().map(|e| e["type"].as_str().unwrap()).collect()
    }

    /// Checks what every stream must be: numbered from 0, and its last event's response the one
    /// `response` writes for the same answer read whole.
    fn check(events: &[Value], context: &Context, completion: &str) {
        for (number, event) in events.iter().enumerate() {
            assert_eq!(event["sequence_number"], number, "{}", event);
        }
        let last = events.last().unwrap();
        assert_eq!(last["response"], response_to(context, completion));
        assert_eq!(events[0]["response"]["id"], last["response"]["id"]);
    }

    #[test]
    fn an_anthropic_stream_of_thinking_redacted_thinking_text_and_a_call() {
        let (_, context) = bridged("anthropic", json!("x"), json!({}), true);
        let events = [
            json!({"type": "message_start", "message": {"id": "msg_1", "model": "claude", "usage": {"input_tokens": 10}}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "m"}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "sig-1"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "redacted_thinking", "data": "opaque"}}),
            json!({"type": "content_block_stop", "index": 1}),
            json!({"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": "Checking."}}),
            json!({"type": "content_block_stop", "index": 2}),
            json!({"type": "content_block_start", "index": 3, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}}),
            json!({"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "{\"a\":"}}),
            json!({"type": "content_block_delta", "index": 3, "delta": {"type": "input_json_delta", "partial_json": "1}"}}),
            json!({"type": "content_block_stop", "index": 3}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 7}}),
            json!({"type": "message_stop"}),
        ];
        let (out, error) = stream(&context, anthropic::translator(&context), &events);
        assert!(error.is_none(), "{:?}", error);
        assert_eq!(
            types(&out),
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.reasoning_text.delta",
                "response.reasoning_text.delta",
                "response.reasoning_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.output_item.done",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        assert_eq!(out[0]["response"]["status"], "in_progress");
        // Each thinking block's item carries what Anthropic needs to take it back.
        assert_eq!(out[8]["item"]["encrypted_content"], "sig-1");
        assert_eq!(
            out[10]["item"],
            json!({"type": "reasoning", "id": "rs_msg1_1", "summary": [], "content": [], "encrypted_content": "opaque"})
        );
        assert_eq!(
            out[13],
            json!({"type": "response.output_text.delta", "item_id": "msg_msg1_2", "output_index": 2,
                   "content_index": 0, "delta": "Checking.", "logprobs": [], "sequence_number": 13})
        );
        assert_eq!(out[17]["item"]["arguments"], "");
        // The same answer, read whole.
        let answer = json!({"id": "msg_1", "model": "claude", "stop_reason": "tool_use",
            "content": [{"type": "thinking", "thinking": "hmm", "signature": "sig-1"},
                        {"type": "redacted_thinking", "data": "opaque"},
                        {"type": "text", "text": "Checking."},
                        {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}],
            "usage": {"input_tokens": 10, "output_tokens": 7}});
        let completion =
            anthropic::parse_response(&context, 200, answer.to_string().as_bytes()).unwrap();
        check(&out, &context, &completion);

        // An error event ends the stream with its error; so does a stream cut short.
        let error_event = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        let (_, error) = stream(
            &context,
            anthropic::translator(&context),
            &[events[0].clone(), error_event],
        );
        assert_eq!(error.unwrap().status, Some(529));
        let (out, error) = stream(&context, anthropic::translator(&context), &events[..3]);
        assert_eq!(
            error.unwrap().kind,
            crate::error::ErrorKind::StreamIncomplete
        );
        assert_eq!(types(&out).last(), Some(&"response.reasoning_text.delta"));
    }

    #[test]
    fn an_openai_compatible_stream_cut_by_max_tokens() {
        let (_, context) = bridged("deepseek", json!("x"), json!({}), true);
        let chunk = |delta: Value, finish: Value| {
            json!({"id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000, "model": "m",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        };
        let usage = json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 2}, "completion_tokens_details": {"reasoning_tokens": 1}});
        let events = [
            chunk(json!({"role": "assistant", "content": ""}), Value::Null),
            chunk(json!({"reasoning_content": "hmm"}), Value::Null),
            chunk(json!({"content": "Hal"}), Value::Null),
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
                Value::Null,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
                json!("length"),
            ),
            json!({"id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [], "usage": usage}),
            json!("[DONE]"),
        ];
        let (out, error) = stream(&context, openai::translator(&context), &events);
        assert!(error.is_none(), "{:?}", error);
        assert_eq!(
            types(&out)[2..],
            [
                "response.output_item.added",
                "response.content_part.added",
                "response.reasoning_text.delta",
                "response.reasoning_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.incomplete",
            ]
        );
        // The call was being written when the answer was cut.
        assert_eq!(out[17]["item"]["status"], "incomplete");
        let message = json!({"role": "assistant", "content": "Hal", "reasoning_content": "hmm",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]});
        check(&out, &context, &completion(message, "length"));
        // Without [DONE] the chat stream is cut short, and so is the response's.
        let (out, error) = stream(&context, openai::translator(&context), &events[..6]);
        assert_eq!(
            error.unwrap().kind,
            crate::error::ErrorKind::StreamIncomplete
        );
        assert_eq!(
            types(&out).last(),
            Some(&"response.function_call_arguments.delta")
        );
    }

    #[test]
    fn a_gemini_call_from_prepare_to_its_stream_and_answer() {
        // The whole path: `prepare` builds Gemini's request, and the context it hands the host
        // reads Gemini's stream and its complete answer as the same response.
        let call = json!({"model": "gemini/gemini-2.5-flash", "operation": "responses", "input": "Hi",
            "stream": true, "nonce": "ab12", "created": 1700000000,
            "params": {"instructions": "Be brief.", "max_output_tokens": 10}});
        let request = crate::prepare(call.to_string().as_bytes()).unwrap();
        let sent: Value = serde_json::from_slice(&request.body).unwrap();
        assert!(request.url.ends_with(":streamGenerateContent?alt=sse"));
        assert_eq!(
            sent["systemInstruction"],
            json!({"parts": [{"text": "Be brief."}]})
        );
        assert_eq!(sent["generationConfig"], json!({"maxOutputTokens": 10}));
        let usage = json!({"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5});
        let first = json!({"candidates": [{"index": 0, "content": {"role": "model", "parts": [{"text": "Hel"}]}}],
            "responseId": "r1", "modelVersion": "gemini-2.5-flash"});
        let last = json!({"candidates": [{"index": 0, "content": {"parts": [{"text": "lo"}]}, "finishReason": "STOP"}],
            "usageMetadata": usage});
        let mut stream = crate::open_stream(request.context.as_bytes()).unwrap();
        let body = format!("data: {}\n\ndata: {}\n\n", first, last);
        let fed: Value = serde_json::from_str(&stream.feed(body.as_bytes())).unwrap();
        // Gemini's stream has no end marker: the response completes when the body ends.
        let ended: Value = serde_json::from_str(&stream.finish()).unwrap();
        assert!(ended.get("error").is_none(), "{}", ended);
        let completed = ended["chunks"].as_array().unwrap().last().unwrap();
        assert_eq!(fed["chunks"][0]["response"]["id"], "resp_ab12");
        assert_eq!(completed["type"], "response.completed");
        assert_eq!(completed["response"]["output"][0]["id"], "msg_ab12_0");
        assert_eq!(completed["response"]["instructions"], "Be brief.");
        let answer = json!({"candidates": [{"index": 0, "content": {"role": "model", "parts": [{"text": "Hello"}]}, "finishReason": "STOP"}],
            "responseId": "r1", "modelVersion": "gemini-2.5-flash", "usageMetadata": usage});
        let read = crate::parse_response(
            request.context.as_bytes(),
            200,
            answer.to_string().as_bytes(),
        );
        let whole: Value = serde_json::from_str(&read.unwrap()).unwrap();
        assert_eq!(completed["response"], whole);
    }
}
