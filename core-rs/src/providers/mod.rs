//! The providers: one table of rows, and the two places where a row's names are turned into
//! work, one where requests are built and one where answers are read.
//!
//! A provider row ([`PROVIDERS`]) names how its requests are built (an [`Api`]) and how its
//! answers are read (a [`Reader`]), beside its base URL, environment variables and key header.
//! The two vary independently: Azure builds its own URLs and reads OpenAI's answers; Vertex AI
//! builds Google's URLs and reads Gemini's or, for Claude, Anthropic's answers.
//!
//! * A provider that speaks a known API is one row in [`PROVIDERS`].
//! * A new API is one file in this folder, plus one variant of [`Api`] and its arm in
//!   [`build_request`], and, if its answers are new too, one variant of [`Reader`] (in
//!   `call.rs`) and its arm in [`reading`]. Nothing else matches on either name.
//! * A new operation (responses, count_tokens) is a variant of `Operation` (in `call.rs`): both
//!   matches take it, so each API and reader says which operations it serves; each row says
//!   which it offers ([`Operations`]), and a call for one it lacks is refused before any I/O.
//!
//! Files: `openai.rs` (OpenAI chat completions, passed through, and embeddings), `azure.rs`,
//! `anthropic.rs`, `gemini.rs`, `bedrock.rs`, `vertex.rs` (one per API, each with its
//! embeddings and token counts where it has them); `blocks.rs` (what Anthropic's and Bedrock's
//! APIs share: turns of content blocks, both ways); `shared.rs` (reading OpenAI-shaped input,
//! writing OpenAI-shaped answers and usage); `vectors.rs` (what embeddings APIs share: rows'
//! endpoints, input types, the answer's checks); `count.rs` (what the token-counting endpoints
//! share: the fields each keeps of its chat body, reading the count); `url.rs`; `raw.rs`
//! (plain decoders for hosts); `mock.rs` (the `mock/` provider's in-process server). The
//! protocol files import only these leaves and the crate's leaf modules, never this file.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::call::{Auth, Call, Context, HttpRequest, Operation, Reader};
use crate::error::{CoreError, ErrorKind};
use crate::translate::{Framing, Translate};
use url::{is_version, join_query, path_of, setting, split_query};
use vectors::{InputTypes, Row};

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub mod blocks;
pub mod chat_via_responses;
pub mod count;
mod floats;
pub mod gemini;
pub mod mock;
pub mod openai;
pub mod raw;
pub mod responses;
pub mod responses_via_chat;
pub mod shared;
#[cfg(test)]
pub(crate) mod testing;
pub mod url;
pub mod vectors;
pub mod vertex;

/// How a provider's requests are built: the API they are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// OpenAI chat completions, assembled from the caller's fields as given.
    #[serde(rename = "openai")]
    OpenAi,
    /// OpenAI chat completions at an Azure deployment URL.
    Azure,
    /// Anthropic's Messages API.
    Anthropic,
    /// Google's Generative Language API.
    Gemini,
    /// AWS Bedrock's Converse API.
    Bedrock,
    /// Google Vertex AI: Gemini's API, or Anthropic's for Claude, at Vertex's URLs.
    #[serde(rename = "vertex_ai")]
    Vertex,
}

/// What a base URL gets before the API's endpoint path, as the provider's own client adds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BasePath {
    /// Added to a base URL that is a bare server root (`http://host:4000` gets `/v1`). OpenAI's
    /// client takes a base with a path as it is, and so do the OpenAI-compatible rows.
    Root(&'static str),
    /// `version` (`/v1`), added to a base whose path does not end in an API version: a proxy's
    /// prefix (`http://host:4000/anthropic`) gets it, `.../v1` and `.../v1beta` keep theirs, and
    /// so does a full URL, a version then `endpoint` (`.../v1/messages`). Anthropic's and
    /// Google's clients add their version to any base.
    Version {
        version: &'static str,
        endpoint: &'static str,
    },
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Provider {
    pub prefix: &'static str,
    /// How requests are built; `describe()` calls it the provider's protocol.
    #[serde(rename = "protocol")]
    pub api: Api,
    /// How answers are read.
    pub reader: Reader,
    /// Models whose answers another reader reads, by the start of their name: Vertex AI serves
    /// Claude (`claude...`) beside Gemini.
    pub readers_by_model: &'static [(&'static str, Reader)],
    /// `None` where the caller must say where the server is.
    pub base_url: Option<&'static str>,
    /// Environment variables that override `base_url`, the first one set winning (the
    /// caller's `base_url` wins over all): the names the provider's own SDK and LiteLLM read.
    pub base_url_env: &'static [&'static str],
    pub base_path: BasePath,
    /// Other environment variables the protocol module reads (never keys).
    pub extra_env: &'static [&'static str],
    pub auth: Option<Auth>,
    /// What the row serves; `describe()` lists the names (`["chat", "embedding"]`).
    pub operations: Operations,
}

