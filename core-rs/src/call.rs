//! The data that passes between the API (`lib.rs`) and the protocol modules (`providers/`):
//! a validated call, the HTTP request built from it, and the context its answer is read with.
//! A leaf: it imports nothing of the crate but errors and limits, so both sides can use it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::CoreError;
use crate::limits::Limits;

/// What a call asks for. Chat completions only, for now: embeddings or responses would be
/// further variants, built and read in the same two matches of `providers/mod.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    #[default]
    Chat,
}

impl Operation {
    fn is_chat(&self) -> bool {
        *self == Operation::Chat
    }
}

/// How a provider's answers are read: the framing of its streams, the translation of its
/// answers and events, and whether a success answer passes through as sent. Chosen per provider
/// row (`providers::PROVIDERS`); everything about each reader is in `providers::reading`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reader {
    /// OpenAI chat completions and chunks, passed through as sent.
    #[serde(rename = "openai")]
    OpenAi,
    /// OpenAI's, with Azure's content-filter chunks given the stream's identity.
    Azure,
    /// Anthropic's Messages API.
    Anthropic,
    /// Google's Generative Language API.
    Gemini,
    /// AWS Bedrock's Converse API; streams in AWS's event-stream framing.
    Bedrock,
    /// Not a provider's: server-sent events handed to the host as `{event, data, id}` objects,
    /// for hosts that want only the sandboxed decoder.
    RawSse,
    /// Not a provider's: AWS event-stream messages handed to the host the same way.
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

/// A validated call, handed to the module that builds the provider's request.
pub struct Call {
    pub operation: Operation,
    /// Who reads the answer: a builder whose API serves models of several families (Vertex AI)
    /// builds the body of that family.
    pub reader: Reader,
    /// The provider's own model name: the model string after its prefix.
    pub model: String,
    pub messages: Value,
    pub stream: bool,
    pub base_url: String,
    pub params: Map<String, Value>,
    pub additional_params: Map<String, Value>,
    pub env: BTreeMap<String, String>,
    pub api_version: Option<String>,
    pub drop_params: bool,
}

/// The HTTP request for the host to send: the head that `ritellm_prepare` answers (its schema
/// is documented in `abi.rs`), and the body. The host adds the key (see `auth`) and keeps
/// `context` to hand back with the answer.
#[derive(Debug, Serialize)]
pub struct HttpRequest {
    /// The provider prefix and the provider's model name, for the host's error messages.
    pub provider: &'static str,
    pub model: String,
    pub method: &'static str,
    pub url: String,
    pub headers: BTreeMap<&'static str, String>,
    pub auth: Option<Auth>,
    /// True when a success answer is already a chat.completion: the host may take a JSON
    /// object without an `error` member as it is, and needs `parse_response` only otherwise.
    pub passthrough: bool,
    /// Where the caller's messages, serialized as given, lie in `body` (start and end byte
    /// offsets), when the body is otherwise independent of them: the host may then reuse the
    /// rest of the body for another call alike, with its own messages in the slot. Set by the
    /// builder that wrote the body, which knows its layout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages_slot: Option<(usize, usize)>,
    /// Opaque to the host: JSON text to pass to `parse_response` or `open_stream`.
    pub context: String,
    #[serde(skip)]
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A POST of a JSON `body`, accepting an event stream when `stream` is set.
    pub fn post(url: String, body: Vec<u8>, stream: bool) -> Self {
        let mut headers = BTreeMap::new();
        headers.insert("content-type", "application/json".to_string());
        let accept = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        headers.insert("accept", accept.to_string());
        HttpRequest {
            provider: "",
            model: String::new(),
            method: "POST",
            url,
            headers,
            auth: None,
            passthrough: false,
            messages_slot: None,
            context: String::new(),
            body,
        }
    }

    pub fn post_json(url: String, body: &Map<String, Value>, stream: bool) -> Self {
        // Serializing plain data to a Vec cannot fail.
        Self::post(url, serde_json::to_vec(body).unwrap_or_default(), stream)
    }
}

/// What the core needs to read one call's answer, carried by the host between calls. Calls
/// alike made in the same second have equal contexts unless their reader invents ids (`nonce`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    /// Older hosts name it `protocol` (`{"protocol": "raw_sse"}`), which is still read.
    #[serde(alias = "protocol")]
    pub reader: Reader,
    #[serde(default, skip_serializing_if = "Operation::is_chat")]
    pub operation: Operation,
    /// Named in errors about the answer.
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub created: i64,
    /// The host's random value for this call, kept only for readers that invent ids (answers
    /// or tool calls that come without one): every id they invent derives from it, so ids are
    /// unique per call and the same in a call's complete and streamed forms.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nonce: String,
    /// The caller asked for a final usage chunk (`stream_options.include_usage`).
    #[serde(default)]
    pub include_usage: bool,
    /// The tool that carries a `response_format` answer, for providers without a JSON mode:
    /// its input becomes the message content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_tool: Option<String>,
    #[serde(default)]
    pub limits: Limits,
}

impl Context {
    /// Names this call's provider and model in `error`.
    pub fn tag(&self, mut error: CoreError) -> CoreError {
        if !self.provider.is_empty() {
            error.provider = Some(self.provider.clone());
            error.model = Some(self.model.clone());
        }
        error
    }

    /// An id for an answer that came without one: `chatcmpl-<nonce>`, or `fallback` when the
    /// host sent no nonce (older hosts).
    pub fn invented_id(&self, fallback: impl FnOnce() -> String) -> String {
        if self.nonce.is_empty() {
            fallback()
        } else {
            format!("chatcmpl-{}", self.nonce)
        }
    }
}
