//! Google's Generative Language API (`generateContent`, and `streamGenerateContent?alt=sse`),
//! translated from and to OpenAI chat completions
//! (<https://ai.google.dev/api/generate-content>).
//!
//! The model is one path segment under `models/` (a leading `models/` is taken off), encoded as
//! Google's clients send it: a tuned model's `tunedModels/x` is no route ritellm builds, and its
//! `/` goes as `%2F`.
//!
//! Gemini gives function calls no ids; ritellm derives one from the call's nonce and the call
//! itself, the same for a streamed and a complete answer, and finds a tool result's function
//! name by looking up its `tool_call_id` in the conversation.
//!
//! Token counts: `countTokens`, with the chat call's `generateContent` body as its
//! `generateContentRequest` (and the model's name in it); answered `{"totalTokens": n, ...}`
//! (<https://ai.google.dev/api/tokens>).
//!
//! Embeddings: `batchEmbedContents`, one request per input, at most 100 in a call
//! (<https://ai.google.dev/api/embeddings>). Their answers, and Vertex AI's `predict` answers,
//! are read by [`parse_embeddings`].

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::count;
use super::shared::{
    data_url, function_tool, image_url_of, json_format, message_list, parse_json, push_turn,
    role_of, thinking_budget, tool_call, tool_calls_of, tool_choice, unsupported_part,
    unsupported_role, Meta, Params, Tokens, ToolChoice,
};
use super::url::{join_query, model_segment, split_query};
use super::vectors::{self, no_dimensions, InputTypes};
use crate::call::{Call, Context, Embedding, HttpRequest};
use crate::error::{api_error, error_in_success, CoreError, ErrorKind};
use crate::sse::Event;
use crate::translate::{Chunks, Translate};

/// The candidates a stream may number (`index` 0 to 63): Gemini answers with at most 8
/// (`candidateCount`). The translator keeps a little per candidate; a higher index is refused as
/// invalid, so the numbers a server sends cannot make it hold more.
const MAX_CANDIDATES: u64 = 64;

/// OpenAI parameter -> `generationConfig` field, for those that only change name.
const GENERATION_CONFIG: &[(&str, &str)] = &[
    ("temperature", "temperature"),
    ("max_tokens", "maxOutputTokens"),
    ("max_completion_tokens", "maxOutputTokens"),
    ("top_p", "topP"),
    ("top_k", "topK"),
    ("n", "candidateCount"),
    ("seed", "seed"),
    ("presence_penalty", "presencePenalty"),
    ("frequency_penalty", "frequencyPenalty"),
];

/// The most inputs `batchEmbedContents` takes in one call.
const MAX_EMBEDDING_INPUTS: usize = 100;

/// The URL of `model`'s `action` under the API's base.
pub fn model_url(base: &str, model: &str, action: &str) -> Result<String, CoreError> {
    let (base, query) = split_query(base);
    let url = format!(
        "{}/models/{}:{}",
        base.trim_end_matches('/'),
        model_segment(model)?,
        action
    );
    Ok(join_query(url, query))
}

/// The model a call names, without a leading `models/`.
pub fn model_of(call: &Call) -> &str {
    call.model.strip_prefix("models/").unwrap_or(&call.model)
}

pub fn build_request(call: Call) -> Result<HttpRequest, CoreError> {
    let action = if call.stream {
        "streamGenerateContent?alt=sse"
    } else {
        "generateContent"
    };
    let url = model_url(&call.base_url, model_of(&call), action)?;
    let stream = call.stream;
    let body = build_body(call)?;
    Ok(HttpRequest::post_json(url, &body, stream))
}

/// A `count_tokens` call: the chat call's body as the `generateContentRequest` it counts.
pub fn build_count_tokens(call: Call) -> Result<HttpRequest, CoreError> {
    let model = model_of(&call).to_string();
    let url = model_url(&call.base_url, &model, "countTokens")?;
    let mut request = Map::new();
    request.insert("model".into(), json!(format!("models/{}", model)));
    request.extend(build_body(call)?);
    let mut body = Map::new();
    body.insert("generateContentRequest".into(), Value::Object(request));
    Ok(HttpRequest::post_json(url, &body, false))
}

/// A counting endpoint's answer, `{"totalTokens": n, ...}` (Vertex AI's too).
pub fn parse_count(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    count::read(context, status, body, "totalTokens")
}

