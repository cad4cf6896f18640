//! Google Vertex AI: Gemini models (`publishers/google`) through the Gemini translation, and
//! Anthropic's Claude (`publishers/anthropic`, `rawPredict`) through the Anthropic one. Only
//! the URL, and for Claude the body's version field, differ. Which of the two a model is, the
//! provider row says (its `readers_by_model`): the call's reader, whose answers are the
//! model's own API's.
//!
//! Token counts: a Gemini model's `countTokens`, of the `generateContent` body's `contents`,
//! `systemInstruction`, `tools` and `generationConfig`; Claude's at the one
//! `publishers/anthropic/models/count-tokens:rawPredict`, the Anthropic body naming the model
//! (https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/count-tokens and
//! .../partner-models/claude/count-tokens). Their answers are Gemini's and Anthropic's.
//!
//! Embeddings: `predict` for Google's embedding models (`text-embedding-*`,
//! `text-multilingual-embedding-*`, `gemini-embedding-*`), read by the Gemini reader.
//!
//! https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest and
//! https://docs.anthropic.com/en/api/claude-on-vertex-ai

use serde_json::{json, Map, Value};

use super::shared::Params;
use super::url::{model_segment, setting};
use super::{anthropic, count, gemini, vectors};
use crate::call::{Call, Context, HttpRequest, Reader};
use crate::error::CoreError;

/// The global endpoint's host, also the provider's default base URL: a regional location gets
/// its regional host instead (`us-central1-aiplatform.googleapis.com`).
pub const GLOBAL_HOST: &str = "https://aiplatform.googleapis.com";
pub const DEFAULT_LOCATION: &str = "us-central1";
/// The Messages API version Claude on Vertex takes, in the body instead of a header.
const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// The most inputs one `predict` call takes: 250 texts, but gemini-embedding models one each.
fn max_inputs(model: &str) -> usize {
    if model.starts_with("gemini-embedding") {
        1
    } else {
        250
    }
}

pub fn build_request(mut call: Call, context: &mut Context) -> Result<HttpRequest, CoreError> {
    let publishers = publishers(&call)?;
    if call.reader != Reader::Anthropic {
        call.base_url = format!("{}/google", publishers);
        return gemini::build_request(call);
    }
    let action = if call.stream {
        "streamRawPredict"
    } else {
        "rawPredict"
    };
    // The model id as Anthropic's Vertex client sends it: `claude-3-5-sonnet@20240620`.
    let url = format!(
        "{}/anthropic/models/{}:{}",
        publishers,
        model_segment(&call.model)?,
        action
    );
    let stream = call.stream;
    let mut body = anthropic::build_body(call, context)?;
    body.remove("model"); // the URL names it
    body.insert("anthropic_version".into(), json!(ANTHROPIC_VERSION));
    Ok(HttpRequest::post_json(url, &body, stream))
}

/// The fields of a `generateContent` body that Vertex AI's `countTokens` takes.
const COUNTED: &[&str] = &["contents", "systemInstruction", "tools", "generationConfig"];

/// A `count_tokens` call: Gemini's `countTokens` on the model, or Claude's `count-tokens`.
pub fn build_count_tokens(mut call: Call, context: &mut Context) -> Result<HttpRequest, CoreError> {
    let publishers = publishers(&call)?;
    if call.reader == Reader::Anthropic {
        let url = format!("{}/anthropic/models/count-tokens:rawPredict", publishers);
        let mut body = anthropic::count_body(call, context)?;
        body.insert("anthropic_version".into(), json!(ANTHROPIC_VERSION));
        return Ok(HttpRequest::post_json(url, &body, false));
    }
    let url = gemini::model_url(
        &format!("{}/google", publishers),
        gemini::model_of(&call),
        "countTokens",
    )?;
    let additional_params = std::mem::take(&mut call.additional_params);
    let body = count::only(gemini::build_body(call)?, COUNTED, additional_params);
    Ok(HttpRequest::post_json(url, &body, false))
}

