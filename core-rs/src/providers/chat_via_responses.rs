//! Chat calls to models that answer only through OpenAI's Responses API: the chat request
//! becomes a Responses request, and the response object and its stream events become a
//! chat.completion and its chunks.
//!
//! Reasoning items come back on the message as `reasoning_items`, verbatim (encrypted content
//! included), and an assistant message that carries them sends them back first: a conversation
//! with `store=False` and `include=["reasoning.encrypted_content"]` keeps its reasoning across
//! turns. Text of a message in the `commentary` phase (a preamble before tool calls) is not
//! the answer and is never returned as content.

use serde_json::{json, Map, Value};

use super::responses::{event_error, event_type};
use super::shared::{
    function_tool, image_url_of, message_list, parse_json, role_of, tool_call, tool_call_fragment,
    unsupported_part, unsupported_role, usage, Meta,
};
use crate::call::{Call, Context};
use crate::error::{api_error, CoreError, ErrorKind};
use crate::sse::Event;
use crate::translate::{Chunks, Translate};

/// Chat fields the Responses API has no place for.
const NO_PLACE: &[&str] = &[
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "audio",
    "prediction",
    "web_search_options",
    "functions",
    "function_call",
];

/// What the Responses API includes in an answer for it to carry token logprobs.
const LOGPROBS: &str = "message.output_text.logprobs";

/// The error for chat fields or parts of messages that the Responses API cannot carry.
fn no_place(names: &[String]) -> CoreError {
    let (verb, pronoun) = if names.len() == 1 {
        ("has", "it")
    } else {
        ("have", "them")
    };
    CoreError::invalid_request(format!(
        "{} {} no place in OpenAI's Responses API, which this model answers through; \
         drop_params=True leaves {} out",
        names.join(", "),
        verb,
        pronoun
    ))
}

