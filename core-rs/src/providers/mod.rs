//! The provider table, and dispatch from a provider's wire protocol to its translation module.
//!
//! Adding a provider that speaks a known protocol is one row in [`PROVIDERS`]; adding a
//! protocol is one file in this folder plus its arms in the `match`es on [`Protocol`].

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::stream::Translate;
use crate::{Call, Context, HttpRequest};

pub mod anthropic;
pub mod azure;
pub mod gemini;
pub mod mock;
pub mod openai;
pub mod raw_sse;
pub mod shared;

/// The wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// OpenAI chat completions, passed through as sent.
    #[serde(rename = "openai")]
    OpenAi,
    /// OpenAI chat completions at an Azure deployment URL.
    Azure,
    /// Anthropic's Messages API, translated both ways.
    Anthropic,
    /// Google's Generative Language API, translated both ways.
    Gemini,
    /// Not a provider: server-sent events handed to the host as `{event, data, id}` objects.
    RawSse,
}

/// How the host sends the key. The core never sees the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Auth {
    /// The environment variable the key is read from when the caller passes none.
    pub env: &'static str,
    /// False for local servers, which take a key when one is set but work without.
    pub required: bool,
    pub header: &'static str,
    /// Written before the key in the header value.
    pub prefix: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Provider {
    pub prefix: &'static str,
    pub protocol: Protocol,
    /// `None` where the caller must say where the server is.
    pub base_url: Option<&'static str>,
    /// Environment variables that override `base_url`, the first one set winning (the
    /// caller's `base_url` wins over all): the names the provider's own SDK and LiteLLM read.
    pub base_url_env: &'static [&'static str],
    /// The API's path under a server's root (`/v1`), added to a base URL given as a bare root
    /// (`http://host:4000`), as SDKs take it.
    pub root_path: &'static str,
    /// Other environment variables the protocol module reads (never keys).
    pub extra_env: &'static [&'static str],
    pub auth: Option<Auth>,
}

const fn bearer(env: &'static str, required: bool) -> Option<Auth> {
    Some(Auth {
        env,
        required,
        header: "authorization",
        prefix: "Bearer ",
    })
}

const fn openai_compatible(
    prefix: &'static str,
    base_url: Option<&'static str>,
    base_url_env: &'static [&'static str],
    root_path: &'static str,
    auth: Option<Auth>,
) -> Provider {
    Provider {
        prefix,
        protocol: Protocol::OpenAi,
        base_url,
        base_url_env,
        root_path,
        extra_env: &[],
        auth,
    }
}

const fn key_header(env: &'static str, header: &'static str) -> Option<Auth> {
    Some(Auth {
        env,
        required: true,
        header,
        prefix: "",
    })
}