/// The `generateContent` body of a call (Vertex AI sends it too, at its own URL).
pub fn build_body(call: Call) -> Result<Map<String, Value>, CoreError> {
    let mut params = Params::new(call.params, "gemini");
    let mut body = Map::new();
    let (system, contents) = translate_messages(&call.messages)?;
    body.insert("contents".into(), contents);
    if let Some(system) = system {
        body.insert("systemInstruction".into(), system);
    }

    let mut config = Map::new();
    params.move_renamed(GENERATION_CONFIG, &mut config);
    if let Some(effort) = params.take("reasoning_effort") {
        let budget = thinking_budget(&effort, 0)?.unwrap_or(0);
        config.insert(
            "thinkingConfig".into(),
            json!({"thinkingBudget": budget, "includeThoughts": budget > 0}),
        );
    }
    if let Some(stops) = params.take_list("stop") {
        config.insert("stopSequences".into(), stops);
    }
    let format = params.take("response_format");
    let wants_json_object = format
        .as_ref()
        .map_or(false, |f| f["type"] == "json_object");
    if let Some((_, schema)) = json_format(format)? {
        config.insert("responseMimeType".into(), json!("application/json"));
        if !wants_json_object {
            config.insert("responseJsonSchema".into(), schema);
        }
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }

    if let Some(Value::Array(list)) = params.take("tools") {
        let mut declarations = Vec::new();
        for (index, tool) in list.iter().enumerate() {
            let (name, description, schema) = function_tool(tool, index)?;
            let mut declaration = json!({"name": name, "parametersJsonSchema": schema});
            if description.is_string() {
                declaration["description"] = description.clone();
            }
            declarations.push(declaration);
        }
        body.insert(
            "tools".into(),
            json!([{"functionDeclarations": declarations}]),
        );
    }
    if let Some(choice) = params.take("tool_choice") {
        let config = match tool_choice(&choice)? {
            ToolChoice::Mode("none") => json!({"mode": "NONE"}),
            ToolChoice::Mode("required") => json!({"mode": "ANY"}),
            ToolChoice::Mode(_) => json!({"mode": "AUTO"}),
            ToolChoice::Function(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        };
        body.insert(
            "toolConfig".into(),
            json!({"functionCallingConfig": config}),
        );
    }
    params.take("stream_options"); // only include_usage, which the context carries
    if params.take("parallel_tool_calls") == Some(Value::Bool(false)) {
        return Err(CoreError::invalid_request(
            "gemini/ cannot turn off parallel tool calls (parallel_tool_calls=false)",
        ));
    }
    params.finish(call.drop_params)?;
    body.extend(call.additional_params);
    Ok(body)
}

pub fn build_embedding(mut call: Call, context: &mut Context) -> Result<HttpRequest, CoreError> {
    let model = call.model.strip_prefix("models/").unwrap_or(&call.model);
    let url = model_url(&call.base_url, model, "batchEmbedContents")?;
    let mut params = Params::new(std::mem::take(&mut call.params), call.provider);
    let mut embedding = std::mem::take(&mut call.embedding);
    let inputs = embedding.keep(MAX_EMBEDDING_INPUTS);
    let mut fields = embedding_fields(&mut params, &embedding)?;
    if let Some(dimensions) = embedding.dimensions {
        // The legacy model gives its 768 numbers only.
        if model == "embedding-001" {
            if !call.drop_params {
                let which = "cannot shorten its vectors";
                return Err(no_dimensions(call.provider, model, which));
            }
            context.dimensions = None;
        } else {
            fields.insert("outputDimensionality".into(), json!(dimensions));
        }
    }
    params.finish(call.drop_params)?;
    let name = json!(format!("models/{}", model));
    let requests: Vec<Value> = vectors::texts(embedding.input, call.provider)?
        .into_iter()
        .map(|text| {
            let mut request = Map::new();
            request.insert("model".into(), name.clone());
            request.insert("content".into(), json!({"parts": [{"text": text}]}));
            request.extend(fields.clone());
            Value::Object(request)
        })
        .collect();
    let mut body = Map::new();
    body.insert("requests".into(), Value::Array(requests));
    body.extend(call.additional_params);
    Ok(HttpRequest::post_json(url, &body, false).carrying(inputs, MAX_EMBEDDING_INPUTS))
}

/// The fields Google's embedding APIs take per input, in the Gemini API's names: `taskType`
/// (ritellm's `input_type`, or `task_type` as LiteLLM callers pass it) and `title`.
pub fn embedding_fields(
    params: &mut Params,
    embedding: &Embedding,
) -> Result<Map<String, Value>, CoreError> {
    let mut fields = Map::new();
    let task_type = params.take("task_type");
    let given = match (&embedding.input_type, &task_type) {
        (Some(kind), _) => Some(kind.as_str()),
        (None, Some(Value::String(kind))) => Some(kind.as_str()),
        (None, None) => None,
        (None, Some(other)) => {
            return Err(CoreError::invalid_request(format!(
                "task_type must be a string, got {}",
                other
            )))
        }
    };
    if let Some(kind) = InputTypes::GOOGLE.spell(given) {
        fields.insert("taskType".into(), json!(kind));
    }
    if let Some(title) = params.take("title") {
        fields.insert("title".into(), title);
    }
    Ok(fields)
}

/// Google's embeddings answers: `batchEmbedContents`' (`{"embeddings": [{"values"}]}`, maybe
/// `usageMetadata`) and Vertex AI's `predict` (`{"predictions": [{"embeddings": {"values",
/// "statistics": {"token_count"}}}]}`).
#[derive(Deserialize)]
struct Embeddings<'a> {
    #[serde(borrow, default)]
    embeddings: Option<Vec<Values<'a>>>,
    #[serde(borrow, default)]
    predictions: Option<Vec<Prediction<'a>>>,
    #[serde(default, rename = "usageMetadata")]
    usage: Value,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Values<'a> {
    #[serde(borrow)]
    values: &'a RawValue,
    #[serde(default)]
    statistics: Value,
}

#[derive(Deserialize)]
struct Prediction<'a> {
    #[serde(borrow)]
    embeddings: Values<'a>,
}

pub fn parse_embeddings(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    let answer: Embeddings = vectors::read(context, status, body)?;
    vectors::reported(answer.error, status, body)?;
    let (list, prompt, total) = match (answer.embeddings, answer.predictions) {
        (Some(list), _) => {
            let count = |name: &str| answer.usage.get(name).and_then(Value::as_u64);
            (list, count("promptTokenCount"), count("totalTokenCount"))
        }
        (None, Some(predictions)) => {
            let list: Vec<Values> = predictions.into_iter().map(|p| p.embeddings).collect();
            let tokens = list.iter().fold(0u64, |sum, values| {
                let statistics = &values.statistics;
                let count = statistics
                    .get("token_count")
                    .or_else(|| statistics.get("tokenCount"));
                sum.saturating_add(count.and_then(Value::as_u64).unwrap_or(0))
            });
            (list, Some(tokens), None)
        }
        (None, None) => {
            return Err(CoreError::invalid_response(
                "the provider's answer has neither embeddings nor predictions",
            ))
        }
    };
    let vectors: Vec<&RawValue> = list.iter().map(|values| values.values).collect();
    vectors::answer(context, &vectors, None, prompt, total)
}