/// The Responses request body for a chat call.
pub fn body(call: Call) -> Result<Map<String, Value>, CoreError> {
    let drop = call.drop_params;
    let mut params = call.params;
    params.retain(|_, value| !value.is_null());
    let mut refused: Vec<String> = NO_PLACE
        .iter()
        .filter(|name| params.remove(**name).is_some())
        .map(|name| name.to_string())
        .collect();
    if params.remove("n").map_or(false, |n| n != 1) {
        refused.push("n (more than one choice)".into());
    }
    if params
        .remove("modalities")
        .map_or(false, |m| m != json!(["text"]))
    {
        refused.push("modalities".into());
    }
    if !refused.is_empty() && !drop {
        return Err(no_place(&refused));
    }
    // Usage always arrives with the response's last event.
    params.remove("stream_options");

    let max_tokens = params.remove("max_tokens");
    let max_output_tokens = params.remove("max_completion_tokens").or(max_tokens);
    let tools = params.remove("tools");
    let tool_choice = params.remove("tool_choice");
    let mut text = object(params.remove("text"), "text")?;
    if let Some(format) = params.remove("response_format") {
        text.insert("format".into(), text_format(&format)?);
    }
    if let Some(verbosity) = params.remove("verbosity") {
        text.insert("verbosity".into(), verbosity);
    }
    let mut reasoning = object(params.remove("reasoning"), "reasoning")?;
    if let Some(effort) = params.remove("reasoning_effort") {
        reasoning.insert("effort".into(), effort);
    }
    let mut include = match params.remove("include") {
        None => Vec::new(),
        Some(Value::Array(include)) => include,
        Some(_) => return Err(CoreError::invalid_request("include must be a list")),
    };
    let logprobs = params.remove("logprobs") == Some(Value::Bool(true));
    let top_logprobs = params.remove("top_logprobs");
    if (logprobs || top_logprobs.is_some()) && !include.iter().any(|i| i == LOGPROBS) {
        include.push(LOGPROBS.into());
    }

    let mut body = Map::new();
    body.insert("model".into(), Value::String(call.model));
    let input = input_items(&call.messages, drop, call.provider)?;
    body.insert("input".into(), Value::Array(input));
    // The rest (temperature, top_p, parallel_tool_calls, user, metadata, store, and the
    // Responses API's own fields) has the same name in both APIs.
    body.extend(params);
    if let Some(max) = max_output_tokens {
        body.insert("max_output_tokens".into(), max);
    }
    if let Some(tools) = tools {
        let tools = match tools {
            Value::Array(tools) => tools,
            _ => return Err(CoreError::invalid_request("tools must be a list")),
        };
        let tools = tools
            .into_iter()
            .enumerate()
            .map(|(index, tool)| function(tool, index))
            .collect::<Result<Vec<_>, _>>()?;
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = tool_choice {
        // Chat's {"type": "function", "function": {"name"}}; modes and the Responses API's own
        // choices go as given.
        let choice = match choice["function"]["name"].as_str() {
            Some(name) => json!({"type": "function", "name": name}),
            None => choice,
        };
        body.insert("tool_choice".into(), choice);
    }
    for (name, fields) in [("text", text), ("reasoning", reasoning)] {
        if !fields.is_empty() {
            body.insert(name.into(), Value::Object(fields));
        }
    }
    if !include.is_empty() {
        body.insert("include".into(), Value::Array(include));
    }
    if let Some(top) = top_logprobs {
        body.insert("top_logprobs".into(), top);
    }
    // Said either way, as LiteLLM says it.
    body.insert("stream".into(), Value::Bool(call.stream));
    body.extend(call.additional_params);
    Ok(body)
}

/// A field that must be an object, as its fields (none when absent).
fn object(value: Option<Value>, name: &str) -> Result<Map<String, Value>, CoreError> {
    match value {
        None => Ok(Map::new()),
        Some(Value::Object(fields)) => Ok(fields),
        Some(_) => Err(CoreError::invalid_request(format!(
            "{} must be an object",
            name
        ))),
    }
}

/// `response_format` as the Responses API's `text.format`: the JSON schema's fields (name,
/// schema, strict, description) beside its type rather than under `json_schema`.
fn text_format(format: &Value) -> Result<Value, CoreError> {
    match format["type"].as_str() {
        Some(kind @ ("text" | "json_object")) => Ok(json!({ "type": kind })),
        Some("json_schema") => {
            let mut flat = Map::new();
            flat.insert("type".into(), "json_schema".into());
            if let Some(spec) = format["json_schema"].as_object() {
                flat.extend(spec.clone());
            }
            Ok(Value::Object(flat))
        }
        _ => Err(CoreError::invalid_request(
            "response_format type must be \"text\", \"json_object\" or \"json_schema\"",
        )),
    }
}

/// A chat tool as the Responses API's function tool; its own tools (web search, ...) go as
/// given. `strict` is sent false unless given: chat's default, where the Responses API's is true.
fn function(tool: Value, index: usize) -> Result<Value, CoreError> {
    if !tool["function"].is_object() {
        return Ok(tool);
    }
    let (name, description, parameters) = function_tool(&tool, index)?;
    let mut flat = json!({"type": "function", "name": name});
    if !description.is_null() {
        flat["description"] = description.clone();
    }
    flat["parameters"] = parameters;
    flat["strict"] = match &tool["function"]["strict"] {
        Value::Bool(strict) => Value::Bool(*strict),
        _ => Value::Bool(false),
    };
    Ok(flat)
}

/// The chat messages as the Responses API's input items.
fn input_items(messages: &Value, drop: bool, provider: &str) -> Result<Vec<Value>, CoreError> {
    let mut items = Vec::new();
    for (index, message) in message_list(messages).iter().enumerate() {
        match role_of(message, index)? {
            role @ ("system" | "developer" | "user") => {
                let content = input_content(&message["content"], index, drop, provider)?;
                items.push(json!({"type": "message", "role": role, "content": content}));
            }
            "assistant" => assistant_items(message, index, provider, &mut items)?,
            "tool" => items.push(json!({
                "type": "function_call_output",
                "call_id": message["tool_call_id"],
                "output": text_of(&message["content"]),
            })),
            "function" if drop => {}
            "function" => {
                return Err(no_place(&[format!(
                    "messages[{}] (role \"function\"; use tool messages)",
                    index
                )]))
            }
            role => return Err(unsupported_role(index, role, provider)),
        }
    }
    Ok(items)
}

/// A system, developer or user message's content as input parts (a string is one text part),
/// the form OpenAI's reference gives and LiteLLM sends.
fn input_content(
    content: &Value,
    index: usize,
    drop: bool,
    provider: &str,
) -> Result<Value, CoreError> {
    let parts = match content {
        Value::Array(parts) => parts,
        Value::Null => return Ok(json!([])),
        text => return Ok(json!([{"type": "input_text", "text": text}])),
    };
    let mut converted = Vec::new();
    for part in parts {
        converted.push(match part["type"].as_str() {
            Some("text") => json!({"type": "input_text", "text": part["text"]}),
            Some("image_url") => {
                let detail = match &part["image_url"]["detail"] {
                    Value::Null => json!("auto"),
                    detail => detail.clone(),
                };
                json!({"type": "input_image", "image_url": image_url_of(part), "detail": detail})
            }
            Some("file") => {
                // file_data, file_id, filename: the same names in both APIs.
                let mut file = json!({"type": "input_file"});
                for (name, value) in part["file"].as_object().into_iter().flatten() {
                    if !value.is_null() {
                        file[name] = value.clone();
                    }
                }
                file
            }
            Some("input_audio") if drop => continue,
            Some("input_audio") => {
                return Err(no_place(&[format!(
                    "messages[{}]'s input_audio part",
                    index
                )]))
            }
            _ => return Err(unsupported_part(index, part, provider)),
        });
    }
    Ok(Value::Array(converted))
}

/// An assistant message as items: its reasoning items as they came, its text, its tool calls.
fn assistant_items(
    message: &Value,
    index: usize,
    provider: &str,
    items: &mut Vec<Value>,
) -> Result<(), CoreError> {
    if let Some(reasoning) = message["reasoning_items"].as_array() {
        items.extend(reasoning.iter().cloned());
    }
    let output_text =
        |text: &Value| json!({"type": "output_text", "text": text, "annotations": []});
    let mut content = Vec::new();
    match &message["content"] {
        Value::String(text) if !text.is_empty() => content.push(output_text(&message["content"])),
        Value::Array(parts) => {
            for part in parts {
                content.push(match part["type"].as_str() {
                    Some("text") => output_text(&part["text"]),
                    Some("refusal") => json!({"type": "refusal", "refusal": part["refusal"]}),
                    _ => return Err(unsupported_part(index, part, provider)),
                });
            }
        }
        _ => {}
    }
    if message["refusal"].is_string() {
        content.push(json!({"type": "refusal", "refusal": message["refusal"]}));
    }
    if !content.is_empty() {
        items.push(json!({"type": "message", "role": "assistant", "content": content}));
    }
    for call in message["tool_calls"].as_array().into_iter().flatten() {
        let function = &call["function"];
        let arguments = match &function["arguments"] {
            Value::String(text) => text.clone(),
            Value::Null => "{}".into(),
            other => other.to_string(),
        };
        items.push(json!({
            "type": "function_call",
            "call_id": call["id"],
            "name": function["name"],
            "arguments": arguments,
        }));
    }
    Ok(())
}

/// A tool result's content as text: a string, or its text parts joined.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    }
}