/// Every provider ritellm speaks to, by model prefix.
pub const PROVIDERS: &[Provider] = &[
    openai_compatible(
        "openai",
        Some("https://api.openai.com/v1"),
        &["OPENAI_BASE_URL", "OPENAI_API_BASE"],
        "/v1",
        bearer("OPENAI_API_KEY", true),
    ),
    openai_compatible(
        "groq",
        Some("https://api.groq.com/openai/v1"),
        &["GROQ_API_BASE"],
        "/openai/v1",
        bearer("GROQ_API_KEY", true),
    ),
    openai_compatible(
        "mistral",
        Some("https://api.mistral.ai/v1"),
        &["MISTRAL_API_BASE"],
        "/v1",
        bearer("MISTRAL_API_KEY", true),
    ),
    openai_compatible(
        "deepseek",
        Some("https://api.deepseek.com/v1"),
        &["DEEPSEEK_API_BASE"],
        "/v1",
        bearer("DEEPSEEK_API_KEY", true),
    ),
    openai_compatible(
        "xai",
        Some("https://api.x.ai/v1"),
        &["XAI_API_BASE"],
        "/v1",
        bearer("XAI_API_KEY", true),
    ),
    openai_compatible(
        "openrouter",
        Some("https://openrouter.ai/api/v1"),
        &["OPENROUTER_API_BASE"],
        "/api/v1",
        bearer("OPENROUTER_API_KEY", true),
    ),
    openai_compatible(
        "together_ai",
        Some("https://api.together.xyz/v1"),
        &["TOGETHER_API_BASE", "TOGETHERAI_API_BASE"],
        "/v1",
        bearer("TOGETHER_API_KEY", true),
    ),
    openai_compatible(
        "fireworks_ai",
        Some("https://api.fireworks.ai/inference/v1"),
        &["FIREWORKS_API_BASE", "FIREWORKS_AI_API_BASE"],
        "/inference/v1",
        bearer("FIREWORKS_API_KEY", true),
    ),
    openai_compatible(
        "cerebras",
        Some("https://api.cerebras.ai/v1"),
        &["CEREBRAS_API_BASE"],
        "/v1",
        bearer("CEREBRAS_API_KEY", true),
    ),
    openai_compatible(
        "perplexity",
        Some("https://api.perplexity.ai"),
        &["PERPLEXITY_API_BASE"],
        "",
        bearer("PERPLEXITY_API_KEY", true),
    ),
    openai_compatible(
        "deepinfra",
        Some("https://api.deepinfra.com/v1/openai"),
        &["DEEPINFRA_API_BASE"],
        "/v1/openai",
        bearer("DEEPINFRA_API_KEY", true),
    ),
    openai_compatible(
        "ollama",
        Some("http://localhost:11434/v1"),
        &["OLLAMA_API_BASE", "OLLAMA_HOST"],
        "/v1",
        bearer("OLLAMA_API_KEY", false),
    ),
    openai_compatible(
        "lm_studio",
        Some("http://localhost:1234/v1"),
        &["LM_STUDIO_API_BASE"],
        "/v1",
        bearer("LM_STUDIO_API_KEY", false),
    ),
    openai_compatible(
        "hosted_vllm",
        None,
        &["HOSTED_VLLM_API_BASE"],
        "/v1",
        bearer("HOSTED_VLLM_API_KEY", false),
    ),
    Provider {
        prefix: "anthropic",
        protocol: Protocol::Anthropic,
        base_url: Some("https://api.anthropic.com/v1"),
        base_url_env: &["ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE"],
        root_path: "/v1",
        extra_env: &[],
        auth: key_header("ANTHROPIC_API_KEY", "x-api-key"),
    },
    Provider {
        prefix: "gemini",
        protocol: Protocol::Gemini,
        base_url: Some("https://generativelanguage.googleapis.com/v1beta"),
        base_url_env: &["GEMINI_API_BASE"],
        root_path: "/v1beta",
        extra_env: &[],
        auth: key_header("GEMINI_API_KEY", "x-goog-api-key"),
    },
    Provider {
        prefix: "azure",
        protocol: Protocol::Azure,
        base_url: None,
        base_url_env: &["AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"],
        root_path: "",
        extra_env: &["AZURE_API_VERSION"],
        auth: key_header("AZURE_API_KEY", "api-key"),
    },
    // Answered in-process by the host through `mock::reply`; no network, no key.
    openai_compatible("mock", Some("mock://ritellm/v1"), &[], "", None),
];

pub fn lookup(prefix: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.prefix == prefix)
}

pub fn prefixes() -> Vec<&'static str> {
    PROVIDERS.iter().map(|p| p.prefix).collect()
}

/// Joins an API base and an endpoint path. A base that already ends in the path is used as
/// it is, so older configurations that spelled out the full URL keep working.
pub fn endpoint(base: &str, path: &str) -> String {
    let (base, query) = split_query(base);
    let base = base.trim_end_matches('/');
    let url = if base.ends_with(path) {
        base.to_string()
    } else {
        format!("{}{}", base, path)
    };
    join_query(url, query)
}

/// A base URL without its query, and the query (`tenant=a`), which goes after the path a
/// protocol adds to the base.
pub fn split_query(base: &str) -> (&str, &str) {
    match base.split_once('?') {
        Some((base, query)) => (base, query),
        None => (base, ""),
    }
}

/// `url` with `query` added to whatever query it already has.
pub fn join_query(url: String, query: &str) -> String {
    match (query.is_empty(), url.contains('?')) {
        (true, _) => url,
        (false, true) => format!("{}&{}", url, query),
        (false, false) => format!("{}?{}", url, query),
    }
}

