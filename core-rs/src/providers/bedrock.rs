//! AWS Bedrock's Converse and ConverseStream APIs, translated both ways. ConverseStream answers
//! in AWS's binary event-stream framing (`eventstream.rs`); the host signs each request
//! (SigV4), after the core built it: credentials never enter the sandbox. Turns, answers and
//! streams are assembled as Anthropic's are (`blocks.rs`), in Converse's field names.
//!
//! Parameters Converse has no field for are refused, as by the other translated APIs, or left
//! out with `drop_params`; `top_k` and the thinking budget go to the model itself
//! (`additionalModelRequestFields`), and so does anything the caller puts there through
//! `additional_params`.
//!
//! Embeddings go to InvokeModel (`/model/{id}/invoke`) in the model's own body: Amazon Titan
//! Text Embeddings (one text per request: `inputText`, `dimensions` 256, 512 or 1024 on v2) and
//! Cohere Embed v3 and v4 (`texts`, at most 96, a required `input_type`, `output_dimension` on
//! v4). https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html
//! and .../model-parameters-embed-v3.html, .../model-parameters-embed-v4.html
//!
//! Token counts: CountTokens (`/model/{id}/count-tokens`) takes the Converse body's `messages`,
//! `system`, `toolConfig` and `additionalModelRequestFields` as `{"input": {"converse": ...}}`
//! and answers `{"inputTokens": n}`; not every model has it.
//! https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CountTokens.html and
//! .../API_runtime_ConverseTokensRequest.html
//!
//! https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html and
//! .../API_runtime_ConverseStream.html

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::blocks::{block_turns, Answer, BlockProtocol, BlockStream};
use super::count;
use super::shared::{
    data_url, function_tool, image_url_of, json_format, parse_json, thinking_budget, tool_choice,
    unsupported_part, Meta, Params, Tokens, ToolChoice,
};
use super::url::{endpoint, path_segment, setting};
use super::vectors::{self, no_dimensions, InputTypes};
use crate::call::{Call, Context, HttpRequest};
use crate::error::{api_error, CoreError};
use crate::sse::Event;
use crate::translate::{Chunks, Translate};

/// Inference parameters, by our name and Converse's (in `inferenceConfig`).
const INFERENCE: &[(&str, &str)] = &[
    ("max_tokens", "maxTokens"),
    ("max_completion_tokens", "maxTokens"),
    ("temperature", "temperature"),
    ("top_p", "topP"),
];
/// Answers carry no id; chunks and completions need one: this, when the host sent no nonce.
const ANSWER_ID: &str = "chatcmpl-bedrock";
/// Anthropic's smallest thinking budget, for Claude on Bedrock.
const MIN_THINKING_BUDGET: u64 = 1024;

pub fn build_request(mut call: Call, context: &mut Context) -> Result<HttpRequest, CoreError> {
    let action = if call.stream {
        "converse-stream"
    } else {
        "converse"
    };
    let url = model_url(&call.base_url, &call.env, &call.model, action)?;
    let stream = call.stream;
    let additional_params = std::mem::take(&mut call.additional_params);
    let mut body = build_body(call, context)?;
    body.extend(additional_params);
    let mut request = HttpRequest::post_json(url, &body, stream);
    if stream {
        request
            .headers
            .insert("accept", "application/vnd.amazon.eventstream".to_string());
    }
    Ok(request)
}

/// The fields of a Converse body that CountTokens takes.
const COUNTED: &[&str] = &[
    "messages",
    "system",
    "toolConfig",
    "additionalModelRequestFields",
];

/// A `count_tokens` call: the chat call's Converse body, of the fields CountTokens takes, then
/// the caller's `additional_params`, as `{"input": {"converse": ...}}`.
pub fn build_count_tokens(mut call: Call, context: &mut Context) -> Result<HttpRequest, CoreError> {
    let url = model_url(&call.base_url, &call.env, &call.model, "count-tokens")?;
    let additional_params = std::mem::take(&mut call.additional_params);
    let converse = count::only(build_body(call, context)?, COUNTED, additional_params);
    let mut body = Map::new();
    body.insert("input".into(), json!({ "converse": converse }));
    Ok(HttpRequest::post_json(url, &body, false))
}

/// A CountTokens answer, `{"inputTokens": n}`.
pub fn parse_count(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    count::read(context, status, body, "inputTokens")
}