/// A complete Responses answer as a chat.completion (JSON text).
pub fn parse_response(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    if !(200..300).contains(&status) {
        return Err(api_error(Some(status), body));
    }
    let response = parse_json(body, context.limits.max_depth)?;
    if failed(&response) {
        let mut error = failure(&response);
        error.sent_status = Some(status);
        return Err(error);
    }
    if let Some(pending @ ("queued" | "in_progress")) = response["status"].as_str() {
        return Err(CoreError::invalid_response(format!(
            "the response is {}: a chat call waits for its answer, so leave background out",
            pending
        )));
    }
    let output = message_list(&response["output"]);
    let answer = Answer::read(output);
    let finish = finish_reason(&response, !answer.tool_calls.is_empty());
    let logprobs = if answer.logprobs.is_empty() {
        Value::Null
    } else {
        json!({"content": answer.logprobs, "refusal": null})
    };
    let choices = json!([{
        "index": 0,
        "message": answer.message(),
        "finish_reason": finish,
        "logprobs": logprobs,
    }]);
    Ok(meta(&response, context)
        .completion(choices, usage_of(&response))
        .to_string())
}

/// What a response's output items say, as a chat message's parts.
struct Answer<'a> {
    content: String,
    refusal: String,
    reasoning: Vec<&'a str>,
    reasoning_items: Vec<Value>,
    tool_calls: Vec<Value>,
    logprobs: Vec<Value>,
}

impl<'a> Answer<'a> {
    fn read(output: &'a [Value]) -> Self {
        let mut answer = Answer {
            content: String::new(),
            refusal: String::new(),
            reasoning: Vec::new(),
            reasoning_items: Vec::new(),
            tool_calls: Vec::new(),
            logprobs: Vec::new(),
        };
        // Commentary (a preamble before tool calls, or the text before a final answer) is not
        // the answer, here as in streams.
        let answers = output
            .iter()
            .filter(|item| item["type"] == "message" && item["phase"] != "commentary");
        for item in answers {
            for part in message_list(&item["content"]) {
                match part["type"].as_str() {
                    Some("output_text") => {
                        answer.content.push_str(part["text"].as_str().unwrap_or(""));
                        let logprobs = message_list(&part["logprobs"]);
                        answer.logprobs.extend(logprobs.iter().map(token_logprob));
                    }
                    Some("refusal") => answer
                        .refusal
                        .push_str(part["refusal"].as_str().unwrap_or("")),
                    _ => {}
                }
            }
        }
        for item in output {
            match item["type"].as_str() {
                Some("reasoning") => {
                    let summary = message_list(&item["summary"]).iter();
                    let texts = summary.chain(message_list(&item["content"]));
                    answer
                        .reasoning
                        .extend(texts.filter_map(|part| match part["type"].as_str() {
                            Some("summary_text" | "reasoning_text") => part["text"].as_str(),
                            _ => None,
                        }));
                    answer.reasoning_items.push(item.clone());
                }
                Some("function_call") => {
                    let arguments = item["arguments"].as_str().unwrap_or("").to_string();
                    let call = tool_call(&item["call_id"], &item["name"], arguments);
                    answer.tool_calls.push(call);
                }
                _ => {}
            }
        }
        answer
    }

    fn message(self) -> Value {
        let text = |text: String| {
            if text.is_empty() {
                Value::Null
            } else {
                Value::String(text)
            }
        };
        let mut message = json!({
            "role": "assistant",
            "content": text(self.content),
            "refusal": text(self.refusal),
            "reasoning_content": text(self.reasoning.join("\n\n")),
        });
        if !self.reasoning_items.is_empty() {
            message["reasoning_items"] = Value::Array(self.reasoning_items);
        }
        if !self.tool_calls.is_empty() {
            message["tool_calls"] = Value::Array(self.tool_calls);
        }
        message
    }
}

/// A token's logprob as chat's: streamed ones come without `top_logprobs`, which chat requires.
fn token_logprob(entry: &Value) -> Value {
    let mut entry = entry.clone();
    if let Some(fields) = entry.as_object_mut() {
        fields.entry("top_logprobs").or_insert_with(|| json!([]));
    }
    entry
}

/// Whether a response reports a failure: a failed response, or a bare error object.
fn failed(response: &Value) -> bool {
    response["error"].is_object() || response["status"] == "failed"
}

/// The error a failed response reports (`error`, `{code, message}`), typed by its code as an
/// `error` event's is.
fn failure(response: &Value) -> CoreError {
    match &response["error"] {
        error @ Value::Object(_) => event_error(&error.to_string()),
        _ => {
            let mut error =
                CoreError::new(ErrorKind::ApiError, "the response failed without a reason");
            error.status = Some(500);
            error
        }
    }
}

fn finish_reason(response: &Value, called_tools: bool) -> &'static str {
    if called_tools {
        return "tool_calls";
    }
    match response["incomplete_details"]["reason"].as_str() {
        Some("max_output_tokens") => "length",
        Some("content_filter") => "content_filter",
        _ => "stop",
    }
}

fn usage_of(response: &Value) -> Value {
    let counts = &response["usage"];
    if !counts.is_object() {
        return Value::Null;
    }
    let count = |value: &Value| value.as_u64().unwrap_or(0);
    usage(
        count(&counts["input_tokens"]),
        count(&counts["output_tokens"]),
        count(&counts["input_tokens_details"]["cached_tokens"]),
        Some(count(&counts["output_tokens_details"]["reasoning_tokens"])),
    )
}

/// The answer's identity: the response's id and model, created when it was (a whole second).
fn meta(response: &Value, context: &Context) -> Meta {
    let model = match &response["model"] {
        Value::String(model) => model.clone(),
        _ => context.model.clone(),
    };
    Meta {
        id: response["id"].clone(),
        model: Value::String(model),
        created: response["created_at"]
            .as_f64()
            .map_or(context.created, |at| at as i64),
    }
}

