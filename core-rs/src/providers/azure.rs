//! Azure OpenAI: OpenAI chat completions at a deployment URL, with an `api-version` query and
//! an `api-key` header. Answers and chunks are OpenAI's, read by `openai.rs`.

use crate::error::CoreError;
use crate::providers::{join_query, openai, split_query};
use crate::{Call, HttpRequest};

/// The newest generally available data-plane API version when this was written.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

pub fn build_request(call: Call) -> Result<HttpRequest, CoreError> {
    let version = call
        .api_version
        .clone()
        .or_else(|| call.env.get("AZURE_API_VERSION").cloned())
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    if version.is_empty()
        || !version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(CoreError::invalid_request(format!(
            "api_version {:?} is not an API version like {:?}",
            version, DEFAULT_API_VERSION
        )));
    }
    let (base, query) = split_query(&call.base_url);
    let base = base.trim_end_matches('/');
    let url = if base.ends_with("/chat/completions") {
        base.to_string()
    } else {
        let resource = base.strip_suffix("/openai").unwrap_or(base);
        format!(
            "{}/openai/deployments/{}/chat/completions",
            resource, call.model
        )
    };
    let url = join_query(format!("{}?api-version={}", url, version), query);
    let stream = call.stream;
    Ok(HttpRequest::post_json(url, &openai::body(call), stream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing;
    use serde_json::json;

    fn call(base: &str, api_version: Option<&str>, env_version: Option<&str>) -> Call {
        let mut call = testing::call(
            "azure",
            "my-gpt4o",
            json!([{"role": "user", "content": "hi"}]),
            json!({}),
        );
        call.base_url = base.into();
        call.api_version = api_version.map(str::to_string);
        if let Some(version) = env_version {
            call.env
                .insert("AZURE_API_VERSION".to_string(), version.to_string());
        }
        call
    }

    #[test]
    fn deployment_urls_and_versions() {
        let url = |c| build_request(c).unwrap().url;
        assert_eq!(
            url(call("https://r.openai.azure.com/", None, None)),
            "https://r.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(
            url(call("https://r.openai.azure.com/openai", Some("2025-01-01-preview"), Some("2024-06-01"))),
            "https://r.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2025-01-01-preview"
        );
        assert_eq!(
            url(call("https://r.openai.azure.com", None, Some("2024-06-01"))),
            "https://r.openai.azure.com/openai/deployments/my-gpt4o/chat/completions?api-version=2024-06-01"
        );
        assert!(build_request(call("https://r", Some("x&y=1"), None)).is_err());
    }
}