/// The Converse body of a call, without the caller's `additional_params`.
fn build_body(call: Call, context: &mut Context) -> Result<Map<String, Value>, CoreError> {
    let mut params = Params::new(call.params, "bedrock");
    let (system, messages) = block_turns::<Converse>(&call.messages)?;
    let mut body = Map::new();
    body.insert("messages".into(), messages);
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    let mut inference = Map::new();
    params.move_renamed(INFERENCE, &mut inference);
    if let Some(stops) = params.take_list("stop") {
        inference.insert("stopSequences".into(), stops);
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }

    let mut tools = Vec::new();
    if let Some(Value::Array(list)) = params.take("tools") {
        for (index, tool) in list.iter().enumerate() {
            let (name, description, schema) = function_tool(tool, index)?;
            let mut spec = json!({"name": name, "inputSchema": {"json": schema}});
            if description.is_string() {
                spec["description"] = description.clone();
            }
            tools.push(json!({ "toolSpec": spec }));
        }
    }
    let mut choice = match params.take("tool_choice") {
        None => None,
        Some(choice) => match tool_choice(&choice)? {
            // Converse has no "none": without tools the model cannot call one.
            ToolChoice::Mode("none") => {
                tools.clear();
                None
            }
            ToolChoice::Mode("required") => Some(json!({"any": {}})),
            ToolChoice::Mode(_) => Some(json!({"auto": {}})),
            ToolChoice::Function(name) => Some(json!({"tool": {"name": name}})),
        },
    };
    params.take("parallel_tool_calls"); // Converse decides; there is nothing to send
    if let Some((name, schema)) = json_format(params.take("response_format"))? {
        tools.push(json!({"toolSpec": {"name": name, "description": "Respond with JSON in this shape.", "inputSchema": {"json": schema}}}));
        choice = Some(json!({"tool": {"name": name}}));
        context.json_tool = Some(name);
    }
    if !tools.is_empty() {
        let mut config = json!({ "tools": tools });
        if let Some(choice) = choice {
            config["toolChoice"] = choice;
        }
        body.insert("toolConfig".into(), config);
    }
    params.take("stream_options"); // only include_usage, which the context carries

    // Fields of the model's own, which Converse passes on (additionalModelRequestFields).
    let mut extra = Map::new();
    if let Some(top_k) = params.take("top_k") {
        extra.insert("top_k".into(), top_k);
    }
    if let Some(effort) = params.take("reasoning_effort") {
        if !call.model.contains("anthropic.") {
            return Err(CoreError::invalid_request(
                "bedrock/ maps reasoning_effort for Anthropic models only; send the model's own \
                 field in additionalModelRequestFields (additional_params)",
            ));
        }
        if let Some(budget) = thinking_budget(&effort, MIN_THINKING_BUDGET)? {
            extra.insert(
                "thinking".into(),
                json!({"type": "enabled", "budget_tokens": budget}),
            );
        }
    }
    params.finish(call.drop_params)?;
    if !extra.is_empty() {
        body.insert("additionalModelRequestFields".into(), Value::Object(extra));
    }
    Ok(body)
}

/// The URL of `model`'s `action`.
fn model_url(
    base_url: &str,
    env: &BTreeMap<String, String>,
    model: &str,
    action: &str,
) -> Result<String, CoreError> {
    // The host signs for this region (SigV4), with a custom endpoint too.
    if let Some(region) = env.get("AWS_REGION").filter(|r| !r.is_empty()) {
        setting("AWS_REGION", region)?;
    }
    // Model ids and ARNs hold `:` and `/`: one path segment, percent-encoded.
    let path = format!("/model/{}/{}", path_segment(model)?, action);
    Ok(endpoint(base_url, &path))
}

/// The embedding models Bedrock serves, each with its own body, told apart by model id (which
/// may carry a region's prefix, `us.cohere.embed-v4:0`, or be an ARN that names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Embedder {
    /// Amazon Titan Text Embeddings; v2 takes `dimensions`.
    Titan { v2: bool },
    /// Cohere Embed; v4 takes `output_dimension`.
    Cohere { v4: bool },
}

fn embedder(model: &str) -> Option<Embedder> {
    if model.contains("amazon.titan-embed") {
        Some(Embedder::Titan {
            v2: model.contains("titan-embed-text-v2"),
        })
    } else if model.contains("cohere.embed") {
        Some(Embedder::Cohere {
            v4: model.contains("embed-v4"),
        })
    } else {
        None
    }
}

/// The `dimensions` each embedder can give.
const TITAN_DIMENSIONS: &[u64] = &[256, 512, 1024];
const COHERE_DIMENSIONS: &[u64] = &[256, 512, 1024, 1536];