/// Responses stream events as chat.completion.chunk objects.
pub fn translator(context: &Context) -> Box<dyn Translate> {
    Box::new(StreamTranslator {
        context: context.clone(),
        meta: meta(&Value::Null, context),
        open: Vec::new(),
        calls: 0,
        reasoning_part: None,
    })
}

/// The most output items a stream may have open (added and not yet done) at once, so the
/// items a server opens cannot make the translator hold more. OpenAI's streams one at a time.
const MAX_OPEN_ITEMS: usize = 64;

struct StreamTranslator {
    context: Context,
    meta: Meta,
    /// The open output items: function calls and messages, whose deltas need telling apart.
    open: Vec<Open>,
    /// Function calls so far.
    calls: usize,
    /// Which reasoning part (event type, item, index) the last reasoning text came from: a
    /// new part is set off by a blank line, as in a complete answer.
    reasoning_part: Option<String>,
}

struct Open {
    id: Value,
    output_index: Value,
    kind: OpenKind,
    /// A delta of it was seen: a server that sends none (only the item when it is done) still
    /// has its text or arguments delivered, from the done item.
    streamed: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OpenKind {
    /// A function call, with its index among the answer's calls.
    Call(usize),
    /// A message of the answer.
    Answer,
    /// A `commentary` message: a preamble, never streamed as the answer.
    Commentary,
}

impl StreamTranslator {
    fn delta(&self, delta: Value, out: &mut Chunks) {
        out.push_chunk(self.meta.chunk(0, delta, None));
    }

    /// The open item an event is about, by its item id, else its output index.
    fn find(&self, id: &Value, output_index: &Value) -> Option<usize> {
        self.open.iter().position(|open| {
            if id.is_string() && open.id.is_string() {
                open.id == *id
            } else {
                !output_index.is_null() && open.output_index == *output_index
            }
        })
    }

    fn added(&mut self, data: &Value, out: &mut Chunks) -> Result<(), CoreError> {
        let item = &data["item"];
        let kind = match item["type"].as_str() {
            Some("function_call") => OpenKind::Call(self.calls),
            Some("message") if item["phase"] == "commentary" => OpenKind::Commentary,
            Some("message") => OpenKind::Answer,
            _ => return Ok(()),
        };
        if self.open.len() >= MAX_OPEN_ITEMS {
            return Err(CoreError::invalid_response(format!(
                "the provider's stream opened more than {} output items at once",
                MAX_OPEN_ITEMS
            )));
        }
        self.open.push(Open {
            id: item["id"].clone(),
            output_index: data["output_index"].clone(),
            kind,
            streamed: false,
        });
        if let OpenKind::Call(index) = kind {
            self.calls += 1;
            let call = json!({
                "index": index,
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": ""},
            });
            self.delta(json!({ "tool_calls": [call] }), out);
        }
        Ok(())
    }

    fn done(&mut self, data: &Value, out: &mut Chunks) {
        let item = &data["item"];
        if let Some(position) = self.find(&item["id"], &data["output_index"]) {
            let open = self.open.remove(position);
            if !open.streamed {
                self.unstreamed(open.kind, item, out);
            }
        }
        // The whole item, its encrypted content complete only now, for the message to replay.
        if item["type"] == "reasoning" {
            self.delta(json!({ "reasoning_items": [item] }), out);
        }
    }

    fn reasoning(&mut self, kind: &str, data: &Value, part: &str, out: &mut Chunks) {
        let key = format!("{}/{}/{}", kind, data["item_id"], data[part]);
        let mut text = match &self.reasoning_part {
            Some(last) if *last != key => "\n\n".to_string(),
            _ => String::new(),
        };
        text.push_str(data["delta"].as_str().unwrap_or(""));
        self.reasoning_part = Some(key);
        self.delta(json!({ "reasoning_content": text }), out);
    }

    /// What a done item holds that no delta delivered.
    fn unstreamed(&self, kind: OpenKind, item: &Value, out: &mut Chunks) {
        match kind {
            OpenKind::Call(index) => {
                let arguments = item["arguments"].as_str().unwrap_or("");
                if !arguments.is_empty() {
                    let piece = tool_call_fragment(index, &json!(arguments));
                    self.delta(json!({ "tool_calls": [piece] }), out);
                }
            }
            OpenKind::Answer => {
                for part in message_list(&item["content"]) {
                    match part["type"].as_str() {
                        Some("output_text") => self.delta(json!({"content": part["text"]}), out),
                        Some("refusal") => self.delta(json!({"refusal": part["refusal"]}), out),
                        _ => {}
                    }
                }
            }
            OpenKind::Commentary => {}
        }
    }

    /// Marks the open item an event is about as streamed, and says what it is.
    fn streamed(&mut self, data: &Value) -> Option<OpenKind> {
        let position = self.find(&data["item_id"], &data["output_index"])?;
        self.open[position].streamed = true;
        Some(self.open[position].kind)
    }

    fn text(&mut self, data: &Value, out: &mut Chunks) {
        if self.streamed(data) == Some(OpenKind::Commentary) {
            return;
        }
        let mut chunk = self.meta.chunk(0, json!({"content": data["delta"]}), None);
        let logprobs = message_list(&data["logprobs"]);
        if !logprobs.is_empty() {
            let content: Vec<Value> = logprobs.iter().map(token_logprob).collect();
            chunk["choices"][0]["logprobs"] = json!({"content": content, "refusal": null});
        }
        out.push_chunk(chunk);
    }