/// The operations a row serves. Every row with chat serves Responses too: natively where its
/// server has a Responses API, otherwise through its chat API (`responses_via_chat.rs`).
#[derive(Debug, Clone, Copy)]
pub struct Operations {
    pub chat: bool,
    pub embedding: Embeddings,
    /// The server has OpenAI's Responses API (`/responses`), stored responses included.
    pub native_responses: bool,
    /// The API has its own endpoint that counts a chat call's input tokens.
    pub count_tokens: bool,
}

/// Whether and how a row serves embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embeddings {
    /// No embeddings endpoint, or none its documentation confirms.
    None,
    /// The API's module decides per model (Gemini, Vertex AI, Bedrock).
    ByModel,
    /// An OpenAI-compatible `/embeddings` endpoint, spoken as the row says.
    Endpoint(Row),
}

impl Serialize for Operations {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut names = Vec::new();
        if self.chat {
            names.push(Operation::Chat);
        }
        if self.embedding != Embeddings::None {
            names.push(Operation::Embedding);
        }
        if self.chat {
            names.push(Operation::Responses);
        }
        if self.count_tokens {
            names.push(Operation::CountTokens);
        }
        names.serialize(serializer)
    }
}

/// A row that serves chat and, as `embedding` says, embeddings.
const fn chat_and(embedding: Embeddings) -> Operations {
    Operations {
        chat: true,
        embedding,
        native_responses: false,
        count_tokens: false,
    }
}

impl Operations {
    /// The row's server has OpenAI's Responses API too.
    const fn and_responses(mut self) -> Self {
        self.native_responses = true;
        self
    }

    /// The row's API has a token-counting endpoint too.
    const fn and_count_tokens(mut self) -> Self {
        self.count_tokens = true;
        self
    }
}

/// An OpenAI-compatible row without embeddings.
const CHAT: Operations = chat_and(Embeddings::None);

/// An OpenAI-compatible row with chat and an `/embeddings` endpoint.
const fn with_embeddings(row: Row) -> Operations {
    chat_and(Embeddings::Endpoint(row))
}

/// OpenAI's limit of inputs per request, taken where a provider documents none.
const MAX_INPUTS: usize = 2048;

impl Provider {
    /// Refuses, before any I/O, an operation the row does not serve.
    pub fn serves(&self, operation: Operation) -> Result<(), CoreError> {
        let refuse = |what: String| Err(CoreError::new(ErrorKind::UnsupportedProvider, what));
        match operation {
            Operation::Chat | Operation::Responses if !self.operations.chat => refuse(format!(
                "{}/ has no chat endpoint: it serves embeddings only",
                self.prefix
            )),
            Operation::CountTokens if !self.operations.count_tokens => {
                let offered: Vec<&str> = PROVIDERS
                    .iter()
                    .filter(|p| p.operations.count_tokens)
                    .map(|p| p.prefix)
                    .collect();
                refuse(format!(
                    "{}/ has no token-counting endpoint; providers with one: {}",
                    self.prefix,
                    offered.join(", ")
                ))
            }
            Operation::Embedding if self.operations.embedding == Embeddings::None => {
                let row = if self.api == Api::OpenAi {
                    "openai-compatible row "
                } else {
                    ""
                };
                let offered: Vec<&str> = PROVIDERS
                    .iter()
                    .filter(|p| p.operations.embedding != Embeddings::None)
                    .map(|p| p.prefix)
                    .collect();
                refuse(format!(
                    "{}{}/ has no embeddings endpoint; providers with embeddings: {}",
                    row,
                    self.prefix,
                    offered.join(", ")
                ))
            }
            _ => Ok(()),
        }
    }

    /// How an OpenAI-compatible row's embeddings endpoint is spoken.
    fn embeddings_row(&self) -> Row {
        match self.operations.embedding {
            Embeddings::Endpoint(row) => row,
            _ => Row::new(MAX_INPUTS),
        }
    }

    /// The reader of `model`'s answers to `operation`: OpenAI's Responses reader for a Responses
    /// call to a server that has the API, and for a chat call there to a model that answers
    /// only through it (or that the caller sent there with `responses/`: `via_responses`).
    pub fn reader_for(&self, model: &str, operation: Operation, via_responses: bool) -> Reader {
        let native = self.operations.native_responses;
        match operation {
            Operation::Responses if native => return Reader::OpenAiResponses,
            Operation::Chat
                if native && (via_responses || responses::answers_only_there(model)) =>
            {
                return Reader::OpenAiResponses
            }
            _ => {}
        }
        self.readers_by_model
            .iter()
            .find(|(start, _)| model.starts_with(start))
            .map_or(self.reader, |&(_, reader)| reader)
    }