/// `instances` of `{content, task_type, title}`, `parameters` of `outputDimensionality` and
/// `autoTruncate` (`auto_truncate`, as LiteLLM callers pass it).
pub fn build_embedding(mut call: Call, _context: &mut Context) -> Result<HttpRequest, CoreError> {
    if call.reader == Reader::Anthropic {
        return Err(CoreError::invalid_request(format!(
            "vertex_ai/{} has no embeddings: Vertex AI's embedding models are text-embedding-*, text-multilingual-embedding-* and gemini-embedding-*",
            call.model
        )));
    }
    let url = format!(
        "{}/google/models/{}:predict",
        publishers(&call)?,
        model_segment(&call.model)?
    );
    let max = max_inputs(&call.model);
    let mut params = Params::new(std::mem::take(&mut call.params), call.provider);
    let mut embedding = std::mem::take(&mut call.embedding);
    let inputs = embedding.keep(max);
    let mut fields = gemini::embedding_fields(&mut params, &embedding)?;
    if let Some(kind) = fields.remove("taskType") {
        fields.insert("task_type".into(), kind);
    }
    let mut parameters = Map::new();
    if let Some(dimensions) = embedding.dimensions {
        parameters.insert("outputDimensionality".into(), json!(dimensions));
    }
    if let Some(truncate) = params.take("auto_truncate") {
        parameters.insert("autoTruncate".into(), truncate);
    }
    params.finish(call.drop_params)?;
    let instances: Vec<Value> = vectors::texts(embedding.input, call.provider)?
        .into_iter()
        .map(|text| {
            let mut instance = Map::new();
            instance.insert("content".into(), json!(text));
            instance.extend(fields.clone());
            Value::Object(instance)
        })
        .collect();
    let mut body = Map::new();
    body.insert("instances".into(), Value::Array(instances));
    if !parameters.is_empty() {
        body.insert("parameters".into(), Value::Object(parameters));
    }
    body.extend(call.additional_params);
    Ok(HttpRequest::post_json(url, &body, false).carrying(inputs, max))
}