    fn arguments(&mut self, data: &Value, out: &mut Chunks) {
        if let Some(OpenKind::Call(index)) = self.streamed(data) {
            let piece = tool_call_fragment(index, &data["delta"]);
            self.delta(json!({ "tool_calls": [piece] }), out);
        }
    }

    fn finish(&self, response: &Value, out: &mut Chunks) {
        let finish = finish_reason(response, self.calls > 0);
        out.push_chunk(self.meta.chunk(0, json!({}), Some(finish)));
        if self.context.include_usage {
            out.push_chunk(self.meta.usage_chunk(usage_of(response)));
        }
    }
}

impl Translate for StreamTranslator {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        let data = event.data.trim();
        // Some servers end with `[DONE]` after the terminal event, which already ended it.
        if data == "[DONE]" {
            return Ok(false);
        }
        let data = parse_json(data.as_bytes(), self.context.limits.max_depth)?;
        // A server that streams a failure as `{"error": {...}}`, not as an `error` event.
        if data["error"].is_object() {
            return Err(api_error(None, event.data.as_bytes()));
        }
        match event_type(&event).as_ref() {
            "error" => return Err(event_error(&event.data)),
            "response.created" => {
                self.meta = meta(&data["response"], &self.context);
                self.delta(json!({"role": "assistant", "content": ""}), out);
            }
            "response.output_item.added" => self.added(&data, out)?,
            "response.output_item.done" => self.done(&data, out),
            "response.output_text.delta" => self.text(&data, out),
            "response.refusal.delta" => {
                self.streamed(&data);
                self.delta(json!({"refusal": data["delta"]}), out)
            }
            "response.reasoning_summary_text.delta" => {
                self.reasoning("summary", &data, "summary_index", out)
            }
            "response.reasoning_text.delta" => self.reasoning("text", &data, "content_index", out),
            "response.function_call_arguments.delta" => self.arguments(&data, out),
            "response.completed" | "response.incomplete" => {
                self.finish(&data["response"], out);
                return Ok(true);
            }
            "response.failed" => return Err(failure(&data["response"])),
            _ => {}
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing;

    fn call(messages: Value, params: Value) -> Call {
        testing::call("openai", "o3-pro", messages, params)
    }

    fn sent(call: Call) -> Value {
        Value::Object(body(call).unwrap())
    }

    fn parse(status: u16, response: Value) -> Result<Value, CoreError> {
        let context = testing::context("openai", "o3-pro");
        let text = parse_response(&context, status, response.to_string().as_bytes())?;
        Ok(serde_json::from_str(&text).unwrap())
    }

    /// A response object as OpenAI sends it, with `output` and the other fields given.
    fn response(output: Value, rest: Value) -> Value {
        let mut response = json!({
            "id": "resp_1", "object": "response", "created_at": 1741290958,
            "status": "completed", "error": null, "incomplete_details": null,
            "model": "o3-pro-2025-06-10", "output": output,
            "usage": {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 4},
                      "output_tokens": 30, "output_tokens_details": {"reasoning_tokens": 12},
                      "total_tokens": 50},
        });
        for (name, value) in rest.as_object().unwrap() {
            response[name] = value.clone();
        }
        response
    }

    fn message(id: &str, phase: Value, text: &str) -> Value {
        json!({"id": id, "type": "message", "status": "completed", "role": "assistant",
               "phase": phase, "content": [{"type": "output_text", "text": text, "annotations": []}]})
    }