pub fn build_embedding(mut call: Call, context: &mut Context) -> Result<HttpRequest, CoreError> {
    let kind = embedder(&call.model).ok_or_else(|| {
        CoreError::invalid_request(format!(
            "bedrock/ embeds with Amazon Titan Text Embeddings (amazon.titan-embed-text-v2:0) and Cohere Embed (cohere.embed-*) models; {} is neither",
            call.model
        ))
    })?;
    let mut params = Params::new(std::mem::take(&mut call.params), call.provider);
    let mut embedding = std::mem::take(&mut call.embedding);
    let max = match kind {
        Embedder::Titan { .. } => 1,
        Embedder::Cohere { .. } => 96,
    };
    let inputs = embedding.keep(max);
    let mut texts = vectors::texts(embedding.input, call.provider)?;
    let (field, allowed) = match kind {
        Embedder::Titan { v2: true } => ("dimensions", TITAN_DIMENSIONS),
        Embedder::Cohere { v4: true } => ("output_dimension", COHERE_DIMENSIONS),
        _ => ("", &[][..]),
    };
    let dimensions = match embedding.dimensions {
        Some(asked) if allowed.contains(&asked) => Some(asked),
        Some(_) if call.drop_params => {
            context.dimensions = None;
            None
        }
        Some(asked) => {
            let which = match allowed {
                [] => "cannot shorten its vectors".to_string(),
                _ => format!("gives {:?} only, not {}", allowed, asked),
            };
            return Err(no_dimensions(call.provider, &call.model, &which));
        }
        None => None,
    };
    let mut body = Map::new();
    match kind {
        Embedder::Titan { .. } => {
            body.insert("inputText".into(), json!(texts.pop()));
            if let Some(normalize) = params.take("normalize") {
                body.insert("normalize".into(), normalize);
            }
        }
        Embedder::Cohere { .. } => {
            body.insert("texts".into(), json!(texts));
            let kind = InputTypes::COHERE.spell(embedding.input_type.as_deref());
            body.insert("input_type".into(), json!(kind));
            if let Some(truncate) = params.take("truncate") {
                body.insert("truncate".into(), truncate);
            }
        }
    }
    if let Some(dimensions) = dimensions {
        body.insert(field.into(), json!(dimensions));
    }
    params.finish(call.drop_params)?;
    let url = model_url(&call.base_url, &call.env, &call.model, "invoke")?;
    body.extend(call.additional_params);
    Ok(HttpRequest::post_json(url, &body, false).carrying(inputs, max))
}

/// Titan's answer: one vector, and its count of tokens.
#[derive(Deserialize)]
struct TitanAnswer<'a> {
    #[serde(borrow)]
    embedding: &'a RawValue,
    #[serde(default, rename = "inputTextTokenCount")]
    tokens: Option<u64>,
}

/// Cohere's answer: `embeddings` a list of vectors (`embeddings_floats`) or vectors by type
/// (`embeddings_by_type`); the tokens billed, where it says.
#[derive(Deserialize)]
struct CohereAnswer<'a> {
    #[serde(borrow)]
    embeddings: &'a RawValue,
    #[serde(default)]
    meta: Value,
}

#[derive(Deserialize)]
struct ByType<'a> {
    #[serde(borrow, default)]
    float: Option<Vec<&'a RawValue>>,
}

pub fn parse_embeddings(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    if let Some(Embedder::Titan { .. }) = embedder(&context.model) {
        let answer: TitanAnswer = vectors::read(context, status, body)?;
        return vectors::answer(context, &[answer.embedding], None, answer.tokens, None);
    }
    let answer: CohereAnswer = vectors::read(context, status, body)?;
    let list = answer.embeddings.get();
    let list: Vec<&RawValue> = if list.starts_with('[') {
        vectors::parse(list)?
    } else {
        let by_type: ByType = vectors::parse(list)?;
        by_type.float.ok_or_else(|| {
            CoreError::invalid_response("the provider's answer has no float embeddings")
        })?
    };
    let tokens = answer.meta.pointer("/billed_units/input_tokens");
    vectors::answer(context, &list, None, tokens.and_then(Value::as_u64), None)
}

struct Converse;

impl BlockProtocol for Converse {
    const PROVIDER: &'static str = "bedrock";

    fn content(content: &Value, index: usize) -> Result<Vec<Value>, CoreError> {
        content_blocks(content, index)
    }

    /// A thinking block of an earlier answer (`thinking_blocks`, as Anthropic's are) in
    /// Converse's shape.
    fn thinking(block: &Value) -> Option<Value> {
        match block["type"].as_str()? {
            "thinking" => Some(json!({"reasoningContent": {"reasoningText": {
                "text": block["thinking"], "signature": block["signature"]}}})),
            "redacted_thinking" => {
                Some(json!({"reasoningContent": {"redactedContent": block["data"]}}))
            }
            _ => None,
        }
    }

    fn tool_use(id: &Value, name: &Value, input: Value) -> Value {
        json!({"toolUse": {"toolUseId": id, "name": name, "input": input}})
    }

    fn tool_result(id: &str, content: &Value, index: usize) -> Result<Value, CoreError> {
        let content = match content {
            Value::String(text) => vec![json!({ "text": text })],
            other => content_blocks(other, index)?,
        };
        Ok(json!({"toolResult": {"toolUseId": id, "content": content}}))
    }
}