/// `.../v1/projects/{project}/locations/{location}/publishers` on the location's host.
fn publishers(call: &Call) -> Result<String, CoreError> {
    let value = |name: &str| call.env.get(name).filter(|v| !v.is_empty()).cloned();
    let project = value("VERTEXAI_PROJECT").ok_or_else(|| {
        CoreError::invalid_request(
            "vertex_ai/ needs a project: pass vertex_project= or set VERTEXAI_PROJECT (or GOOGLE_CLOUD_PROJECT)",
        )
    })?;
    let location = value("VERTEXAI_LOCATION").unwrap_or_else(|| DEFAULT_LOCATION.to_string());
    // Checked, not encoded: the location names a host, and both go in the path as Google's
    // clients write them (`example.com:my-project` keeps its `:`).
    let project = setting("VERTEXAI_PROJECT", &project)?;
    let location = setting("VERTEXAI_LOCATION", &location)?;
    let host = if call.base_url == GLOBAL_HOST && location != "global" {
        format!("https://{}-aiplatform.googleapis.com", location)
    } else {
        call.base_url.trim_end_matches('/').to_string()
    };
    Ok(format!(
        "{}/v1/projects/{}/locations/{}/publishers",
        host, project, location
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::Value;

    use super::*;
    use crate::providers::testing;

    fn call(model: &str, stream: bool, env: &[(&str, &str)]) -> Call {
        Call {
            stream,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            ..testing::call(
                "vertex_ai",
                model,
                json!([{"role": "user", "content": "x"}]),
                json!({"max_tokens": 5}),
            )
        }
    }

    #[test]
    fn gemini_models_use_the_regional_host_and_the_gemini_body() {
        let mut context = testing::context("vertex_ai", "gemini-2.5-flash");
        let env = [
            ("VERTEXAI_PROJECT", "my-proj"),
            ("VERTEXAI_LOCATION", "europe-west4"),
        ];
        let request = build_request(call("gemini-2.5-flash", true, &env), &mut context).unwrap();
        assert_eq!(
            request.url,
            "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(context.reader, Reader::Gemini);
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["generationConfig"]["maxOutputTokens"], 5);
    }

    #[test]
    fn claude_uses_raw_predict_with_the_version_in_the_body() {
        let mut context = testing::context("vertex_ai", "claude-sonnet-4-5@20250929");
        let env = [("VERTEXAI_PROJECT", "p"), ("VERTEXAI_LOCATION", "global")];
        let request = build_request(
            call("claude-sonnet-4-5@20250929", false, &env),
            &mut context,
        )
        .unwrap();
        assert_eq!(
            request.url,
            "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
        );
        assert_eq!(context.reader, Reader::Anthropic);
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["anthropic_version"], ANTHROPIC_VERSION);
        assert!(body.get("model").is_none());
        assert_eq!(body["max_tokens"], 5);
        assert!(!request.headers.contains_key("anthropic-version"));
    }

    #[test]
    fn streams_of_either_family_are_shaped_as_litellm_shapes_them() {
        let claude = testing::sse(&[
            json!({"type": "message_start", "message": {"id": "msg_1", "model": "claude"}}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f"}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": ""}}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}}),
            json!({"type": "message_stop"}),
        ]);
        let context = testing::context("vertex_ai", "claude-sonnet-4-5@20250929");
        let (chunks, error) = testing::read_stream(&context, &claude);
        assert_eq!(error, Value::Null);
        let fragments = testing::assert_litellm_shaped(&chunks);
        assert_eq!(
            fragments[1],
            json!({"index": 0, "id": null, "type": "function", "function": {"name": null, "arguments": "{}"}})
        );
        let gemini = testing::sse(&[
            json!({"candidates": [{"content": {"parts": [{"text": ""}]}}]}),
            json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": {}}}]}, "finishReason": "STOP"}]}),
        ]);
        let context = testing::context("vertex_ai", "gemini-2.5-flash");
        let (chunks, error) = testing::read_stream(&context, &gemini);
        assert_eq!(error, Value::Null);
        assert_eq!(testing::assert_litellm_shaped(&chunks).len(), 1);
    }

    #[test]
    fn token_counts_go_to_each_models_counting_endpoint() {
        let env = [("VERTEXAI_PROJECT", "p"), ("VERTEXAI_LOCATION", "us-east5")];
        let mut context = testing::context("vertex_ai", "gemini-2.5-flash");
        let mut counted = call("gemini-2.5-flash", false, &env);
        counted
            .params
            .insert("reasoning_effort".into(), json!("low"));
        let request = build_count_tokens(counted, &mut context).unwrap();
        assert_eq!(
            request.url,
            "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/google/models/gemini-2.5-flash:countTokens"
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}],
                   "generationConfig": {"maxOutputTokens": 5,
                       "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}}})
        );
        let model = "claude-sonnet-4-5@20250929";
        let mut context = testing::context("vertex_ai", model);
        let request = build_count_tokens(call(model, false, &env), &mut context).unwrap();
        assert_eq!(
            request.url,
            "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict"
        );
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({"model": model, "messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
                   "anthropic_version": ANTHROPIC_VERSION})
        );
        assert!(!request.headers.contains_key("anthropic-version"));
    }

    #[test]
    fn a_project_is_required_and_the_location_defaults() {
        let mut context = testing::context("vertex_ai", "gemini-2.5-flash");
        let error = build_request(call("gemini-2.5-flash", false, &[]), &mut context).unwrap_err();
        assert!(error.message.contains("vertex_ai/ needs a project"));
        let request = build_request(
            call("gemini-2.5-flash", false, &[("VERTEXAI_PROJECT", "p")]),
            &mut context,
        )
        .unwrap();
        assert!(request.url.starts_with(
            "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/"
        ));
    }

    #[test]
    fn model_ids_are_sent_as_googles_and_anthropics_clients_send_them() {
        let env = [("VERTEXAI_PROJECT", "p"), ("VERTEXAI_LOCATION", "us-east5")];
        let url = |model: &str| {
            let mut context = testing::context("vertex_ai", model);
            build_request(call(model, false, &env), &mut context)
                .unwrap()
                .url
        };
        assert!(url("claude-3-5-sonnet@20240620")
            .ends_with("/publishers/anthropic/models/claude-3-5-sonnet@20240620:rawPredict"));
        assert!(url("gemini-1.5-pro@002")
            .ends_with("/publishers/google/models/gemini-1.5-pro@002:generateContent"));
        assert!(
            url("claude-x/y?z#w% q").ends_with("/models/claude-x%2Fy%3Fz%23w%25%20q:rawPredict")
        );
    }

    #[test]
    fn embedding_models_are_asked_through_predict() {
        let request = |model: &str, input: Value, params: Value| {
            let mut call = testing::embedding("vertex_ai", model, input, params);
            call.env.insert("VERTEXAI_PROJECT".into(), "p".into());
            let mut context = testing::embedding_context("vertex_ai", model, 0);
            build_embedding(call, &mut context)
        };
        let texts: Vec<String> = (0..300).map(|i| format!("t{}", i)).collect();
        let built = request(
            "text-embedding-005",
            json!(texts),
            json!({"input_type": "document", "dimensions": 256, "auto_truncate": false, "title": "T"}),
        )
        .unwrap();
        assert_eq!(
            built.url,
            "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/text-embedding-005:predict"
        );
        assert_eq!((built.inputs, built.max_inputs), (Some(250), Some(250)));
        let body: Value = serde_json::from_slice(&built.body).unwrap();
        assert_eq!(
            body["instances"][0],
            json!({"content": "t0", "task_type": "RETRIEVAL_DOCUMENT", "title": "T"})
        );
        assert_eq!(body["instances"].as_array().unwrap().len(), 250);
        assert_eq!(
            body["parameters"],
            json!({"outputDimensionality": 256, "autoTruncate": false})
        );
        let one = request("gemini-embedding-001", json!(["a", "b"]), json!({})).unwrap();
        assert_eq!((one.inputs, one.max_inputs), (Some(1), Some(1)));
        let body: Value = serde_json::from_slice(&one.body).unwrap();
        assert_eq!(body, json!({"instances": [{"content": "a"}]}));
        let error = request("claude-sonnet-4-5", json!("a"), json!({})).unwrap_err();
        assert!(error.message.contains("has no embeddings"));
    }
}
