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
pub mod bedrock;
pub mod gemini;
pub mod mock;
pub mod openai;
pub mod raw_sse;
pub mod shared;
pub mod vertex;

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
    /// AWS Bedrock's Converse API, translated both ways; streams in AWS's event-stream framing.
    Bedrock,
    /// Google Vertex AI: Gemini or Claude, each in its own protocol (see `vertex.rs`). Only a
    /// provider's protocol: a call's context names the model's.
    #[serde(rename = "vertex_ai")]
    Vertex,
    /// Not a provider: server-sent events handed to the host as `{event, data, id}` objects.
    RawSse,
    /// Not a provider: AWS event-stream messages handed to the host the same way.
    RawEventStream,
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

/// `value` as one path segment: everything but RFC 3986's unreserved characters
/// percent-encoded, so a `/` or `:` in a model id or account id cannot change the path.
pub fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{:02X}", byte));
        }
    }
    out
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
    openai_compatible(
        "llamafile",
        Some("http://localhost:8080/v1"),
        &["LLAMAFILE_API_BASE"],
        "/v1",
        bearer("LLAMAFILE_API_KEY", false),
    ),
    // Hugging Face's Inference Providers router.
    openai_compatible(
        "huggingface",
        Some("https://router.huggingface.co/v1"),
        &["HUGGINGFACE_API_BASE"],
        "/v1",
        bearer("HF_TOKEN", true),
    ),
    openai_compatible(
        "nvidia_nim",
        Some("https://integrate.api.nvidia.com/v1"),
        &["NVIDIA_NIM_API_BASE"],
        "/v1",
        bearer("NVIDIA_NIM_API_KEY", true),
    ),
    openai_compatible(
        "sambanova",
        Some("https://api.sambanova.ai/v1"),
        &["SAMBANOVA_API_BASE"],
        "/v1",
        bearer("SAMBANOVA_API_KEY", true),
    ),
    // Nebius AI Studio, now Nebius Token Factory.
    openai_compatible(
        "nebius",
        Some("https://api.tokenfactory.nebius.com/v1"),
        &["NEBIUS_API_BASE"],
        "/v1",
        bearer("NEBIUS_API_KEY", true),
    ),
    openai_compatible(
        "novita",
        Some("https://api.novita.ai/v3/openai"),
        &["NOVITA_API_BASE"],
        "/v3/openai",
        bearer("NOVITA_API_KEY", true),
    ),
    openai_compatible(
        "moonshot",
        Some("https://api.moonshot.ai/v1"),
        &["MOONSHOT_API_BASE"],
        "/v1",
        bearer("MOONSHOT_API_KEY", true),
    ),
    // Alibaba Cloud Model Studio (Qwen), international endpoint.
    openai_compatible(
        "dashscope",
        Some("https://dashscope-intl.aliyuncs.com/compatible-mode/v1"),
        &["DASHSCOPE_API_BASE"],
        "/compatible-mode/v1",
        bearer("DASHSCOPE_API_KEY", true),
    ),
    // GitHub Models; a GitHub token with the models scope is the key.
    openai_compatible(
        "github",
        Some("https://models.github.ai/inference"),
        &["GITHUB_API_BASE"],
        "/inference",
        bearer("GITHUB_TOKEN", true),
    ),
    openai_compatible(
        "hyperbolic",
        Some("https://api.hyperbolic.xyz/v1"),
        &["HYPERBOLIC_API_BASE"],
        "/v1",
        bearer("HYPERBOLIC_API_KEY", true),
    ),
    openai_compatible(
        "lambda_ai",
        Some("https://api.lambda.ai/v1"),
        &["LAMBDA_API_BASE"],
        "/v1",
        bearer("LAMBDA_API_KEY", true),
    ),
    openai_compatible(
        "featherless_ai",
        Some("https://api.featherless.ai/v1"),
        &["FEATHERLESS_API_BASE"],
        "/v1",
        bearer("FEATHERLESS_API_KEY", true),
    ),
    // Cohere's OpenAI compatibility endpoint.
    openai_compatible(
        "cohere",
        Some("https://api.cohere.ai/compatibility/v1"),
        &["COHERE_API_BASE"],
        "/compatibility/v1",
        bearer("COHERE_API_KEY", true),
    ),
    // A workspace's serving endpoints: https://<workspace>/serving-endpoints.
    openai_compatible(
        "databricks",
        None,
        &["DATABRICKS_API_BASE"],
        "/serving-endpoints",
        bearer("DATABRICKS_API_KEY", true),
    ),
    // Workers AI; the URL holds the account id.
    Provider {
        prefix: "cloudflare",
        protocol: Protocol::OpenAi,
        base_url: Some(
            "https://api.cloudflare.com/client/v4/accounts/{CLOUDFLARE_ACCOUNT_ID}/ai/v1",
        ),
        base_url_env: &["CLOUDFLARE_API_BASE"],
        root_path: "",
        extra_env: &["CLOUDFLARE_ACCOUNT_ID"],
        auth: bearer("CLOUDFLARE_API_KEY", true),
    },
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
    // Converse, signed by the host with the caller's AWS credentials (SigV4), or a Bedrock API
    // key sent as a bearer token. The host fills AWS_REGION from aws_region_name=,
    // AWS_REGION, AWS_DEFAULT_REGION or the profile, and signs for it.
    Provider {
        prefix: "bedrock",
        protocol: Protocol::Bedrock,
        base_url: Some("https://bedrock-runtime.{AWS_REGION}.amazonaws.com"),
        base_url_env: &["AWS_BEDROCK_RUNTIME_ENDPOINT"],
        root_path: "",
        extra_env: &["AWS_REGION"],
        auth: bearer("AWS_BEARER_TOKEN_BEDROCK", false),
    },
    // Gemini and Claude on Google Cloud; the host finds the OAuth2 token (api_key=,
    // VERTEXAI_ACCESS_TOKEN, or google-auth's application default credentials) and fills the
    // project and location from vertex_project= / vertex_location= or the environment.
    Provider {
        prefix: "vertex_ai",
        protocol: Protocol::Vertex,
        base_url: Some(vertex::GLOBAL_HOST),
        base_url_env: &["VERTEXAI_API_BASE"],
        root_path: "",
        extra_env: &["VERTEXAI_PROJECT", "VERTEXAI_LOCATION"],
        auth: bearer("VERTEXAI_ACCESS_TOKEN", false),
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
        Protocol::Bedrock => bedrock::build_request(call, context),
        Protocol::Vertex => vertex::build_request(call, context),
        Protocol::RawSse | Protocol::RawEventStream => Err(CoreError::invalid_request(
            "raw_sse and raw_event_stream are stream decoders, not providers",
        )),
    }
}

/// Translates a complete (non-streamed) answer into a chat.completion, as JSON text.
pub fn parse_response(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    match context.protocol {
        Protocol::OpenAi | Protocol::Azure => openai::parse_response(context, status, body),
        Protocol::Anthropic => anthropic::parse_response(context, status, body),
        Protocol::Gemini => gemini::parse_response(context, status, body),
        Protocol::Bedrock => bedrock::parse_response(context, status, body),
        Protocol::RawSse | Protocol::RawEventStream | Protocol::Vertex => Err(
            CoreError::invalid_request("this context names no protocol that reads answers"),
        ),
    }
}

pub fn stream_translator(context: &Context) -> Box<dyn Translate> {
    match context.protocol {
        Protocol::OpenAi | Protocol::Azure => Box::new(openai::StreamTranslator {
            max_depth: context.limits.max_depth,
        }),
        Protocol::Anthropic => Box::new(anthropic::StreamTranslator::new(context)),
        Protocol::Gemini => Box::new(gemini::StreamTranslator::new(context)),
        Protocol::Bedrock => Box::new(bedrock::StreamTranslator::new(context)),
        Protocol::RawSse | Protocol::RawEventStream | Protocol::Vertex => {
            Box::new(raw_sse::StreamTranslator)
        }
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