    /// The caller's `base_url`, else the provider's environment variable, else its default,
    /// with the path the provider's client adds (see [`BasePath`]). A base URL from the caller
    /// or the environment is checked and encoded as [`url::base_url`] says, and errors name
    /// where it came from.
    pub fn base_url(
        &self,
        given: Option<String>,
        env: &BTreeMap<String, String>,
    ) -> Result<String, CoreError> {
        // A host from the environment may come without a scheme (OLLAMA_HOST=127.0.0.1:11434).
        let from_env = self.base_url_env.iter().find_map(|name| {
            let url = env.get(*name).filter(|url| !url.is_empty())?;
            let url = if url.contains("://") {
                url.clone()
            } else {
                format!("http://{}", url)
            };
            Some((*name, url))
        });
        let given = given.filter(|url| !url.is_empty());
        let (source, url) = match given.map(|url| ("base_url", url)).or(from_env) {
            Some(found) => found,
            None => {
                if let Some(template) = self.base_url.filter(|url| url.contains('{')) {
                    return self.fill_template(template, env);
                }
                return self.base_url.map(str::to_string).ok_or_else(|| {
                    let env_hint = match self.base_url_env.first() {
                        Some(name) => format!(" (or set {})", name),
                        None => String::new(),
                    };
                    CoreError::invalid_request(format!(
                        "provider {:?} needs base_url{}",
                        self.prefix, env_hint
                    ))
                });
            }
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(CoreError::invalid_request(format!(
                "{} must start with http:// or https://, got {:?}",
                source, url
            )));
        }
        let url = url::base_url(&url, source)?;
        let segments: Vec<&str> = path_of(&url).split('/').filter(|s| !s.is_empty()).collect();
        let added = match self.base_path {
            BasePath::Root(path) if segments.is_empty() => path,
            BasePath::Version { version, endpoint } => match segments.as_slice() {
                [.., last] if is_version(last) => "",
                [.., before, last]
                    if is_version(before) && endpoint.trim_start_matches('/') == *last =>
                {
                    ""
                }
                _ => version,
            },
            BasePath::Root(_) => "",
        };
        if added.is_empty() {
            return Ok(url);
        }
        let (base, query) = split_query(&url);
        let base = format!("{}{}", base.trim_end_matches('/'), added);
        Ok(join_query(base, query))
    }

    /// A default base URL with `{NAME}` parts, filled from those environment variables (listed
    /// in `extra_env`); a missing one, or one without the shape its provider gives it
    /// ([`url::setting`]), is refused before any I/O.
    fn fill_template(
        &self,
        template: &str,
        env: &BTreeMap<String, String>,
    ) -> Result<String, CoreError> {
        let mut url = template.to_string();
        for name in self.extra_env {
            let part = format!("{{{}}}", name);
            if !url.contains(&part) {
                continue;
            }
            match env.get(*name).filter(|value| !value.is_empty()) {
                Some(value) => url = url.replace(&part, setting(name, value)?),
                None => {
                    return Err(CoreError::invalid_request(format!(
                        "{}/ builds its URL from {}: set it, or pass base_url",
                        self.prefix, name
                    )))
                }
            }
        }
        Ok(url)
    }
}

const fn bearer(env: &'static str, required: bool) -> Option<Auth> {
    Some(Auth {
        env,
        required,
        header: "authorization",
        prefix: "Bearer ",
    })
}

const fn key_header(env: &'static str, header: &'static str) -> Option<Auth> {
    Some(Auth {
        env,
        required: true,
        header,
        prefix: "",
    })
}

/// A row that speaks OpenAI chat completions; `root_path` is the API's path under a bare
/// server root.
const fn openai_compatible(
    prefix: &'static str,
    base_url: Option<&'static str>,
    base_url_env: &'static [&'static str],
    root_path: &'static str,
    auth: Option<Auth>,
    operations: Operations,
) -> Provider {
    Provider {
        prefix,
        api: Api::OpenAi,
        reader: Reader::OpenAi,
        readers_by_model: &[],
        base_url,
        base_url_env,
        base_path: BasePath::Root(root_path),
        extra_env: &[],
        auth,
        operations,
    }
}