fn translate_messages(messages: &Value) -> Result<(Option<Value>, Value), CoreError> {
    let list = message_list(messages);
    let mut system = Vec::new();
    let mut contents: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (index, message) in list.iter().enumerate() {
        let (role, parts) = match role_of(message, index)? {
            "system" | "developer" => {
                system.extend(parts_of(&message["content"], index)?);
                continue;
            }
            "user" => ("user", parts_of(&message["content"], index)?),
            "assistant" => {
                let mut parts = parts_of(&message["content"], index)?;
                for (call, args) in tool_calls_of(message, index)? {
                    let name = &call["function"]["name"];
                    parts.push(json!({"functionCall": {"name": name, "args": args}}));
                }
                ("model", parts)
            }
            "tool" => {
                let name = tool_name(list, index)?;
                let response = match &message["content"] {
                    Value::String(text) => match serde_json::from_str::<Value>(text) {
                        Ok(Value::Object(object)) => Value::Object(object),
                        _ => json!({"content": text}),
                    },
                    other => json!({"content": other}),
                };
                (
                    "user",
                    vec![json!({"functionResponse": {"name": name, "response": response}})],
                )
            }
            other => return Err(unsupported_role(index, other, "gemini")),
        };
        push_turn(&mut contents, role, parts);
    }
    let system = if system.is_empty() {
        None
    } else {
        Some(json!({"parts": system}))
    };
    let contents = contents
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect();
    Ok((system, Value::Array(contents)))
}

/// The function a tool result answers: its `name`, or the name of the latest earlier tool call
/// with its `tool_call_id`.
fn tool_name(messages: &[Value], index: usize) -> Result<Value, CoreError> {
    let message = &messages[index];
    if message["name"].is_string() {
        return Ok(message["name"].clone());
    }
    let id = &message["tool_call_id"];
    messages[..index]
        .iter()
        .rev()
        .flat_map(|m| m["tool_calls"].as_array().into_iter().flatten())
        .find(|call| &call["id"] == id)
        .map(|call| call["function"]["name"].clone())
        .ok_or_else(|| {
            CoreError::invalid_request(format!(
                "messages[{}] answers tool call {}, which no earlier assistant message made",
                index, id
            ))
        })
}

fn parts_of(content: &Value, index: usize) -> Result<Vec<Value>, CoreError> {
    let parts = match content {
        Value::Null => return Ok(Vec::new()),
        Value::String(text) if text.is_empty() => return Ok(Vec::new()),
        Value::String(text) => return Ok(vec![json!({"text": text})]),
        Value::Array(parts) => parts,
        _ => {
            return Err(CoreError::invalid_request(format!(
                "messages[{}] content must be a string or a list of parts",
                index
            )))
        }
    };
    parts
        .iter()
        .map(|part| match part["type"].as_str() {
            Some("text") => Ok(json!({"text": part["text"]})),
            Some("image_url") => match image_url_of(part).and_then(data_url) {
                Some((mime_type, data)) => {
                    Ok(json!({"inlineData": {"mimeType": mime_type, "data": data}}))
                }
                None => Err(CoreError::invalid_request(format!(
                    "messages[{}] has an image that is not a base64 data URL, which gemini/ needs",
                    index
                ))),
            },
            _ => Err(unsupported_part(index, part, "gemini")),
        })
        .collect()
}

fn finish_reason(reason: &Value, called_tools: bool) -> Option<&'static str> {
    Some(match reason.as_str()? {
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            "content_filter"
        }
        _ if called_tools => "tool_calls",
        _ => "stop",
    })
}

/// Gemini's usage metadata: `promptTokenCount` includes the cached input
/// (`cachedContentTokenCount`); the prompts of tools Gemini runs itself
/// (`toolUsePromptTokenCount`) and the thinking (`thoughtsTokenCount`) are counted apart and
/// billed as input and output. So `total_tokens` is `totalTokenCount`.
fn translate_usage(metadata: &Value) -> Value {
    let count = |name: &str| metadata[name].as_u64().unwrap_or(0);
    let thoughts = metadata.get("thoughtsTokenCount").and_then(Value::as_u64);
    Tokens {
        prompt: count("promptTokenCount").saturating_add(count("toolUsePromptTokenCount")),
        completion: count("candidatesTokenCount").saturating_add(thoughts.unwrap_or(0)),
        cache_read: count("cachedContentTokenCount"),
        reasoning: thoughts,
        ..Tokens::default()
    }
    .usage()
}

/// The seed of the ids a call's answer is given: the host's nonce, or (older hosts) the time.
fn id_seed(context: &Context) -> String {
    if context.nonce.is_empty() {
        context.created.to_string()
    } else {
        context.nonce.clone()
    }
}

/// An id for a function call that Gemini sent without one: unique to the call (its `seed`),
/// the same in its complete and streamed answers.
fn call_id(seed: &str, candidate: u64, position: usize, call: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a
    let seed = format!("{}/{}/{}/{}", seed, candidate, position, call);
    for byte in seed.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("call_{:016x}", hash)
}

/// One candidate's text, reasoning and tool calls; `first_tool` numbers its tool calls.
struct Read {
    text: String,
    reasoning: String,
    tool_calls: Vec<Value>,
}