pub fn build_request(call: Call, context: &mut Context) -> Result<HttpRequest, CoreError> {
    match call.provider.protocol {
        Protocol::OpenAi => openai::build_request(call),
        Protocol::Azure => azure::build_request(call),
        Protocol::Anthropic => anthropic::build_request(call, context),
        Protocol::Gemini => gemini::build_request(call),
        Protocol::RawSse => Err(CoreError::invalid_request(
            "raw_sse is a stream decoder, not a provider",
        )),
    }
}

/// Translates a complete (non-streamed) answer into a chat.completion, as JSON text.
pub fn parse_response(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    match context.protocol {
        Protocol::OpenAi | Protocol::Azure => openai::parse_response(context, status, body),
        Protocol::Anthropic => anthropic::parse_response(context, status, body),
        Protocol::Gemini => gemini::parse_response(context, status, body),
        Protocol::RawSse => Err(CoreError::invalid_request(
            "raw_sse has no non-streamed answers",
        )),
    }
}

pub fn stream_translator(context: &Context) -> Box<dyn Translate> {
    match context.protocol {
        Protocol::OpenAi | Protocol::Azure => Box::new(openai::StreamTranslator {
            max_depth: context.limits.max_depth,
        }),
        Protocol::Anthropic => Box::new(anthropic::StreamTranslator::new(context)),
        Protocol::Gemini => Box::new(gemini::StreamTranslator::new(context)),
        Protocol::RawSse => Box::new(raw_sse::StreamTranslator),
    }
}

/// Calls and contexts for the protocol modules' tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;

    use serde_json::{Map, Value};

    use super::lookup;
    use crate::{Call, Context, Limits};

    /// A non-streamed call to `prefix/model` at the provider's default base URL.
    pub fn call(prefix: &str, model: &str, messages: Value, params: Value) -> Call {
        let provider = lookup(prefix).unwrap();
        Call {
            provider,
            model: model.into(),
            messages,
            stream: false,
            base_url: provider
                .base_url
                .unwrap_or("https://example.invalid")
                .into(),
            params: params.as_object().cloned().unwrap_or_default(),
            additional_params: Map::new(),
            env: BTreeMap::new(),
            api_version: None,
            drop_params: false,
        }
    }

    /// The context of such a call, created at a fixed time, asking for a usage chunk.
    pub fn context(prefix: &str, model: &str) -> Context {
        Context {
            protocol: lookup(prefix).unwrap().protocol,
            provider: prefix.into(),
            model: model.into(),
            created: 1700000000,
            include_usage: true,
            json_tool: None,
            limits: Limits::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_unique_lowercase_and_urls_are_bases() {
        let mut seen = std::collections::BTreeSet::new();
        for provider in PROVIDERS {
            assert!(seen.insert(provider.prefix), "{} twice", provider.prefix);
            assert_eq!(provider.prefix, provider.prefix.to_ascii_lowercase());
            if let Some(url) = provider.base_url {
                assert!(!url.ends_with('/'), "{}", url);
                assert!(!url.ends_with("/chat/completions"), "{}", url);
            }
        }
    }

    #[test]
    fn hosted_providers_require_their_conventional_key() {
        let openai = lookup("openai").unwrap().auth.unwrap();
        assert_eq!((openai.env, openai.required), ("OPENAI_API_KEY", true));
        assert!(!lookup("ollama").unwrap().auth.unwrap().required);
        assert!(lookup("mock").unwrap().auth.is_none());
        assert!(lookup("nope").is_none());
    }

    #[test]
    fn endpoint_appends_once() {
        let path = "/chat/completions";
        assert_eq!(
            endpoint("https://x/v1?tenant=a", path),
            "https://x/v1/chat/completions?tenant=a"
        );
        assert_eq!(
            endpoint("https://x/v1/chat/completions/?tenant=a", path),
            "https://x/v1/chat/completions?tenant=a"
        );
        assert_eq!(
            endpoint("https://x/v1", path),
            "https://x/v1/chat/completions"
        );
        assert_eq!(
            endpoint("https://x/v1/", path),
            "https://x/v1/chat/completions"
        );
        assert_eq!(
            endpoint("https://x/v1/chat/completions", path),
            "https://x/v1/chat/completions"
        );
    }
}