/// Every provider ritellm speaks to, by model prefix.
pub const PROVIDERS: &[Provider] = &[
    openai_compatible(
        "openai",
        Some("https://api.openai.com/v1"),
        &["OPENAI_BASE_URL", "OPENAI_API_BASE"],
        "/v1",
        bearer("OPENAI_API_KEY", true),
        with_embeddings(Row::new(MAX_INPUTS).token_ids().base64()).and_responses(),
    ),
    openai_compatible(
        "groq",
        Some("https://api.groq.com/openai/v1"),
        &["GROQ_API_BASE"],
        "/openai/v1",
        bearer("GROQ_API_KEY", true),
        // No embeddings endpoint in Groq's documentation.
        CHAT.and_responses(),
    ),
    openai_compatible(
        "mistral",
        Some("https://api.mistral.ai/v1"),
        &["MISTRAL_API_BASE"],
        "/v1",
        bearer("MISTRAL_API_KEY", true),
        // Embeddings take `output_dimension` (codestral-embed) and base64 (docs.mistral.ai).
        with_embeddings(Row::new(MAX_INPUTS).base64().dimensions("output_dimension")),
    ),
    openai_compatible(
        "deepseek",
        Some("https://api.deepseek.com/v1"),
        &["DEEPSEEK_API_BASE"],
        "/v1",
        bearer("DEEPSEEK_API_KEY", true),
        // No embedding models.
        CHAT,
    ),
    openai_compatible(
        "xai",
        Some("https://api.x.ai/v1"),
        &["XAI_API_BASE"],
        "/v1",
        bearer("XAI_API_KEY", true),
        // Embeddings unconfirmed: none.
        CHAT.and_responses(),
    ),
    openai_compatible(
        "openrouter",
        Some("https://openrouter.ai/api/v1"),
        &["OPENROUTER_API_BASE"],
        "/api/v1",
        bearer("OPENROUTER_API_KEY", true),
        // Embeddings documented with token ids, base64 and `input_type` passed on to the model's provider.
        with_embeddings(
            Row::new(MAX_INPUTS)
                .token_ids()
                .base64()
                .input_type(InputTypes::Given),
        )
        .and_responses(),
    ),
    openai_compatible(
        "together_ai",
        Some("https://api.together.xyz/v1"),
        &["TOGETHER_API_BASE", "TOGETHERAI_API_BASE"],
        "/v1",
        bearer("TOGETHER_API_KEY", true),
        with_embeddings(Row::new(MAX_INPUTS)),
    ),
    openai_compatible(
        "fireworks_ai",
        Some("https://api.fireworks.ai/inference/v1"),
        &["FIREWORKS_API_BASE", "FIREWORKS_AI_API_BASE"],
        "/inference/v1",
        bearer("FIREWORKS_API_KEY", true),
        with_embeddings(Row::new(MAX_INPUTS)).and_responses(),
    ),
    openai_compatible(
        "cerebras",
        Some("https://api.cerebras.ai/v1"),
        &["CEREBRAS_API_BASE"],
        "/v1",
        bearer("CEREBRAS_API_KEY", true),
        // No embeddings endpoint.
        CHAT,
    ),
    openai_compatible(
        "perplexity",
        Some("https://api.perplexity.ai"),
        &["PERPLEXITY_API_BASE"],
        "",
        bearer("PERPLEXITY_API_KEY", true),
        // Embeddings unconfirmed: none.
        CHAT,
    ),
    openai_compatible(
        "deepinfra",
        Some("https://api.deepinfra.com/v1/openai"),
        &["DEEPINFRA_API_BASE"],
        "/v1/openai",
        bearer("DEEPINFRA_API_KEY", true),
        // Its validator takes encoding_format float or base64.
        with_embeddings(Row::new(MAX_INPUTS).base64()),
    ),
    openai_compatible(
        "ollama",
        Some("http://localhost:11434/v1"),
        &["OLLAMA_API_BASE", "OLLAMA_HOST"],
        "/v1",
        bearer("OLLAMA_API_KEY", false),
        // Older servers ignore base64: floats are asked for.
        with_embeddings(Row::new(MAX_INPUTS)).and_responses(),
    ),
    openai_compatible(
        "lm_studio",
        Some("http://localhost:1234/v1"),
        &["LM_STUDIO_API_BASE"],
        "/v1",
        bearer("LM_STUDIO_API_KEY", false),
        // Ignores encoding_format: floats.
        with_embeddings(Row::new(MAX_INPUTS)).and_responses(),
    ),
    openai_compatible(
        "hosted_vllm",
        None,
        &["HOSTED_VLLM_API_BASE"],
        "/v1",
        bearer("HOSTED_VLLM_API_KEY", false),
        // Older servers refuse base64: floats.
        with_embeddings(Row::new(MAX_INPUTS)).and_responses(),
    ),
    openai_compatible(
        "llamafile",
        Some("http://localhost:8080/v1"),
        &["LLAMAFILE_API_BASE"],
        "/v1",
        bearer("LLAMAFILE_API_KEY", false),
        with_embeddings(Row::new(MAX_INPUTS)),
    ),
    // Hugging Face's Inference Providers router.
    openai_compatible(
        "huggingface",
        Some("https://router.huggingface.co/v1"),
        &["HUGGINGFACE_API_BASE"],
        "/v1",
        bearer("HF_TOKEN", true),
        // The router has no OpenAI /embeddings route (feature-extraction is its own API): none.
        CHAT,
    ),
    openai_compatible(
        "nvidia_nim",
        Some("https://integrate.api.nvidia.com/v1"),
        &["NVIDIA_NIM_API_BASE"],
        "/v1",
        bearer("NVIDIA_NIM_API_KEY", true),
        // Retrieval models require `input_type`: `passage` unless the caller says.
        with_embeddings(Row::new(MAX_INPUTS).input_type(InputTypes::Spelled {
            query: "query",
            document: "passage",
            default: Some("passage"),
        })),
    ),
    openai_compatible(
        "sambanova",
        Some("https://api.sambanova.ai/v1"),
        &["SAMBANOVA_API_BASE"],
        "/v1",
        bearer("SAMBANOVA_API_KEY", true),
        with_embeddings(Row::new(MAX_INPUTS)),
    ),
    // Nebius AI Studio, now Nebius Token Factory.
    openai_compatible(
        "nebius",
        Some("https://api.tokenfactory.nebius.com/v1"),
        &["NEBIUS_API_BASE"],
        "/v1",
        bearer("NEBIUS_API_KEY", true),
        // Embeddings unconfirmed: none.
        CHAT,
    ),
    openai_compatible(
        "novita",
        Some("https://api.novita.ai/v3/openai"),
        &["NOVITA_API_BASE"],
        "/v3/openai",
        bearer("NOVITA_API_KEY", true),
        // Embeddings unconfirmed: none.
        CHAT,
    ),
    openai_compatible(
        "moonshot",
        Some("https://api.moonshot.ai/v1"),
        &["MOONSHOT_API_BASE"],
        "/v1",
        bearer("MOONSHOT_API_KEY", true),
        // No embeddings endpoint found: none.
        CHAT,
    ),
    // Alibaba Cloud Model Studio (Qwen), international endpoint.
    openai_compatible(
        "dashscope",
        Some("https://dashscope-intl.aliyuncs.com/compatible-mode/v1"),
        &["DASHSCOPE_API_BASE"],
        "/compatible-mode/v1",
        bearer("DASHSCOPE_API_KEY", true),
        // text-embedding-v3 and v4 take at most 10 inputs per request.
        with_embeddings(Row::new(10)),
    ),
    // GitHub Models; a GitHub token with the models scope is the key.
    openai_compatible(
        "github",
        Some("https://models.github.ai/inference"),
        &["GITHUB_API_BASE"],
        "/inference",
        bearer("GITHUB_TOKEN", true),
        // Embeddings unconfirmed: none.
        CHAT,
    ),
    openai_compatible(
        "hyperbolic",
        Some("https://api.hyperbolic.xyz/v1"),
        &["HYPERBOLIC_API_BASE"],
        "/v1",
        bearer("HYPERBOLIC_API_KEY", true),
        // No embeddings endpoint found: none.
        CHAT,
    ),
    openai_compatible(
        "lambda_ai",
        Some("https://api.lambda.ai/v1"),
        &["LAMBDA_API_BASE"],
        "/v1",
        bearer("LAMBDA_API_KEY", true),
        // No embeddings endpoint found: none.
        CHAT,
    ),
    openai_compatible(
        "featherless_ai",
        Some("https://api.featherless.ai/v1"),
        &["FEATHERLESS_API_BASE"],
        "/v1",
        bearer("FEATHERLESS_API_KEY", true),
        // Chat and completions only.
        CHAT,
    ),
    // Cohere's OpenAI compatibility endpoint.
    openai_compatible(
        "cohere",
        Some("https://api.cohere.ai/compatibility/v1"),
        &["COHERE_API_BASE"],
        "/compatibility/v1",
        bearer("COHERE_API_KEY", true),
        // Embeddings: 96 texts per request, as Cohere's own API; whether it takes `input_type` or base64 is unconfirmed, so neither is sent.
        with_embeddings(Row::new(96)),
    ),
    // A workspace's serving endpoints: https://<workspace>/serving-endpoints.
    openai_compatible(
        "databricks",
        None,
        &["DATABRICKS_API_BASE"],
        "/serving-endpoints",
        bearer("DATABRICKS_API_KEY", true),
        // Embeddings through this base unconfirmed: none.
        CHAT,
    ),
    // Workers AI; the URL holds the account id.
    Provider {
        prefix: "cloudflare",
        api: Api::OpenAi,
        reader: Reader::OpenAi,
        readers_by_model: &[],
        base_url: Some(
            "https://api.cloudflare.com/client/v4/accounts/{CLOUDFLARE_ACCOUNT_ID}/ai/v1",
        ),
        base_url_env: &["CLOUDFLARE_API_BASE"],
        base_path: BasePath::Root(""),
        extra_env: &["CLOUDFLARE_ACCOUNT_ID"],
        auth: bearer("CLOUDFLARE_API_KEY", true),
        // Workers AI's native limit is 100 texts; its OpenAI route documents none.
        operations: with_embeddings(Row::new(100)),
    },
    // Voyage AI: embeddings only, OpenAI's body with its own fields (`output_dimension`,
    // `output_dtype`, `truncation`); its client asks for base64, and `"float"` is never sent.
    Provider {
        prefix: "voyage",
        api: Api::OpenAi,
        reader: Reader::OpenAi,
        readers_by_model: &[],
        base_url: Some("https://api.voyageai.com/v1"),
        base_url_env: &["VOYAGE_API_BASE"],
        base_path: BasePath::Root("/v1"),
        extra_env: &[],
        auth: bearer("VOYAGE_API_KEY", true),
        operations: Operations {
            chat: false,
            native_responses: false,
            count_tokens: false,
            embedding: Embeddings::Endpoint(
                Row::new(1000)
                    .base64()
                    .dimensions("output_dimension")
                    .input_type(InputTypes::Spelled {
                        query: "query",
                        document: "document",
                        default: None,
                    }),
            ),
        },
    },
    Provider {
        prefix: "anthropic",
        api: Api::Anthropic,
        reader: Reader::Anthropic,
        readers_by_model: &[],
        base_url: Some("https://api.anthropic.com/v1"),
        base_url_env: &["ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE"],
        base_path: BasePath::Version {
            version: "/v1",
            endpoint: "/messages",
        },
        extra_env: &[],
        auth: key_header("ANTHROPIC_API_KEY", "x-api-key"),
        operations: chat_and(Embeddings::None).and_count_tokens(),
    },
    Provider {
        prefix: "gemini",
        api: Api::Gemini,
        reader: Reader::Gemini,
        readers_by_model: &[],
        base_url: Some("https://generativelanguage.googleapis.com/v1beta"),
        base_url_env: &["GEMINI_API_BASE"],
        base_path: BasePath::Version {
            version: "/v1beta",
            endpoint: "",
        },
        extra_env: &[],
        auth: key_header("GEMINI_API_KEY", "x-goog-api-key"),
        operations: chat_and(Embeddings::ByModel).and_count_tokens(),
    },
    // Converse, signed by the host with the caller's AWS credentials (SigV4), or a Bedrock API
    // key sent as a bearer token. The host fills AWS_REGION from aws_region_name=,
    // AWS_REGION, AWS_DEFAULT_REGION or the profile, and signs for it.
    Provider {
        prefix: "bedrock",
        api: Api::Bedrock,
        reader: Reader::Bedrock,
        readers_by_model: &[],
        base_url: Some("https://bedrock-runtime.{AWS_REGION}.amazonaws.com"),
        base_url_env: &["AWS_BEDROCK_RUNTIME_ENDPOINT"],
        base_path: BasePath::Root(""),
        extra_env: &["AWS_REGION"],
        auth: bearer("AWS_BEARER_TOKEN_BEDROCK", false),
        operations: chat_and(Embeddings::ByModel).and_count_tokens(),
    },
    // Gemini and Claude on Google Cloud; the host finds the OAuth2 token (api_key=,
    // VERTEXAI_ACCESS_TOKEN, or google-auth's application default credentials) and fills the
    // project and location from vertex_project= / vertex_location= or the environment.
    Provider {
        prefix: "vertex_ai",
        api: Api::Vertex,
        reader: Reader::Gemini,
        readers_by_model: &[("claude", Reader::Anthropic)],
        base_url: Some(vertex::GLOBAL_HOST),
        base_url_env: &["VERTEXAI_API_BASE"],
        base_path: BasePath::Root(""),
        extra_env: &["VERTEXAI_PROJECT", "VERTEXAI_LOCATION"],
        auth: bearer("VERTEXAI_ACCESS_TOKEN", false),
        operations: chat_and(Embeddings::ByModel).and_count_tokens(),
    },
    Provider {
        prefix: "azure",
        api: Api::Azure,
        reader: Reader::Azure,
        readers_by_model: &[],
        base_url: None,
        base_url_env: &["AZURE_API_BASE", "AZURE_OPENAI_ENDPOINT"],
        base_path: BasePath::Root(""),
        extra_env: &["AZURE_API_VERSION"],
        auth: key_header("AZURE_API_KEY", "api-key"),
        operations: with_embeddings(Row::new(MAX_INPUTS).token_ids().base64()).and_responses(),
    },
    // Answered in-process by the host through `mock::reply`; no network, no key.
    openai_compatible(
        "mock",
        Some("mock://ritellm/v1"),
        &[],
        "",
        None,
        with_embeddings(Row::new(MAX_INPUTS).token_ids().base64()),
    ),
];