fn read_candidate(candidate: &Value, seed: &str, first_tool: usize) -> (u64, Read) {
    let index = candidate["index"].as_u64().unwrap_or(0);
    let mut read = Read {
        text: String::new(),
        reasoning: String::new(),
        tool_calls: Vec::new(),
    };
    for part in candidate["content"]["parts"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(text) = part["text"].as_str() {
            if part["thought"] == true {
                read.reasoning.push_str(text);
            } else {
                read.text.push_str(text);
            }
        } else if part["functionCall"].is_object() {
            let function = &part["functionCall"];
            let position = first_tool + read.tool_calls.len();
            let id = match function["id"].as_str() {
                Some(id) => id.to_string(),
                None => call_id(seed, index, position, function),
            };
            let args = if function["args"].is_null() {
                json!({})
            } else {
                function["args"].clone()
            };
            read.tool_calls
                .push(tool_call(&json!(id), &function["name"], args.to_string()));
        }
    }
    (index, read)
}

fn meta_of(answer: &Value, context: &Context) -> Meta {
    Meta {
        id: match &answer["responseId"] {
            Value::Null => json!(context.invented_id(|| format!("gemini-{}", context.created))),
            id => id.clone(),
        },
        model: match &answer["modelVersion"] {
            Value::Null => json!(context.model),
            model => model.clone(),
        },
        created: context.created,
    }
}

fn check_blocked(answer: &Value) -> Result<(), CoreError> {
    let no_candidates = answer["candidates"].as_array().map_or(true, Vec::is_empty);
    match answer["promptFeedback"]["blockReason"].as_str() {
        Some(reason) if no_candidates => Err(CoreError::new(
            ErrorKind::ContentPolicy,
            format!("gemini blocked the prompt ({})", reason),
        )),
        _ => Ok(()),
    }
}

pub fn parse_response(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    if !(200..300).contains(&status) {
        return Err(api_error(Some(status), body));
    }
    let answer = parse_json(body, context.limits.max_depth)?;
    if answer.get("error").is_some() {
        return Err(error_in_success(status, body));
    }
    check_blocked(&answer)?;
    let seed = id_seed(context);
    let mut choices = Vec::new();
    for candidate in answer["candidates"].as_array().into_iter().flatten() {
        let (index, read) = read_candidate(candidate, &seed, 0);
        let called_tools = !read.tool_calls.is_empty();
        let content = if read.text.is_empty() {
            Value::Null
        } else {
            json!(read.text)
        };
        let mut message = json!({"role": "assistant", "content": content});
        if called_tools {
            message["tool_calls"] = Value::Array(read.tool_calls);
        }
        if !read.reasoning.is_empty() {
            message["reasoning_content"] = json!(read.reasoning);
        }
        choices.push(json!({
            "index": index,
            "message": message,
            "finish_reason": finish_reason(&candidate["finishReason"], called_tools),
            "logprobs": null,
        }));
    }
    let meta = meta_of(&answer, context);
    Ok(meta
        .completion(
            Value::Array(choices),
            translate_usage(&answer["usageMetadata"]),
        )
        .to_string())
}

pub fn translator(context: &Context) -> Box<dyn Translate> {
    Box::new(StreamTranslator {
        seed: id_seed(context),
        context: context.clone(),
        meta: None,
        tools_sent: Vec::new(),
        started: Vec::new(),
        finished: false,
        usage: Value::Null,
    })
}

struct StreamTranslator {
    context: Context,
    seed: String,
    meta: Option<Meta>,
    /// Per candidate index: tool calls so far, and whether its first chunk went out.
    tools_sent: Vec<usize>,
    started: Vec<bool>,
    finished: bool,
    usage: Value,
}