/// OpenAI message content as Converse content blocks.
fn content_blocks(content: &Value, index: usize) -> Result<Vec<Value>, CoreError> {
    let parts = match content {
        Value::Null => return Ok(Vec::new()),
        Value::String(text) if text.is_empty() => return Ok(Vec::new()),
        Value::String(text) => return Ok(vec![json!({ "text": text })]),
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
        blocks.push(match part["type"].as_str() {
            Some("text") => json!({"text": part["text"]}),
            Some("image_url") => {
                let url = image_url_of(part).unwrap_or("");
                let (media_type, data) = data_url(url).ok_or_else(|| {
                    CoreError::invalid_request(format!(
                        "messages[{}] has an image that is not a base64 data URL; Converse takes image bytes only",
                        index
                    ))
                })?;
                let format = media_type.strip_prefix("image/").unwrap_or(media_type);
                json!({"image": {"format": format, "source": {"bytes": data}}})
            }
            _ => return Err(unsupported_part(index, part, "bedrock")),
        });
    }
    Ok(blocks)
}

/// Converse's usage: `inputTokens` counts only the input neither read from nor written to the
/// cache.
fn translate_usage(usage_in: &Value) -> Value {
    let count = |name: &str| usage_in[name].as_u64().unwrap_or(0);
    let read = count("cacheReadInputTokens");
    let written = count("cacheWriteInputTokens");
    Tokens {
        prompt: count("inputTokens")
            .saturating_add(read)
            .saturating_add(written),
        completion: count("outputTokens"),
        cache_read: read,
        cache_write: Some(written),
        ..Tokens::default()
    }
    .usage()
}

fn meta(context: &Context) -> Meta {
    Meta {
        id: json!(context.invented_id(|| ANSWER_ID.to_string())),
        model: json!(context.model),
        created: context.created,
    }
}

pub fn parse_response(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    if !(200..300).contains(&status) {
        return Err(api_error(Some(status), body));
    }
    let answer = parse_json(body, context.limits.max_depth)?;
    let mut assembled = Answer::default();
    for block in answer["output"]["message"]["content"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if block["text"].is_string() {
            assembled.text(&block["text"]);
        } else if let Some(used) = block.get("toolUse") {
            assembled.tool_use(context, &used["toolUseId"], &used["name"], &used["input"]);
        } else if let Some(content) = block.get("reasoningContent") {
            if let Some(reasoned) = content.get("reasoningText") {
                assembled.thinking(&reasoned["text"], &reasoned["signature"]);
            } else if let Some(data) = content.get("redactedContent") {
                assembled.redacted(data);
            }
        }
    }
    Ok(assembled.completion(
        &meta(context),
        &answer["stopReason"],
        translate_usage(&answer["usage"]),
    ))
}

pub fn translator(context: &Context) -> Box<dyn Translate> {
    Box::new(StreamTranslator {
        blocks: BlockStream::new(context, meta(context)),
        max_depth: context.limits.max_depth,
    })
}

struct StreamTranslator {
    blocks: BlockStream,
    max_depth: usize,
}

impl Translate for StreamTranslator {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        if let Some(kind) = event
            .event_type
            .strip_prefix("exception ")
            .or_else(|| event.event_type.strip_prefix("error "))
        {
            return Err(stream_exception(kind, event.data.as_bytes()));
        }
        let data = parse_json(event.data.as_bytes(), self.max_depth)?;
        // A key for the block's state (see `BlockStream`), never a size.
        let index = data["contentBlockIndex"].as_u64().unwrap_or(0);
        let blocks = &mut self.blocks;
        match event.event_type.as_str() {
            "messageStart" => blocks.start(out),
            "contentBlockStart" => {
                // Converse announces only tool blocks.
                let used = &data["start"]["toolUse"];
                if used.is_object() {
                    blocks.start_tool(index, &used["toolUseId"], &used["name"], out)?;
                }
            }
            "contentBlockDelta" => {
                let delta = &data["delta"];
                if let Some(text) = delta.get("text") {
                    blocks.text(text, out);
                } else if let Some(input) = delta["toolUse"].get("input") {
                    blocks.tool_input(index, input, out);
                } else if let Some(reasoned) = delta.get("reasoningContent") {
                    match reasoned.get("signature") {
                        Some(signature) => blocks.signature(signature),
                        None => blocks.thinking(&reasoned["text"], out),
                    }
                }
            }
            "contentBlockStop" => blocks.stop_block(index, out),
            "messageStop" => blocks.finish(&data["stopReason"], out),
            "metadata" => {
                // The last event of a stream.
                blocks.usage(translate_usage(&data["usage"]), out);
                return Ok(true);
            }
            _ => {}
        }
        Ok(false)
    }
}