    #[test]
    fn messages_tools_and_tool_results_become_items() {
        let messages = json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://x/cat.jpg", "detail": "low"}},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "file", "file": {"file_id": "file_1", "filename": null}}]},
            {"role": "assistant", "content": "Let me look.",
             "reasoning_items": [{"id": "rs_1", "type": "reasoning", "summary": [], "encrypted_content": "gAAA"}],
             "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "sun"}, {"type": "text", "text": "ny"}]},
        ]);
        let tools = json!([
            {"type": "function", "function": {"name": "weather", "description": "d", "parameters": {"type": "object"}}},
            {"type": "web_search_preview"}]);
        let choice = json!({"type": "function", "function": {"name": "weather"}});
        let mut call = call(
            messages,
            json!({"tools": tools, "tool_choice": choice, "temperature": null, "stream_options": {"include_usage": true}}),
        );
        call.stream = true;
        let body = sent(call);
        assert_eq!(
            body["input"],
            json!([
                {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "Be brief."}]},
                {"type": "message", "role": "user", "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": "https://x/cat.jpg", "detail": "low"},
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "auto"},
                    {"type": "input_file", "file_id": "file_1"}]},
                // The reasoning replayed first, encrypted content and all.
                {"id": "rs_1", "type": "reasoning", "summary": [], "encrypted_content": "gAAA"},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Let me look.", "annotations": []}]},
                {"type": "function_call", "call_id": "call_1", "name": "weather", "arguments": "{\"city\":\"Paris\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            ])
        );
        assert_eq!(
            body["tools"],
            json!([{"type": "function", "name": "weather", "description": "d", "parameters": {"type": "object"}, "strict": false},
                   {"type": "web_search_preview"}])
        );
        assert_eq!(
            body["tool_choice"],
            json!({"type": "function", "name": "weather"})
        );
        assert_eq!(body["stream"], true);
        // Null fields and stream_options are left out.
        assert!(body.get("temperature").is_none() && body.get("stream_options").is_none());
    }

    #[test]
    fn chat_fields_take_the_responses_apis_names() {
        let format = json!({"type": "json_schema", "json_schema": {"name": "person", "schema": {"type": "object"}, "strict": true}});
        let params = json!({
            "max_completion_tokens": 100, "response_format": format, "reasoning_effort": "high",
            "reasoning": {"summary": "auto"}, "include": ["reasoning.encrypted_content"],
            "top_logprobs": 2, "store": false, "n": 1, "temperature": 1,
        });
        let mut call = call(json!([{"role": "user", "content": "hi"}]), params);
        call.additional_params = json!({"store": true, "truncation": "auto"})
            .as_object()
            .cloned()
            .unwrap();
        let body = sent(call);
        assert_eq!(body["max_output_tokens"], 100);
        assert_eq!(
            body["text"],
            json!({"format": {"type": "json_schema", "name": "person", "schema": {"type": "object"}, "strict": true}})
        );
        assert_eq!(
            body["reasoning"],
            json!({"summary": "auto", "effort": "high"})
        );
        assert_eq!(
            body["include"],
            json!([
                "reasoning.encrypted_content",
                "message.output_text.logprobs"
            ])
        );
        assert_eq!(
            (&body["top_logprobs"], &body["temperature"]),
            (&json!(2), &json!(1))
        );
        // additional_params win.
        assert_eq!(
            (&body["store"], &body["truncation"]),
            (&json!(true), &json!("auto"))
        );
        assert!(body.get("n").is_none());
        let body = sent(call_with(
            json!({"response_format": {"type": "json_object"}, "max_tokens": 5}),
        ));
        assert_eq!(body["text"], json!({"format": {"type": "json_object"}}));
        assert_eq!(body["max_output_tokens"], 5);
    }

    fn call_with(params: Value) -> Call {
        call(json!([{"role": "user", "content": "hi"}]), params)
    }

    #[test]
    fn what_has_no_place_is_refused_by_name_unless_dropped() {
        let params = json!({"stop": ["x"], "seed": 1, "n": 2, "temperature": 1});
        let error = body(call_with(params.clone())).unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidRequest);
        assert!(
            error.message.starts_with(
                "stop, seed, n (more than one choice) have no place in OpenAI's Responses API"
            ),
            "{}",
            error.message
        );
        let audio = json!([{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AA", "format": "wav"}}]},
                           {"role": "function", "name": "f", "content": "x"}]);
        let error = body(call(audio.clone(), json!({}))).unwrap_err();
        assert!(
            error
                .message
                .starts_with("messages[0]'s input_audio part has no place"),
            "{}",
            error.message
        );
        let mut dropped = call(audio, params);
        dropped.drop_params = true;
        let body = sent(dropped);
        assert_eq!(
            body["input"],
            json!([{"type": "message", "role": "user", "content": []}])
        );
        assert!(body.get("stop").is_none() && body.get("seed").is_none());
        assert_eq!(body["temperature"], 1);
    }

    #[test]
    fn a_text_answer() {
        let answer = parse(
            200,
            response(json!([message("msg_1", Value::Null, "Hello.")]), json!({})),
        )
        .unwrap();
        assert_eq!(
            answer,
            json!({
                "id": "resp_1", "object": "chat.completion", "created": 1741290958, "model": "o3-pro-2025-06-10",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello.", "refusal": null, "reasoning_content": null},
                             "finish_reason": "stop", "logprobs": null}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 30, "total_tokens": 50,
                          "prompt_tokens_details": {"cached_tokens": 4}, "completion_tokens_details": {"reasoning_tokens": 12}},
            })
        );
    }

    #[test]
    fn reasoning_comes_back_as_text_and_as_items_to_replay() {
        let reasoning = json!({"id": "rs_1", "type": "reasoning", "encrypted_content": "gAAA",
            "summary": [{"type": "summary_text", "text": "First."}, {"type": "summary_text", "text": "Second."}]});
        let output = json!([reasoning, message("msg_1", Value::Null, "42")]);
        let answer = parse(200, response(output, json!({}))).unwrap();
        let message = &answer["choices"][0]["message"];
        assert_eq!(message["reasoning_content"], "First.\n\nSecond.");
        assert_eq!(message["reasoning_items"], json!([reasoning]));
        // Sent back, the message replays the item as it came.
        let mut turn = message.clone();
        turn["content"] = json!("42");
        let body = sent(call(
            json!([{"role": "user", "content": "q"}, turn]),
            json!({}),
        ));
        assert_eq!(body["input"][1], reasoning);
    }

    #[test]
    fn two_function_calls() {
        let output = json!([
            {"id": "fc_1", "type": "function_call", "status": "completed", "call_id": "call_1", "name": "weather", "arguments": "{\"city\":\"Paris\"}"},
            {"id": "fc_2", "type": "function_call", "status": "completed", "call_id": "call_2", "name": "weather", "arguments": "{\"city\":\"Rome\"}"},
        ]);
        let answer = parse(200, response(output, json!({}))).unwrap();
        let choice = &answer["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["message"]["content"], Value::Null);
        assert_eq!(
            choice["message"]["tool_calls"][1],
            json!({"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Rome\"}"}})
        );
    }

    #[test]
    fn a_commentary_preamble_is_not_the_answer() {
        let output = json!([
            message("msg_1", json!("commentary"), "I will think."),
            message("msg_2", json!("final_answer"), "Done."),
        ]);
        let answer = parse(200, response(output, json!({}))).unwrap();
        assert_eq!(answer["choices"][0]["message"]["content"], "Done.");
        // Nor is a preamble before tool calls.
        let output = json!([
            message("msg_1", json!("commentary"), "Let me check."),
            {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        ]);
        let answer = parse(200, response(output, json!({}))).unwrap();
        assert_eq!(answer["choices"][0]["message"]["content"], Value::Null);
    }

    #[test]
    fn incomplete_failed_and_error_answers() {
        let incomplete =
            json!({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}});
        let answer = parse(
            200,
            response(json!([message("m", Value::Null, "Hal")]), incomplete),
        )
        .unwrap();
        assert_eq!(answer["choices"][0]["finish_reason"], "length");
        let failed = json!({"status": "failed", "error": {"code": "rate_limit_exceeded", "message": "slow down"}});
        let error = parse(200, response(json!([]), failed)).unwrap_err();
        assert_eq!(
            (
                error.kind,
                error.status,
                error.sent_status,
                error.message.as_str()
            ),
            (ErrorKind::ApiError, Some(429), Some(200), "slow down")
        );
        let body = json!({"error": {"message": "Unsupported parameter: 'temperature'", "type": "invalid_request_error", "param": "temperature", "code": "unsupported_parameter"}});
        let error = parse(400, body).unwrap_err();
        assert_eq!(
            (error.status, error.param.as_deref()),
            (Some(400), Some("temperature"))
        );
    }

    /// A stream's chunks, and the error it ended with (null when none).
    fn decode(events: &[(&str, Value)]) -> (Vec<Value>, Value) {
        let mut text = String::new();
        for (name, data) in events {
            text.push_str(&format!("event: {}\ndata: {}\n\n", name, data));
        }
        let context = serde_json::to_string(&testing::context("openai", "o3-pro")).unwrap();
        let mut stream = crate::open_stream(context.as_bytes()).unwrap();
        let mut batch: Value = serde_json::from_str(&stream.feed(text.as_bytes())).unwrap();
        if batch["done"] == false {
            batch = serde_json::from_str(&stream.finish()).unwrap();
        }
        let chunks = batch["chunks"].as_array().unwrap().clone();
        (chunks, batch["error"].clone())
    }

    fn created() -> (&'static str, Value) {
        let response = response(json!([]), json!({"status": "in_progress", "usage": null}));
        (
            "response.created",
            json!({"type": "response.created", "sequence_number": 0, "response": response}),
        )
    }

    /// An event as OpenAI sends it: its type, a sequence number, and the fields given.
    fn event(kind: &'static str, sequence: u64, fields: Value) -> (&'static str, Value) {
        let mut data = json!({"type": kind, "sequence_number": sequence});
        for (name, value) in fields.as_object().unwrap() {
            data[name] = value.clone();
        }
        (kind, data)
    }

    #[test]
    fn a_stream_of_reasoning_commentary_and_two_calls() {
        let reasoning = json!({"id": "rs_1", "type": "reasoning", "summary": [
            {"type": "summary_text", "text": "Weather."}, {"type": "summary_text", "text": "Two cities."}], "encrypted_content": "gAAA"});
        let call = |id: &str, call_id: &str| json!({"id": id, "type": "function_call", "status": "in_progress", "arguments": "", "call_id": call_id, "name": "weather"});
        let commentary = json!({"id": "msg_1", "type": "message", "status": "in_progress", "content": [], "role": "assistant", "phase": "commentary"});
        let mut done = response(json!([]), json!({}));
        done["output"] = json!([reasoning, call("fc_1", "call_1"), call("fc_2", "call_2")]);
        let events = [
            created(),
            event(
                "response.in_progress",
                1,
                json!({"response": {"id": "resp_1"}}),
            ),
            event(
                "response.output_item.added",
                2,
                json!({"output_index": 0, "item": {"id": "rs_1", "type": "reasoning", "summary": []}}),
            ),
            event(
                "response.reasoning_summary_part.added",
                3,
                json!({"item_id": "rs_1", "output_index": 0, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}),
            ),
            event(
                "response.reasoning_summary_text.delta",
                4,
                json!({"item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": "Weather."}),
            ),
            event(
                "response.reasoning_summary_text.delta",
                5,
                json!({"item_id": "rs_1", "output_index": 0, "summary_index": 1, "delta": "Two cities."}),
            ),
            event(
                "response.output_item.done",
                6,
                json!({"output_index": 0, "item": reasoning}),
            ),
            event(
                "response.output_item.added",
                7,
                json!({"output_index": 1, "item": commentary}),
            ),
            event(
                "response.output_text.delta",
                8,
                json!({"item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": "Checking.", "logprobs": []}),
            ),
            event(
                "response.output_item.done",
                9,
                json!({"output_index": 1, "item": commentary}),
            ),
            event(
                "response.output_item.added",
                10,
                json!({"output_index": 2, "item": call("fc_1", "call_1")}),
            ),
            event(
                "response.output_item.added",
                11,
                json!({"output_index": 3, "item": call("fc_2", "call_2")}),
            ),
            event(
                "response.function_call_arguments.delta",
                12,
                json!({"item_id": "fc_2", "output_index": 3, "delta": "{\"city\":\"Rome\"}"}),
            ),
            event(
                "response.function_call_arguments.delta",
                13,
                json!({"item_id": "fc_1", "output_index": 2, "delta": "{\"city\":"}),
            ),
            event(
                "response.output_item.done",
                14,
                json!({"output_index": 2, "item": call("fc_1", "call_1")}),
            ),
            event(
                "response.output_item.done",
                15,
                json!({"output_index": 3, "item": call("fc_2", "call_2")}),
            ),
            event("response.completed", 16, json!({"response": done})),
        ];
        let (chunks, error) = decode(&events);
        assert_eq!(error, Value::Null);
        let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
        assert_eq!(*deltas[0], json!({"role": "assistant", "content": ""}));
        assert_eq!(
            (&chunks[0]["id"], &chunks[0]["model"], &chunks[0]["created"]),
            (
                &json!("resp_1"),
                &json!("o3-pro-2025-06-10"),
                &json!(1741290958)
            )
        );
        assert_eq!(*deltas[1], json!({"reasoning_content": "Weather."}));
        assert_eq!(*deltas[2], json!({"reasoning_content": "\n\nTwo cities."}));
        assert_eq!(*deltas[3], json!({"reasoning_items": [reasoning]}));
        // The commentary is not streamed; the calls are numbered as they come.
        assert_eq!(
            *deltas[4],
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "weather", "arguments": ""}}]})
        );
        assert_eq!(deltas[5]["tool_calls"][0]["index"], 1);
        // Later fragments repeat every key, id and name null, as LiteLLM's do.
        assert_eq!(
            *deltas[6],
            json!({"tool_calls": [{"index": 1, "id": null, "type": "function", "function": {"name": null, "arguments": "{\"city\":\"Rome\"}"}}]})
        );
        assert_eq!(deltas[7]["tool_calls"][0]["index"], 0);
        assert_eq!(chunks[8]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(chunks[9]["choices"], json!([]));
        assert_eq!(
            chunks[9]["usage"]["completion_tokens_details"]["reasoning_tokens"],
            12
        );
        assert_eq!(chunks.len(), 10);
    }

    #[test]
    fn a_stream_of_text_cut_by_max_output_tokens() {
        let logprob = json!({"token": "Hi", "logprob": -0.1});
        let mut incomplete = response(
            json!([]),
            json!({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}),
        );
        incomplete["output"] = json!([message("msg_1", Value::Null, "Hi")]);
        let events = [
            created(),
            event(
                "response.output_item.added",
                1,
                json!({"output_index": 0, "item": {"id": "msg_1", "type": "message", "status": "in_progress", "content": [], "role": "assistant"}}),
            ),
            event(
                "response.output_text.delta",
                2,
                json!({"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Hi", "logprobs": [logprob]}),
            ),
            event("response.incomplete", 3, json!({"response": incomplete})),
        ];
        let (chunks, error) = decode(&events);
        assert_eq!(error, Value::Null);
        assert_eq!(chunks[1]["choices"][0]["delta"], json!({"content": "Hi"}));
        assert_eq!(
            chunks[1]["choices"][0]["logprobs"]["content"],
            json!([{"token": "Hi", "logprob": -0.1, "top_logprobs": []}])
        );
        assert_eq!(chunks[2]["choices"][0]["finish_reason"], "length");
    }

    #[test]
    fn items_sent_only_when_done_still_deliver_their_text_and_arguments() {
        // Servers that send no deltas (only each item, whole, when it is done).
        let call = json!({"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{\"a\":1}", "status": "completed"});
        let text = message("msg_1", Value::Null, "Hi");
        let events = [
            created(),
            event(
                "response.output_item.added",
                1,
                json!({"output_index": 0, "item": {"id": "msg_1", "type": "message", "content": [], "role": "assistant"}}),
            ),
            event(
                "response.output_item.done",
                2,
                json!({"output_index": 0, "item": text}),
            ),
            event(
                "response.output_item.added",
                3,
                json!({"output_index": 1, "item": {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "f", "arguments": ""}}),
            ),
            event(
                "response.output_item.done",
                4,
                json!({"output_index": 1, "item": call}),
            ),
            event(
                "response.completed",
                5,
                json!({"response": response(json!([]), json!({}))}),
            ),
        ];
        let (chunks, error) = decode(&events);
        assert_eq!(error, Value::Null);
        let deltas: Vec<&Value> = chunks.iter().map(|c| &c["choices"][0]["delta"]).collect();
        assert_eq!(deltas[1], &json!({"content": "Hi"}));
        assert_eq!(
            deltas[3],
            &json!({"tool_calls": [{"index": 0, "id": null, "type": "function", "function": {"name": null, "arguments": "{\"a\":1}"}}]})
        );
    }

    #[test]
    fn deltas_that_carry_nothing_are_left_out() {
        let item = json!({"id": "msg_1", "type": "message", "content": [], "role": "assistant"});
        let text = |sequence: u64, delta: &str| {
            event(
                "response.output_text.delta",
                sequence,
                json!({"item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": delta, "logprobs": []}),
            )
        };
        let events = [
            created(),
            event(
                "response.output_item.added",
                1,
                json!({"output_index": 0, "item": item}),
            ),
            text(2, ""),
            text(3, "Hi"),
            text(4, ""),
            event(
                "response.completed",
                5,
                json!({"response": response(json!([]), json!({}))}),
            ),
        ];
        let (chunks, error) = decode(&events);
        assert_eq!(error, Value::Null);
        let deltas: Vec<&Value> = chunks[..3]
            .iter()
            .map(|c| &c["choices"][0]["delta"])
            .collect();
        assert_eq!(
            deltas,
            [
                &json!({"role": "assistant", "content": ""}),
                &json!({"content": "Hi"}),
                &json!({}),
            ]
        );
        assert_eq!(chunks[2]["choices"][0]["finish_reason"], "stop");
        assert!(chunks[3]["usage"].is_object());
        assert_eq!(chunks.len(), 4);
    }

    #[test]
    fn failures_in_streams_are_typed_errors() {
        let failed = response(
            json!([]),
            json!({"status": "failed", "error": {"code": "server_error", "message": "boom"}}),
        );
        let (chunks, error) = decode(&[
            created(),
            event("response.failed", 1, json!({"response": failed})),
        ]);
        assert_eq!(chunks.len(), 1);
        assert_eq!(
            (&error["status"], &error["message"]),
            (&json!(500), &json!("boom"))
        );
        let slow = json!({"code": "rate_limit_exceeded", "message": "slow", "param": null});
        let (_, error) = decode(&[created(), event("error", 1, slow)]);
        assert_eq!(error["status"], 429);
        // A stream without its terminal event is cut short.
        let (_, error) = decode(&[created()]);
        assert_eq!(error["kind"], "stream_incomplete");
    }
}