impl Translate for StreamTranslator {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        let answer = parse_json(event.data.as_bytes(), self.context.limits.max_depth)?;
        if answer.get("error").is_some() {
            return Err(api_error(None, event.data.as_bytes()));
        }
        check_blocked(&answer)?;
        let meta = self
            .meta
            .get_or_insert_with(|| meta_of(&answer, &self.context))
            .clone();
        for candidate in answer["candidates"].as_array().into_iter().flatten() {
            let slot = candidate["index"].as_u64().unwrap_or(0);
            if slot >= MAX_CANDIDATES {
                return Err(CoreError::invalid_response(format!(
                    "the stream numbers a candidate {}, past the {} ritellm reads (Gemini answers with at most 8)",
                    slot, MAX_CANDIDATES
                )));
            }
            let slot = slot as usize; // below MAX_CANDIDATES
            if self.started.len() <= slot {
                self.started.resize(slot + 1, false);
                self.tools_sent.resize(slot + 1, 0);
            }
            let (index, read) = read_candidate(candidate, &self.seed, self.tools_sent[slot]);
            let mut delta = Map::new();
            if !self.started[slot] {
                self.started[slot] = true;
                delta.insert("role".into(), json!("assistant"));
            }
            if !read.text.is_empty() {
                delta.insert("content".into(), json!(read.text));
            }
            if !read.reasoning.is_empty() {
                delta.insert("reasoning_content".into(), json!(read.reasoning));
            }
            if !read.tool_calls.is_empty() {
                let calls: Vec<Value> = read
                    .tool_calls
                    .into_iter()
                    .enumerate()
                    .map(|(offset, mut call)| {
                        call["index"] = json!(self.tools_sent[slot] + offset);
                        call
                    })
                    .collect();
                self.tools_sent[slot] += calls.len();
                delta.insert("tool_calls".into(), Value::Array(calls));
            }
            let finish = finish_reason(&candidate["finishReason"], self.tools_sent[slot] > 0);
            self.finished |= finish.is_some();
            if !delta.is_empty() || finish.is_some() {
                out.push_chunk(meta.chunk(index, Value::Object(delta), finish));
            }
        }
        if answer["usageMetadata"].is_object() {
            self.usage = answer["usageMetadata"].clone();
        }
        Ok(false) // Gemini's stream has no end marker: it ends when the body does
    }

    fn end(&mut self, out: &mut Chunks) -> Option<CoreError> {
        if !self.finished {
            return Some(CoreError::new(
                ErrorKind::StreamIncomplete,
                "the stream ended before any candidate's finishReason",
            ));
        }
        if let (true, Some(meta)) = (self.context.include_usage, &self.meta) {
            out.push_chunk(meta.usage_chunk(translate_usage(&self.usage)));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing;

    fn call(messages: Value, params: Value, stream: bool) -> Call {
        Call {
            stream,
            ..testing::call("gemini", "gemini-2.5-flash", messages, params)
        }
    }

    fn context() -> Context {
        testing::context("gemini", "gemini-2.5-flash")
    }

    fn body(call: Call) -> Value {
        serde_json::from_slice(&build_request(call).unwrap().body).unwrap()
    }

    #[test]
    fn reasoning_effort_becomes_a_thinking_config() {
        let user = json!([{"role": "user", "content": "x"}]);
        let sent = body(call(
            user.clone(),
            json!({"reasoning_effort": "medium"}),
            false,
        ));
        assert_eq!(
            sent["generationConfig"]["thinkingConfig"],
            json!({"thinkingBudget": 2048, "includeThoughts": true})
        );
        let sent = body(call(user, json!({"reasoning_effort": "none"}), false));
        assert_eq!(
            sent["generationConfig"]["thinkingConfig"],
            json!({"thinkingBudget": 0, "includeThoughts": false})
        );
    }

    #[test]
    fn token_counts_send_the_chat_body_as_the_request_they_count() {
        let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
        let messages =
            json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "x"}]);
        let mut counted = call(messages.clone(), json!({"tools": tools}), false);
        counted.model = "models/gemini-2.5-flash".into();
        let request = build_count_tokens(counted).unwrap();
        assert_eq!(
            request.url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens"
        );
        let sent: Value = serde_json::from_slice(&request.body).unwrap();
        let chat = body(call(messages, json!({"tools": tools}), false));
        let mut expected = json!({"model": "models/gemini-2.5-flash"});
        expected
            .as_object_mut()
            .unwrap()
            .extend(chat.as_object().unwrap().clone());
        assert_eq!(sent, json!({ "generateContentRequest": expected }));
        assert_eq!(
            sent["generateContentRequest"]["systemInstruction"],
            json!({"parts": [{"text": "Be brief."}]})
        );
        let answer = br#"{"totalTokens": 31, "cachedContentTokenCount": 0, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 31}]}"#;
        assert_eq!(
            parse_count(&context(), 200, answer).unwrap(),
            r#"{"input_tokens":31}"#
        );
        let error = parse_count(&context(), 404, br#"{"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}}"#).unwrap_err();
        assert_eq!(error.status, Some(404));
    }

    #[test]
    fn urls_for_both_methods() {
        let url = |stream| {
            build_request(call(json!([]), json!({}), stream))
                .unwrap()
                .url
        };
        assert_eq!(url(false), "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent");
        assert_eq!(url(true), "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    }

    #[test]
    fn messages_roles_images_tool_calls_and_results() {
        let messages = json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/"}}]},
            {"role": "assistant", "content": "Checking.", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "{\"temp\": 21}"},
            {"role": "tool", "tool_call_id": "c1", "content": "plain text"},
        ]);
        let sent = body(call(messages, json!({}), false));
        assert_eq!(
            sent["systemInstruction"],
            json!({"parts": [{"text": "Be brief."}]})
        );
        let contents = sent["contents"].as_array().unwrap();
        assert_eq!(contents.len(), 3);
        assert_eq!(
            contents[0]["parts"][1],
            json!({"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}})
        );
        assert_eq!(contents[1]["role"], "model");
        assert_eq!(
            contents[1]["parts"][1],
            json!({"functionCall": {"name": "weather", "args": {"city": "Paris"}}})
        );
        assert_eq!(
            contents[2]["parts"][0],
            json!({"functionResponse": {"name": "weather", "response": {"temp": 21}}})
        );
        assert_eq!(
            contents[2]["parts"][1]["functionResponse"]["response"],
            json!({"content": "plain text"})
        );
        let orphan = json!([{"role": "tool", "tool_call_id": "nope", "content": "x"}]);
        assert!(build_request(call(orphan, json!({}), false))
            .unwrap_err()
            .message
            .contains("no earlier assistant"));
        let url_image = json!([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]);
        assert!(build_request(call(url_image, json!({}), false))
            .unwrap_err()
            .message
            .contains("data URL"));
    }

    #[test]
    fn generation_config_tools_and_tool_choice() {
        let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
        let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let params = json!({"temperature": 0.5, "max_tokens": 100, "top_p": 0.9, "stop": ["X"], "n": 2, "seed": 7,
            "tools": tools, "tool_choice": {"type": "function", "function": {"name": "f"}},
            "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}});
        let sent = body(call(json!([]), params, false));
        assert_eq!(
            sent["generationConfig"],
            json!({"temperature": 0.5, "maxOutputTokens": 100, "topP": 0.9, "candidateCount": 2,
            "seed": 7, "stopSequences": ["X"], "responseMimeType": "application/json", "responseJsonSchema": schema})
        );
        assert_eq!(
            sent["tools"],
            json!([{"functionDeclarations": [{"name": "f", "parametersJsonSchema": {"type": "object"}}]}])
        );
        assert_eq!(
            sent["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}})
        );
        let sent = body(call(
            json!([]),
            json!({"response_format": {"type": "json_object"}, "tool_choice": "none"}),
            false,
        ));
        assert_eq!(
            sent["generationConfig"],
            json!({"responseMimeType": "application/json"})
        );
        assert_eq!(sent["toolConfig"]["functionCallingConfig"]["mode"], "NONE");
        assert!(
            build_request(call(json!([]), json!({"logit_bias": {}}), false))
                .unwrap_err()
                .message
                .contains("logit_bias")
        );
    }

    fn answer(finish: &str) -> Value {
        json!({
            "candidates": [{"index": 0, "finishReason": finish, "content": {"role": "model", "parts": [
                {"text": "thinking...", "thought": true}, {"text": "Hello"},
                {"functionCall": {"name": "weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "weather", "args": {"city": "Rome"}}}]}}],
            "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 5, "thoughtsTokenCount": 2, "cachedContentTokenCount": 3, "totalTokenCount": 15},
            "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"})
    }

    #[test]
    fn usage_counts_thinking_as_output_and_tool_prompts_as_input_to_gemini_total() {
        let metadata = json!({"promptTokenCount": 12, "cachedContentTokenCount": 4, "candidatesTokenCount": 71,
            "toolUsePromptTokenCount": 65, "thoughtsTokenCount": 89, "totalTokenCount": 237});
        assert_eq!(
            translate_usage(&metadata),
            json!({"prompt_tokens": 77, "completion_tokens": 160, "total_tokens": 237,
                   "prompt_tokens_details": {"cached_tokens": 4},
                   "completion_tokens_details": {"reasoning_tokens": 89}})
        );
        let plain = json!({"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7});
        assert_eq!(
            translate_usage(&plain),
            json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7,
                   "prompt_tokens_details": {"cached_tokens": 0}})
        );
    }

    #[test]
    fn answers_translate() {
        for (finish, expected) in [
            ("STOP", "tool_calls"),
            ("MAX_TOKENS", "length"),
            ("SAFETY", "content_filter"),
            ("RECITATION", "content_filter"),
            ("BLOCKLIST", "content_filter"),
            ("PROHIBITED_CONTENT", "content_filter"),
        ] {
            let parsed: Value = serde_json::from_str(
                &parse_response(&context(), 200, answer(finish).to_string().as_bytes()).unwrap(),
            )
            .unwrap();
            let choice = &parsed["choices"][0];
            assert_eq!(choice["finish_reason"], expected);
            assert_eq!(choice["message"]["content"], "Hello");
            assert_eq!(choice["message"]["reasoning_content"], "thinking...");
            let calls = choice["message"]["tool_calls"].as_array().unwrap();
            assert_eq!(calls.len(), 2);
            assert_eq!(
                calls[1]["function"],
                json!({"name": "weather", "arguments": "{\"city\":\"Rome\"}"})
            );
            assert_ne!(calls[0]["id"], calls[1]["id"]);
            assert_eq!(
                parsed["usage"],
                json!({"prompt_tokens": 8, "completion_tokens": 7, "total_tokens": 15,
                "prompt_tokens_details": {"cached_tokens": 3}, "completion_tokens_details": {"reasoning_tokens": 2}})
            );
            assert_eq!(parsed["id"], "resp-1");
        }
        let text_only = json!({"candidates": [{"finishReason": "STOP", "content": {"parts": [{"text": "hi"}]}}]});
        let parsed: Value = serde_json::from_str(
            &parse_response(&context(), 200, text_only.to_string().as_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(parsed["choices"][0]["finish_reason"], "stop");
        let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}});
        let error = parse_response(&context(), 200, blocked.to_string().as_bytes()).unwrap_err();
        assert_eq!(error.kind, ErrorKind::ContentPolicy);
    }

    #[test]
    fn stream_matches_the_complete_answer() {
        let complete: Value = serde_json::from_str(
            &parse_response(&context(), 200, answer("STOP").to_string().as_bytes()).unwrap(),
        )
        .unwrap();
        let first = json!({"candidates": [{"index": 0, "content": {"role": "model", "parts": [{"text": "thinking...", "thought": true}, {"text": "Hel"}]}}], "responseId": "resp-1", "modelVersion": "gemini-2.5-flash"});
        let second = json!({"candidates": [{"index": 0, "content": {"role": "model", "parts": [{"text": "lo"}, {"functionCall": {"name": "weather", "args": {"city": "Paris"}}}]}}], "responseId": "resp-1"});
        let last = json!({"candidates": [{"index": 0, "finishReason": "STOP", "content": {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {"city": "Rome"}}}]}}],
            "usageMetadata": answer("STOP")["usageMetadata"], "responseId": "resp-1"});
        let sse = format!(
            "data: {}\r\n\r\ndata: {}\r\n\r\ndata: {}\r\n\r\n",
            first, second, last
        );
        let context_json = serde_json::to_string(&context()).unwrap();
        let mut stream = crate::open_stream(context_json.as_bytes()).unwrap();
        let batch: Value = serde_json::from_str(&stream.feed(sse.as_bytes())).unwrap();
        let end: Value = serde_json::from_str(&stream.finish()).unwrap();
        assert!(end.get("error").is_none());
        let mut chunks = batch["chunks"].as_array().unwrap().clone();
        chunks.extend(end["chunks"].as_array().unwrap().clone());
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, "Hello");
        let calls: Vec<&Value> = chunks
            .iter()
            .flat_map(|c| {
                c["choices"][0]["delta"]["tool_calls"]
                    .as_array()
                    .into_iter()
                    .flatten()
            })
            .collect();
        let expected = complete["choices"][0]["message"]["tool_calls"]
            .as_array()
            .unwrap();
        assert_eq!(calls.len(), 2);
        for (call, expected) in calls.iter().zip(expected) {
            assert_eq!(
                (&call["id"], &call["function"]),
                (&expected["id"], &expected["function"])
            );
        }
        assert_eq!(chunks[2]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(chunks.last().unwrap()["usage"], complete["usage"]);
    }

    #[test]
    fn streamed_tool_calls_have_every_key_and_nothing_empty_goes_out() {
        let candidate = |parts: Value, finish: Value| {
            json!({"candidates": [{"index": 0, "content": {"role": "model", "parts": parts}, "finishReason": finish}],
                   "responseId": "resp-1", "modelVersion": "gemini-2.5-flash"})
        };
        let call = |name: &str, city: &str| json!({"functionCall": {"name": name, "args": {"city": city}}});
        let body = testing::sse(&[
            candidate(json!([{"text": ""}]), Value::Null),
            candidate(json!([]), Value::Null),
            candidate(
                json!([call("weather", "Paris"), call("weather", "Rome")]),
                Value::Null,
            ),
            candidate(json!([{"text": ""}]), Value::Null),
            candidate(json!([call("time", "Oslo")]), json!("STOP")),
        ]);
        let (chunks, error) = testing::read_stream(&context(), &body);
        assert_eq!(error, Value::Null);
        let fragments = testing::assert_litellm_shaped(&chunks);
        // Gemini sends each call whole: one fragment each, every key given.
        let indexes: Vec<&Value> = fragments.iter().map(|f| &f["index"]).collect();
        assert_eq!(indexes, [&json!(0), &json!(1), &json!(2)]);
        for (fragment, name) in fragments.iter().zip(["weather", "weather", "time"]) {
            assert_eq!(fragment["function"]["name"], name);
            assert!(fragment["id"].as_str().unwrap().starts_with("call_"));
        }
        // The role, the two calls, the last call with the finish, the usage.
        assert_eq!(chunks.len(), 4);
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant"})
        );
        assert_eq!(chunks[2]["choices"][0]["finish_reason"], "tool_calls");
    }

    #[test]
    fn a_stream_without_finish_reason_is_incomplete() {
        let context_json = serde_json::to_string(&context()).unwrap();
        let mut stream = crate::open_stream(context_json.as_bytes()).unwrap();
        stream.feed(
            b"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"hi\"}]}}]}\n\n",
        );
        let end: Value = serde_json::from_str(&stream.finish()).unwrap();
        assert_eq!(end["error"]["kind"], "stream_incomplete");
    }

    fn stream_tool_ids(context: &Context, answer: &Value) -> Vec<Value> {
        let context_json = serde_json::to_string(context).unwrap();
        let mut stream = crate::open_stream(context_json.as_bytes()).unwrap();
        let batch: Value =
            serde_json::from_str(&stream.feed(format!("data: {}\n\n", answer).as_bytes())).unwrap();
        batch["chunks"][0]["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|call| call["id"].clone())
            .collect()
    }

    #[test]
    fn invented_ids_derive_from_the_calls_nonce() {
        let mut answer = answer("STOP");
        answer.as_object_mut().unwrap().remove("responseId");
        let read = |context: &Context| -> Value {
            serde_json::from_str(
                &parse_response(context, 200, answer.to_string().as_bytes()).unwrap(),
            )
            .unwrap()
        };
        let ids = |parsed: &Value| -> Vec<Value> {
            let calls = parsed["choices"][0]["message"]["tool_calls"]
                .as_array()
                .unwrap();
            calls.iter().map(|call| call["id"].clone()).collect()
        };
        let mut first = context();
        first.nonce = "0123456789abcdef".into();
        let mut later = first.clone();
        later.created += 1; // the same call read a second later reads the same
        let mut other = first.clone();
        other.nonce = "fedcba9876543210".into();
        let parsed = read(&first);
        assert_eq!(parsed["id"], "chatcmpl-0123456789abcdef");
        assert_eq!(read(&later)["id"], parsed["id"]);
        assert_eq!(ids(&read(&later)), ids(&parsed));
        assert_ne!(read(&other)["id"], parsed["id"]);
        let other_ids = ids(&read(&other));
        assert!(ids(&parsed).iter().all(|id| !other_ids.contains(id)));
        // Streamed, the same call gives its tool calls the same ids.
        assert_eq!(stream_tool_ids(&first, &answer), ids(&parsed));
        // Without a nonce (older hosts), as before: from the time.
        assert_eq!(read(&context())["id"], "gemini-1700000000");
    }

    #[test]
    fn model_ids_are_one_path_segment() {
        let url = |model: &str| {
            let call = Call {
                model: model.into(),
                ..call(json!([]), json!({}), false)
            };
            build_request(call).unwrap().url
        };
        assert!(url("gemini-1.5-pro@002").ends_with("/models/gemini-1.5-pro@002:generateContent"));
        assert!(url("models/x y?z").ends_with("/models/x%20y%3Fz:generateContent"));
    }

    #[test]
    fn candidate_indexes_from_the_wire_are_bounded() {
        let read = |index: Value| {
            let context_json = serde_json::to_string(&context()).unwrap();
            let mut stream = crate::open_stream(context_json.as_bytes()).unwrap();
            let event = json!({"candidates": [{"index": index, "finishReason": "STOP",
                "content": {"parts": [{"text": "hi"}]}}]});
            let batch: Value =
                serde_json::from_str(&stream.feed(format!("data: {}\n\n", event).as_bytes()))
                    .unwrap();
            batch
        };
        // Once, u64::MAX wrapped `index + 1` and 8,000,000 made the translator hold 40 MB.
        for index in [u64::MAX, 4294967295, 4294967296, 8_000_000, MAX_CANDIDATES] {
            let batch = read(json!(index));
            assert_eq!(batch["error"]["kind"], "invalid_response", "{}", index);
            assert!(
                batch["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("candidate"),
                "{}",
                batch
            );
        }
        let last = read(json!(MAX_CANDIDATES - 1));
        assert!(last.get("error").is_none(), "{}", last);
        assert_eq!(last["chunks"][0]["choices"][0]["index"], MAX_CANDIDATES - 1);
        // Not a number: the first candidate, as before.
        let unnumbered = read(json!("x"));
        assert_eq!(unnumbered["chunks"][0]["choices"][0]["index"], 0);
    }

    fn embedding_request(
        model: &str,
        input: Value,
        params: Value,
        drop: bool,
    ) -> Result<(HttpRequest, Value, Context), CoreError> {
        let mut call = testing::embedding("gemini", model, input, params);
        call.drop_params = drop;
        let mut context = testing::embedding_context("gemini", model, 0);
        context.dimensions = call.embedding.dimensions;
        let request = build_embedding(call, &mut context)?;
        let body = serde_json::from_slice(&request.body).unwrap();
        Ok((request, body, context))
    }

    #[test]
    fn batch_embed_contents_carries_one_request_per_input() {
        let (request, body, _) = embedding_request(
            "gemini-embedding-001",
            json!(["a", "b"]),
            json!({"input_type": "query", "dimensions": 768}),
            false,
        )
        .unwrap();
        assert_eq!(
            request.url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents"
        );
        let one = |text: &str| json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": text}]}, "taskType": "RETRIEVAL_QUERY", "outputDimensionality": 768});
        assert_eq!(body, json!({"requests": [one("a"), one("b")]}));
        let many: Vec<String> = (0..150).map(|i| format!("t{}", i)).collect();
        let (request, body, _) = embedding_request(
            "models/text-embedding-004",
            json!(many),
            json!({"task_type": "SEMANTIC_SIMILARITY", "title": "T"}),
            false,
        )
        .unwrap();
        assert_eq!((request.inputs, request.max_inputs), (Some(100), Some(100)));
        assert_eq!(body["requests"][99]["content"]["parts"][0]["text"], "t99");
        assert_eq!(body["requests"][0]["taskType"], "SEMANTIC_SIMILARITY");
        assert_eq!(body["requests"][0]["title"], "T");
        assert_eq!(body["requests"][0]["model"], "models/text-embedding-004");
        let (_, body, _) =
            embedding_request("m", json!("a"), json!({"input_type": "document"}), false).unwrap();
        assert_eq!(body["requests"][0]["taskType"], "RETRIEVAL_DOCUMENT");
    }

    #[test]
    fn embedding_fields_gemini_cannot_take_are_refused_or_dropped() {
        let error = embedding_request(
            "embedding-001",
            json!("a"),
            json!({"dimensions": 256}),
            false,
        )
        .unwrap_err();
        assert_eq!(error.param.as_deref(), Some("dimensions"));
        let (_, body, context) = embedding_request(
            "embedding-001",
            json!("a"),
            json!({"dimensions": 256, "user": "u"}),
            true,
        )
        .unwrap();
        assert!(body["requests"][0].get("outputDimensionality").is_none());
        assert_eq!(context.dimensions, None);
        let call = json!({"model": "gemini/m", "operation": "embedding", "input": "a",
                          "params": {"user": null, "title": null}, "additional_params": {"x": null}});
        let request = crate::prepare(call.to_string().as_bytes()).unwrap();
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body["requests"][0],
            json!({"model": "models/m", "content": {"parts": [{"text": "a"}]}})
        );
        assert!(body.get("x").is_none());
        let error = embedding_request("m", json!("a"), json!({"user": "u"}), false).unwrap_err();
        assert!(error
            .message
            .contains("gemini/ does not support the parameter user"));
        let error = embedding_request("m", json!([1, 2]), json!({}), false).unwrap_err();
        assert!(error.message.contains("gemini/ takes text input only"));
    }

    #[test]
    fn googles_embedding_answers_are_read() {
        let read = |inputs: usize, answer: Value| {
            let context = testing::embedding_context("gemini", "gemini-embedding-001", inputs);
            parse_embeddings(&context, 200, answer.to_string().as_bytes())
                .map(|text| serde_json::from_str::<Value>(&text).unwrap())
        };
        let batch = read(
            2,
            json!({"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]}),
        )
        .unwrap();
        assert_eq!(
            batch["data"][1],
            json!({"object": "embedding", "index": 1, "embedding": [0.3, 0.4]})
        );
        assert_eq!(batch["model"], "gemini-embedding-001");
        assert_eq!(
            batch["usage"],
            json!({"prompt_tokens": 0, "total_tokens": 0})
        );
        let counted = read(
            1,
            json!({"embeddings": [{"values": [1]}], "usageMetadata": {"promptTokenCount": 5}}),
        )
        .unwrap();
        assert_eq!(
            counted["usage"],
            json!({"prompt_tokens": 5, "total_tokens": 5})
        );
        let predicted = read(2, json!({"predictions": [
            {"embeddings": {"values": [1, 2], "statistics": {"token_count": 6, "truncated": false}}},
            {"embeddings": {"values": [3, 4], "statistics": {"tokenCount": 2}}}],
            "metadata": {"billableCharacterCount": 10}})).unwrap();
        assert_eq!(predicted["data"][1]["embedding"], json!([3, 4]));
        assert_eq!(
            predicted["usage"],
            json!({"prompt_tokens": 8, "total_tokens": 8})
        );
        assert!(read(1, json!({"candidates": []}))
            .unwrap_err()
            .message
            .contains("neither embeddings nor predictions"));
        let context = testing::embedding_context("gemini", "m", 1);
        let error = parse_embeddings(&context, 400, br#"{"error": {"code": 400, "message": "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch", "status": "INVALID_ARGUMENT"}}"#).unwrap_err();
        assert_eq!(error.error_type.as_deref(), Some("INVALID_ARGUMENT"));
        assert!(error.message.contains("at most 100"));
    }
}