pub fn lookup(prefix: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.prefix == prefix)
}

pub fn prefixes() -> Vec<&'static str> {
    PROVIDERS.iter().map(|p| p.prefix).collect()
}

/// The rows whose servers have OpenAI's Responses API.
pub fn native_responses() -> Vec<&'static str> {
    PROVIDERS
        .iter()
        .filter(|p| p.operations.native_responses)
        .map(|p| p.prefix)
        .collect()
}

/// Builds the HTTP request of `call` for `provider`'s API: the one place where requests are
/// built. A builder may note in `context` what reading the answer needs (`json_tool`, or the
/// vectors an embedding answer must hold). The row serves the operation (`Provider::serves`).
pub fn build_request(
    provider: &Provider,
    call: Call,
    context: &mut Context,
) -> Result<HttpRequest, CoreError> {
    let native = provider.operations.native_responses;
    match (provider.api, call.operation) {
        (Api::OpenAi | Api::Azure, Operation::Chat) if call.reader == Reader::OpenAiResponses => {
            responses::build_request(provider.api == Api::Azure, call, chat_via_responses::body)
        }
        (Api::OpenAi | Api::Azure, Operation::Responses) if native => {
            responses::build_request(provider.api == Api::Azure, call, responses::body)
        }
        (_, Operation::Responses) if call.stored.is_some() => Err(CoreError::new(
            ErrorKind::UnsupportedProvider,
            format!(
                "{}/ stores no responses: its server has no Responses API (those that have one: {})",
                provider.prefix,
                native_responses().join(", ")
            ),
        )),
        (_, Operation::Responses) => {
            let chat = responses_via_chat::chat_call(call, context)?;
            build_request(provider, chat, context)
        }
        (Api::OpenAi, Operation::Chat) => openai::build_request(call),
        (Api::Azure, Operation::Chat) => azure::build_request(call),
        (Api::Anthropic, Operation::Chat) => anthropic::build_request(call, context),
        (Api::Gemini, Operation::Chat) => gemini::build_request(call),
        (Api::Bedrock, Operation::Chat) => bedrock::build_request(call, context),
        (Api::Vertex, Operation::Chat) => vertex::build_request(call, context),
        (Api::OpenAi, Operation::Embedding) => {
            openai::build_embedding(call, provider.embeddings_row(), context)
        }
        (Api::Azure, Operation::Embedding) => {
            azure::build_embedding(call, provider.embeddings_row(), context)
        }
        (Api::Gemini, Operation::Embedding) => gemini::build_embedding(call, context),
        (Api::Bedrock, Operation::Embedding) => bedrock::build_embedding(call, context),
        (Api::Vertex, Operation::Embedding) => vertex::build_embedding(call, context),
        (Api::Anthropic, Operation::Embedding) => Err(CoreError::new(
            ErrorKind::UnsupportedProvider,
            "anthropic/ has no embeddings endpoint",
        )),
        (Api::Anthropic, Operation::CountTokens) => anthropic::build_count_tokens(call, context),
        (Api::Gemini, Operation::CountTokens) => gemini::build_count_tokens(call),
        (Api::Bedrock, Operation::CountTokens) => bedrock::build_count_tokens(call, context),
        (Api::Vertex, Operation::CountTokens) => vertex::build_count_tokens(call, context),
        (Api::OpenAi | Api::Azure, Operation::CountTokens) => {
            provider.serves(Operation::CountTokens)?;
            Err(CoreError::new(
                ErrorKind::UnsupportedProvider,
                "OpenAI's chat completions API has no token-counting endpoint",
            ))
        }
    }
}

