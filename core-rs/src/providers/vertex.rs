//! Google Vertex AI: Gemini models (`publishers/google`) through the Gemini translation, and
//! Anthropic's Claude (`publishers/anthropic`, `rawPredict`) through the Anthropic one. Only
//! the URL, and for Claude the body's version field, differ. Which of the two a model is, the
//! provider row says (its `readers_by_model`): the call's reader, whose answers are the
//! model's own API's.
//!
//! https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest and
//! https://docs.anthropic.com/en/api/claude-on-vertex-ai

use serde_json::json;

use super::url::{model_segment, setting};
use super::{anthropic, gemini};
use crate::call::{Call, Context, HttpRequest, Reader};
use crate::error::CoreError;

/// The global endpoint's host, also the provider's default base URL: a regional location gets
/// its regional host instead (`us-central1-aiplatform.googleapis.com`).
pub const GLOBAL_HOST: &str = "https://aiplatform.googleapis.com";
pub const DEFAULT_LOCATION: &str = "us-central1";
/// The Messages API version Claude on Vertex takes, in the body instead of a header.
const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

pub fn build_request(mut call: Call, context: &mut Context) -> Result<HttpRequest, CoreError> {
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
    let publishers = format!(
        "{}/v1/projects/{}/locations/{}/publishers",
        host, project, location
    );
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

/// Embeddings: not yet.
pub fn build_embedding(call: Call) -> Result<HttpRequest, CoreError> {
    Err(CoreError::invalid_request(format!(
        "{}/ embeddings: not yet",
        call.provider
    )))
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
}