/// An exception or error message in the stream, as the error its type stands for.
fn stream_exception(kind: &str, payload: &[u8]) -> CoreError {
    let mut error = api_error(None, payload);
    let status = match kind.to_ascii_lowercase().as_str() {
        "validationexception" => 400,
        "accessdeniedexception" => 403,
        "resourcenotfoundexception" => 404,
        "modeltimeoutexception" => 408,
        "throttlingexception" | "servicequotaexceededexception" => 429,
        "modelstreamerrorexception" | "modelerrorexception" => 424,
        "serviceunavailableexception" => 503,
        _ => 500,
    };
    error.status = Some(status);
    error.error_type = Some(kind.to_string());
    if error.message == format!("provider answered HTTP {}", status) || error.message.is_empty() {
        error.message = format!("Bedrock reported {}", kind);
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eventstream::testing::{event, frame};
    use crate::providers::testing;

    fn call(messages: Value, params: Value) -> Call {
        Call {
            base_url: "https://bedrock-runtime.us-east-1.amazonaws.com".into(),
            ..testing::call(
                "bedrock",
                "anthropic.claude-3-5-sonnet-20240620-v1:0",
                messages,
                params,
            )
        }
    }

    fn context() -> Context {
        testing::context("bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0")
    }

    fn body(call: Call) -> (String, Value) {
        let request = build_request(call, &mut context()).unwrap();
        (request.url, serde_json::from_slice(&request.body).unwrap())
    }

    #[test]
    fn requests_translate_with_the_model_id_as_one_path_segment() {
        let tools = json!([{"type": "function", "function": {"name": "weather", "description": "d", "parameters": {"type": "object"}}}]);
        let messages = json!([
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Rome\"}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "sunny"},
        ]);
        let params = json!({"max_tokens": 10, "temperature": 0.5, "stop": "END", "tools": tools,
            "tool_choice": "required", "top_k": 5});
        let (url, sent) = body(call(messages, params));
        assert_eq!(
            url,
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
        );
        assert_eq!(sent["system"], json!([{"text": "be brief"}]));
        assert_eq!(
            sent["messages"][0]["content"][1],
            json!({"image": {"format": "png", "source": {"bytes": "AAAA"}}})
        );
        assert_eq!(
            sent["messages"][1]["content"][0],
            json!({"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Rome"}}})
        );
        assert_eq!(
            sent["messages"][2],
            json!({"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}]}}]})
        );
        assert_eq!(
            sent["inferenceConfig"],
            json!({"maxTokens": 10, "temperature": 0.5, "stopSequences": ["END"]})
        );
        assert_eq!(sent["toolConfig"]["toolChoice"], json!({"any": {}}));
        assert_eq!(
            sent["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"],
            json!({"json": {"type": "object"}})
        );
        assert_eq!(sent["additionalModelRequestFields"], json!({"top_k": 5}));
    }

    #[test]
    fn token_counts_send_the_converse_body_they_count() {
        let tools = json!([{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]);
        let messages =
            json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "x"}]);
        let params = json!({"max_tokens": 5000, "temperature": 0.5, "stop": "END", "tools": tools,
            "tool_choice": "required", "top_k": 5, "reasoning_effort": "low"});
        let mut counted = call(messages.clone(), params.clone());
        counted
            .additional_params
            .insert("additionalModelRequestFields".into(), json!({"top_k": 9}));
        let request = build_count_tokens(counted, &mut context()).unwrap();
        assert_eq!(
            request.url,
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/count-tokens"
        );
        let sent: Value = serde_json::from_slice(&request.body).unwrap();
        let (_, chat) = body(call(messages, params));
        assert_eq!(
            sent,
            json!({"input": {"converse": {"messages": chat["messages"], "system": [{"text": "be brief"}],
                "toolConfig": chat["toolConfig"], "additionalModelRequestFields": {"top_k": 9}}}})
        );
        assert_eq!(
            parse_count(&context(), 200, br#"{"inputTokens": 27}"#).unwrap(),
            r#"{"input_tokens":27}"#
        );
        let error = parse_count(
            &context(),
            400,
            br#"{"message":"The provided model doesn't support counting tokens."}"#,
        )
        .unwrap_err();
        assert_eq!(
            (error.status, error.message.as_str()),
            (
                Some(400),
                "The provided model doesn't support counting tokens."
            )
        );
    }

    #[test]
    fn answers_translate_with_reasoning_tools_and_usage() {
        let answer = json!({"output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
                {"text": "Let me check."},
                {"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Rome"}}}]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15, "cacheReadInputTokens": 2}});
        let parsed: Value = serde_json::from_str(
            &parse_response(&context(), 200, answer.to_string().as_bytes()).unwrap(),
        )
        .unwrap();
        let choice = &parsed["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["message"]["content"], "Let me check.");
        assert_eq!(
            choice["message"]["tool_calls"][0]["function"]["arguments"],
            "{\"city\":\"Rome\"}"
        );
        assert_eq!(
            choice["message"]["thinking_blocks"],
            json!([{"type": "thinking", "thinking": "hmm", "signature": "sig"}])
        );
        assert_eq!(
            parsed["usage"],
            json!({"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17,
                   "prompt_tokens_details": {"cached_tokens": 2, "cache_creation_tokens": 0},
                   "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2})
        );
        assert_eq!(parsed["model"], "anthropic.claude-3-5-sonnet-20240620-v1:0");
    }

    #[test]
    fn errors_map_to_their_status() {
        let error = parse_response(
            &context(),
            400,
            br#"{"message":"Input is too long for requested model."}"#,
        )
        .unwrap_err();
        assert_eq!(error.kind, crate::error::ErrorKind::ContextWindowExceeded);
        let error = stream_exception("throttlingException", br#"{"message":"Too many requests"}"#);
        assert_eq!(
            (error.status, error.message.as_str()),
            (Some(429), "Too many requests")
        );
    }

    fn stream_bytes() -> Vec<u8> {
        let mut bytes = Vec::new();
        for (kind, payload) in [
            ("messageStart", r#"{"role":"assistant"}"#),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"Hel"}}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"lo"}}"#,
            ),
            ("contentBlockStop", r#"{"contentBlockIndex":0}"#),
            (
                "contentBlockStart",
                r#"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"t1","name":"weather"}}}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}}"#,
            ),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"Rome\"}"}}}"#,
            ),
            ("contentBlockStop", r#"{"contentBlockIndex":1}"#),
            ("messageStop", r#"{"stopReason":"tool_use"}"#),
            (
                "metadata",
                r#"{"usage":{"inputTokens":3,"outputTokens":4,"totalTokens":17,"cacheReadInputTokens":6,"cacheWriteInputTokens":4},"metrics":{"latencyMs":5}}"#,
            ),
        ] {
            bytes.extend(event(kind, payload));
        }
        bytes
    }

    fn decode(pieces: &[&[u8]]) -> Value {
        let mut context = context();
        context.include_usage = true;
        let context = serde_json::to_string(&context).unwrap();
        let mut stream = crate::open_stream(context.as_bytes()).unwrap();
        let mut chunks = Vec::new();
        for piece in pieces {
            let batch: Value = serde_json::from_str(&stream.feed(piece)).unwrap();
            assert!(batch.get("error").is_none(), "{}", batch);
            chunks.extend(batch["chunks"].as_array().unwrap().clone());
        }
        Value::Array(chunks)
    }

    #[test]
    fn converse_stream_translates_and_is_the_same_split_anywhere() {
        let bytes = stream_bytes();
        let whole = decode(&[&bytes]);
        let deltas: Vec<&Value> = whole
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["choices"][0]["delta"])
            .collect();
        assert_eq!(deltas[1]["content"], "Hel");
        assert_eq!(deltas[3]["tool_calls"][0]["function"]["name"], "weather");
        assert_eq!(
            deltas[5]["tool_calls"][0]["function"]["arguments"],
            "\"Rome\"}"
        );
        assert_eq!(whole[6]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(
            whole[7]["usage"],
            json!({"prompt_tokens": 13, "completion_tokens": 4, "total_tokens": 17,
                   "prompt_tokens_details": {"cached_tokens": 6, "cache_creation_tokens": 4},
                   "cache_creation_input_tokens": 4, "cache_read_input_tokens": 6})
        );
        for cut in 0..=bytes.len() {
            assert_eq!(decode(&[&bytes[..cut], &bytes[cut..]]), whole, "{}", cut);
        }
    }

    #[test]
    fn tool_call_fragments_get_every_key_and_nothing_empty_goes_out() {
        let mut bytes = Vec::new();
        for (kind, payload) in [
            ("messageStart", json!({"role": "assistant"})),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": ""}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 0})),
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t1", "name": "weather"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"city\":"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "\"Rome\"}"}}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 1})),
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "t2", "name": "time"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 2, "delta": {"toolUse": {"input": "{}"}}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 2})),
            ("messageStop", json!({"stopReason": "tool_use"})),
            (
                "metadata",
                json!({"usage": {"inputTokens": 1, "outputTokens": 2}}),
            ),
        ] {
            bytes.extend(event(kind, &payload.to_string()));
        }
        let (chunks, error) = testing::read_stream(&context(), &bytes);
        assert_eq!(error, Value::Null);
        let fragments = testing::assert_litellm_shaped(&chunks);
        let later = |index: u64, arguments: &str| json!({"index": index, "id": null, "type": "function", "function": {"name": null, "arguments": arguments}});
        assert_eq!(
            fragments,
            [
                json!({"index": 0, "id": "t1", "type": "function", "function": {"name": "weather", "arguments": ""}}),
                later(0, "{\"city\":"),
                later(0, "\"Rome\"}"),
                json!({"index": 1, "id": "t2", "type": "function", "function": {"name": "time", "arguments": ""}}),
                later(1, "{}"),
            ]
        );
        // The role, five fragments, the finish, the usage: no chunk for the empty text.
        assert_eq!(chunks.len(), 8);
    }

    #[test]
    fn bytes_after_the_final_metadata_are_ignored() {
        let whole = decode(&[&stream_bytes()]);
        for after in [
            &b"garbage that is no frame"[..],
            &[0xff; 64][..],
            &stream_bytes()[..],
        ] {
            let mut bytes = stream_bytes();
            bytes.extend_from_slice(after);
            let context = serde_json::to_string(&context()).unwrap();
            let mut stream = crate::open_stream(context.as_bytes()).unwrap();
            let batch: Value = serde_json::from_str(&stream.feed(&bytes)).unwrap();
            assert!(batch.get("error").is_none(), "{}", batch);
            assert_eq!(batch["done"], true);
            assert_eq!(batch["chunks"], whole);
            let more: Value = serde_json::from_str(&stream.feed(b"more")).unwrap();
            assert_eq!(more, json!({"chunks": [], "done": true}));
        }
    }

    #[test]
    fn an_exception_mid_stream_follows_the_chunks_before_it() {
        let mut bytes = event("messageStart", r#"{"role":"assistant"}"#);
        bytes.extend(frame(
            &[
                (":message-type", "exception"),
                (":exception-type", "modelStreamErrorException"),
            ],
            br#"{"message":"the model failed"}"#,
        ));
        let context = serde_json::to_string(&context()).unwrap();
        let mut stream = crate::open_stream(context.as_bytes()).unwrap();
        let batch: Value = serde_json::from_str(&stream.feed(&bytes)).unwrap();
        assert_eq!(batch["chunks"].as_array().unwrap().len(), 1);
        assert_eq!(batch["error"]["status"], 424);
        assert_eq!(batch["error"]["message"], "the model failed");
    }

    #[test]
    fn parameters_converse_has_no_place_for_are_refused_as_elsewhere() {
        let user = json!([{"role": "user", "content": "x"}]);
        let error = build_request(
            call(user.clone(), json!({"seed": 1, "logit_bias": {}})),
            &mut context(),
        )
        .unwrap_err();
        assert!(
            error
                .message
                .contains("bedrock/ does not support the parameters seed, logit_bias"),
            "{}",
            error.message
        );
        let dropped = Call {
            drop_params: true,
            ..call(user, json!({"seed": 1, "temperature": 0.5}))
        };
        let (_, sent) = body(dropped);
        assert!(sent.get("additionalModelRequestFields").is_none());
        assert_eq!(sent["inferenceConfig"], json!({"temperature": 0.5}));
    }

    #[test]
    fn answer_ids_derive_from_the_calls_nonce() {
        let answer = json!({"output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
            "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1}});
        let id = |context: &Context| {
            let parsed: Value = serde_json::from_str(
                &parse_response(context, 200, answer.to_string().as_bytes()).unwrap(),
            )
            .unwrap();
            parsed["id"].clone()
        };
        let mut with_nonce = context();
        with_nonce.nonce = "0123456789abcdef".into();
        assert_eq!(id(&with_nonce), "chatcmpl-0123456789abcdef");
        assert_eq!(id(&context()), ANSWER_ID);
        let context = serde_json::to_string(&with_nonce).unwrap();
        let mut stream = crate::open_stream(context.as_bytes()).unwrap();
        let batch: Value =
            serde_json::from_str(&stream.feed(&event("messageStart", r#"{"role":"assistant"}"#)))
                .unwrap();
        assert_eq!(batch["chunks"][0]["id"], "chatcmpl-0123456789abcdef");
    }

    fn embedding_body(
        model: &str,
        input: Value,
        params: Value,
    ) -> Result<(HttpRequest, Value), CoreError> {
        let mut call = testing::embedding("bedrock", model, input, params);
        call.env.insert("AWS_REGION".into(), "us-east-1".into());
        call.base_url = "https://bedrock-runtime.us-east-1.amazonaws.com".into();
        let mut context = testing::embedding_context("bedrock", model, 0);
        let request = build_embedding(call, &mut context)?;
        let body = serde_json::from_slice(&request.body).unwrap();
        Ok((request, body))
    }

    #[test]
    fn titan_embeds_one_text_per_request_with_its_dimensions() {
        let (request, body) = embedding_body(
            "amazon.titan-embed-text-v2:0",
            json!(["a", "b", "c"]),
            json!({"dimensions": 512, "normalize": true}),
        )
        .unwrap();
        assert_eq!(
            request.url,
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke"
        );
        assert_eq!(
            body,
            json!({"inputText": "a", "normalize": true, "dimensions": 512})
        );
        assert_eq!((request.inputs, request.max_inputs), (Some(1), Some(1)));
        let error = embedding_body(
            "amazon.titan-embed-text-v2:0",
            json!("a"),
            json!({"dimensions": 2048}),
        )
        .unwrap_err();
        assert!(
            error
                .message
                .contains("gives [256, 512, 1024] only, not 2048"),
            "{}",
            error.message
        );
        let error = embedding_body(
            "amazon.titan-embed-text-v1",
            json!("a"),
            json!({"dimensions": 256}),
        )
        .unwrap_err();
        assert!(error.message.contains("cannot shorten its vectors"));
        let error = embedding_body(
            "amazon.titan-embed-text-v2:0",
            json!("a"),
            json!({"user": "u"}),
        )
        .unwrap_err();
        assert!(error
            .message
            .contains("does not support the parameter user"));
        let error = embedding_body("meta.llama3-8b", json!("a"), json!({})).unwrap_err();
        assert!(error.message.contains("is neither"));
    }

    #[test]
    fn cohere_embeds_up_to_96_texts_with_an_input_type() {
        let many: Vec<String> = (0..100).map(|i| format!("t{}", i)).collect();
        let (request, body) =
            embedding_body("cohere.embed-english-v3", json!(many), json!({})).unwrap();
        assert_eq!((request.inputs, request.max_inputs), (Some(96), Some(96)));
        assert_eq!(body["input_type"], "search_document");
        assert_eq!(body["texts"].as_array().unwrap().len(), 96);
        assert!(request
            .url
            .ends_with("/model/cohere.embed-english-v3/invoke"));
        let (_, body) = embedding_body(
            "us.cohere.embed-v4:0",
            json!("q"),
            json!({"input_type": "query", "dimensions": 1024, "truncate": "RIGHT"}),
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"texts": ["q"], "input_type": "search_query", "truncate": "RIGHT", "output_dimension": 1024})
        );
        let error = embedding_body(
            "cohere.embed-multilingual-v3",
            json!("a"),
            json!({"dimensions": 256}),
        )
        .unwrap_err();
        assert!(error.message.contains("cannot shorten"));
        let error =
            embedding_body("cohere.embed-english-v3", json!([[1, 2]]), json!({})).unwrap_err();
        assert!(error.message.contains("bedrock/ takes text input only"));
    }

    #[test]
    fn titan_and_cohere_answers_are_read() {
        let read = |model: &str, inputs: usize, answer: Value| {
            let context = testing::embedding_context("bedrock", model, inputs);
            parse_embeddings(&context, 200, answer.to_string().as_bytes())
                .map(|text| serde_json::from_str::<Value>(&text).unwrap())
        };
        let titan = read(
            "amazon.titan-embed-text-v2:0",
            1,
            json!({"embedding": [0.5, -0.25], "inputTextTokenCount": 3, "embeddingsByType": {"float": [0.5, -0.25]}}),
        )
        .unwrap();
        assert_eq!(titan["data"][0]["embedding"], json!([0.5, -0.25]));
        assert_eq!(titan["model"], "amazon.titan-embed-text-v2:0");
        assert_eq!(
            titan["usage"],
            json!({"prompt_tokens": 3, "total_tokens": 3})
        );
        let floats = json!({"id": "x", "embeddings": [[1, 2], [3, 4]], "response_type": "embeddings_floats", "texts": ["a", "b"]});
        let by_type = json!({"id": "x", "embeddings": {"float": [[1, 2], [3, 4]]}, "response_type": "embeddings_by_type", "meta": {"billed_units": {"input_tokens": 4}}});
        for (answer, tokens) in [(floats, 0), (by_type, 4)] {
            let read = read("cohere.embed-v4:0", 2, answer).unwrap();
            assert_eq!(read["data"][1]["embedding"], json!([3, 4]));
            assert_eq!(read["usage"]["total_tokens"], tokens);
        }
        let error = read(
            "cohere.embed-v4:0",
            2,
            json!({"embeddings": {"int8": [[1]]}}),
        )
        .unwrap_err();
        assert!(error.message.contains("no float embeddings"));
        let context = testing::embedding_context("bedrock", "cohere.embed-v4:0", 1);
        let error = parse_embeddings(&context, 400, br#"{"message": "Malformed input request"}"#)
            .unwrap_err();
        assert_eq!(
            (error.status, error.message.as_str()),
            (Some(400), "Malformed input request")
        );
    }
}