/// Reads a complete answer with its HTTP status, as chat.completion JSON text.
pub type ReadComplete = fn(&Context, u16, &[u8]) -> Result<String, CoreError>;

/// Everything about one reader that the API and the stream machinery need.
pub struct Reading {
    /// A success answer is already a chat.completion (see `HttpRequest::passthrough`).
    pub passthrough: bool,
    /// The reader invents ids for answers or tool calls that come without one, from the call's
    /// nonce (see `Context::nonce`).
    pub invents_ids: bool,
    /// `None` for readers of streams only.
    pub complete: Option<ReadComplete>,
    pub framing: Framing,
    /// A translator for one stream's events.
    pub translator: fn(&Context) -> Box<dyn Translate>,
}

/// How `reader` reads answers to `operation`: the one place where answers are read.
pub fn reading(reader: Reader, operation: Operation) -> Reading {
    let (passthrough, invents_ids, framing) = (false, false, Framing::Sse);
    match (reader, operation) {
        (Reader::OpenAi, Operation::Chat) => Reading {
            passthrough: true,
            invents_ids,
            complete: Some(openai::parse_response),
            framing,
            translator: openai::translator,
        },
        (Reader::Azure, Operation::Chat) => Reading {
            passthrough: true,
            invents_ids,
            complete: Some(openai::parse_response),
            framing,
            translator: azure::translator,
        },
        (Reader::Anthropic, Operation::Chat) => Reading {
            passthrough,
            invents_ids,
            complete: Some(anthropic::parse_response),
            framing,
            translator: anthropic::translator,
        },
        (Reader::Gemini, Operation::Chat) => Reading {
            passthrough,
            invents_ids: true,
            complete: Some(gemini::parse_response),
            framing,
            translator: gemini::translator,
        },
        (Reader::Bedrock, Operation::Chat) => Reading {
            passthrough,
            invents_ids: true,
            complete: Some(bedrock::parse_response),
            framing: Framing::EventStream,
            translator: bedrock::translator,
        },
        (Reader::OpenAiResponses, Operation::Responses) => Reading {
            passthrough: true,
            invents_ids,
            complete: Some(responses::parse_response),
            framing,
            translator: responses::translator,
        },
        (Reader::OpenAiResponses, Operation::Chat) => Reading {
            passthrough,
            invents_ids,
            complete: Some(chat_via_responses::parse_response),
            framing,
            translator: chat_via_responses::translator,
        },
        (Reader::RawSse | Reader::RawEventStream, _) => raw_reading(reader),
        (_, Operation::Responses) => {
            let chat = reading(reader, Operation::Chat);
            Reading {
                passthrough,
                // The response's and its items' ids derive from the call's nonce.
                invents_ids: true,
                complete: Some(bridged_response),
                translator: bridged_translator,
                ..chat
            }
        }
        (Reader::OpenAi | Reader::Azure | Reader::OpenAiResponses, Operation::Embedding) => {
            embeddings(openai::parse_embeddings)
        }
        (Reader::Gemini, Operation::Embedding) => embeddings(gemini::parse_embeddings),
        (Reader::Bedrock, Operation::Embedding) => embeddings(bedrock::parse_embeddings),
        (Reader::Anthropic, Operation::Embedding) => embeddings(vectors::none),
        (Reader::Anthropic, Operation::CountTokens) => counting(anthropic::parse_count),
        (Reader::Gemini, Operation::CountTokens) => counting(gemini::parse_count),
        (Reader::Bedrock, Operation::CountTokens) => counting(bedrock::parse_count),
        (Reader::OpenAi | Reader::Azure | Reader::OpenAiResponses, Operation::CountTokens) => {
            counting(count::none)
        }
    }
}

/// The plain decoders' readings, for hosts that want only the sandboxed framing.
fn raw_reading(reader: Reader) -> Reading {
    Reading {
        passthrough: false,
        invents_ids: false,
        complete: None,
        framing: if reader == Reader::RawEventStream {
            Framing::EventStream
        } else {
            Framing::Sse
        },
        translator: raw::translator,
    }
}

/// A Responses call's complete answer from a chat API: read by the API's chat reader, then
/// made a response object.
fn bridged_response(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    let read = reading(context.reader, Operation::Chat)
        .complete
        .ok_or_else(|| CoreError::invalid_request("this context's reader decodes streams only"))?;
    responses_via_chat::response(context, &read(context, status, body)?)
}

/// A Responses call's stream from a chat API: the chat reader's chunks made Responses events.
fn bridged_translator(context: &Context) -> Box<dyn Translate> {
    let chat = (reading(context.reader, Operation::Chat).translator)(context);
    responses_via_chat::translator(context, chat)
}

/// A token-count reader: complete answers only, never passed through.
fn counting(read: ReadComplete) -> Reading {
    Reading {
        passthrough: false,
        invents_ids: false,
        complete: Some(read),
        framing: Framing::Sse,
        translator: count::translator,
    }
}

/// An embeddings reader: complete answers only, never passed through.
fn embeddings(read: ReadComplete) -> Reading {
    Reading {
        passthrough: false,
        invents_ids: false,
        complete: Some(read),
        framing: Framing::Sse,
        translator: vectors::translator,
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
    fn each_row_names_its_reader_and_vertex_reads_claude_as_anthropic() {
        let vertex = lookup("vertex_ai").unwrap();
        assert_eq!(
            vertex.reader_for("gemini-2.5-flash", Operation::Chat, false),
            Reader::Gemini
        );
        assert_eq!(
            vertex.reader_for("claude-sonnet-4-5@1", Operation::Chat, false),
            Reader::Anthropic
        );
        assert_eq!(
            lookup("azure")
                .unwrap()
                .reader_for("x", Operation::Chat, false),
            Reader::Azure
        );
        assert_eq!(
            lookup("groq")
                .unwrap()
                .reader_for("x", Operation::Chat, false),
            Reader::OpenAi
        );
        for provider in PROVIDERS {
            // Every row's readers read complete answers and streams.
            assert!(reading(provider.reader, Operation::Chat).complete.is_some());
            // A row that counts tokens reads the counts of each of its models.
            if provider.operations.count_tokens {
                let models = provider.readers_by_model.iter().map(|&(start, _)| start);
                for model in models.chain(["m"]) {
                    let mut context = testing::context(provider.prefix, model);
                    context.operation = Operation::CountTokens;
                    let read = reading(context.reader, Operation::CountTokens).complete;
                    let answer = br#"{"input_tokens": 1, "totalTokens": 1, "inputTokens": 1}"#;
                    assert!(read.unwrap()(&context, 200, answer).is_ok(), "{}", model);
                }
            }
        }
        assert!(reading(Reader::RawSse, Operation::Chat).complete.is_none());
    }
}
