//! The data that passes between the API (`lib.rs`) and the protocol modules (`providers/`):
//! a validated call, the HTTP request built from it, and the context its answer is read with.
//! A leaf: it imports nothing of the crate but errors and limits, so both sides can use it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::CoreError;
use crate::limits::Limits;

/// The most dimensions a caller may ask for: far more than any model gives (3072 or 4096).
pub const MAX_DIMENSIONS: u64 = 1 << 16;

/// What a call asks for: a chat completion, embeddings, a response of OpenAI's Responses
/// API, or the count of a chat call's input tokens by the provider's own counting endpoint.
/// Each is built and read in the two matches of `providers/mod.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    #[default]
    Chat,
    Embedding,
    Responses,
    /// `count_tokens`: a chat call's messages and fields, counted; answered `{"input_tokens"}`.
    CountTokens,
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
    /// OpenAI's Responses API: a response object and its stream events, passed through as sent
    /// to a Responses call, or translated into a chat.completion and its chunks for a chat call
    /// to a model that answers only there.
    #[serde(rename = "openai_responses")]
    OpenAiResponses,
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
    /// The provider prefix, for errors.
    pub provider: &'static str,
    pub operation: Operation,
    /// Who reads the answer: a builder whose API serves models of several families (Vertex AI)
    /// builds the body of that family.
    pub reader: Reader,
    /// The provider's own model name: the model string after its prefix.
    pub model: String,
    /// A chat call's messages, or a Responses call's `input` (a string or a list of items).
    pub messages: Value,
    pub stream: bool,
    pub base_url: String,
    pub params: Map<String, Value>,
    pub additional_params: Map<String, Value>,
    pub env: BTreeMap<String, String>,
    pub api_version: Option<String>,
    pub drop_params: bool,
    /// An embedding call's inputs and fields (empty for chat).
    pub embedding: Embedding,
    /// A Responses call on a stored response, not a new one.
    pub stored: Option<Stored>,
}

/// What a Responses call does to a stored response, and the response's id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stored {
    pub action: Action,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `GET /responses/{id}`
    Get,
    /// `DELETE /responses/{id}`
    Delete,
    /// `POST /responses/{id}/cancel`
    Cancel,
    /// `GET /responses/{id}/input_items`, with the caller's `after`, `limit`, `order`, `include`
    /// in the query.
    InputItems,
}

/// One input of an embedding call: a text, or a text already cut into token ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Input {
    Text(String),
    Tokens(Vec<u64>),
}

/// An embedding call's inputs, and the caller's fields that every embeddings API reads in its
/// own words (the others stay in `Call::params`).
#[derive(Debug, Default)]
pub struct Embedding {
    pub input: Vec<Input>,
    pub dimensions: Option<u64>,
    /// The caller asked for `encoding_format="base64"`. (`"float"` is every API's default.)
    pub base64: bool,
    /// `"query"` and `"document"` are ritellm's; other values are the provider's own.
    pub input_type: Option<String>,
}

impl Embedding {
    /// Reads `input` (a string, a list of strings, a list of token ids or a list of such lists)
    /// as a list of inputs, and takes `dimensions`, `encoding_format` and `input_type` out of
    /// `params`. Refuses, naming the field, what no embeddings API takes: an empty list, an
    /// empty string, other kinds of items, strings mixed with token ids.
    pub fn read(input: Value, params: &mut Map<String, Value>) -> Result<Self, CoreError> {
        let input = match input {
            Value::String(text) => vec![Value::String(text)],
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_number) => {
                vec![Value::Array(items)]
            }
            Value::Array(items) if !items.is_empty() => items,
            Value::Array(_) => return Err(CoreError::invalid_request("input is an empty list")),
            _ => {
                return Err(CoreError::invalid_request(
                    "an embedding call's input must be a string, a list of strings, or token ids (a list of integers, or a list of such lists)",
                ))
            }
        };
        let input = input
            .into_iter()
            .enumerate()
            .map(|(index, item)| read_input(item, index))
            .collect::<Result<Vec<_>, _>>()?;
        if input.iter().any(|i| matches!(i, Input::Text(_)))
            && input.iter().any(|i| matches!(i, Input::Tokens(_)))
        {
            return Err(CoreError::invalid_request(
                "input mixes strings and token ids: send one kind per call",
            ));
        }
        let mut take = |name: &str| params.remove(name).filter(|v| !v.is_null());
        let dimensions = match take("dimensions") {
            None => None,
            Some(value) => match value.as_u64() {
                Some(n) if (1..=MAX_DIMENSIONS).contains(&n) => Some(n),
                _ => {
                    return Err(CoreError::invalid_request(format!(
                        "dimensions must be a whole number from 1 to {}, got {}",
                        MAX_DIMENSIONS, value
                    )))
                }
            },
        };
        let base64 = match take("encoding_format") {
            None => false,
            Some(value) if value == "float" => false,
            Some(value) if value == "base64" => true,
            Some(value) => {
                return Err(CoreError::invalid_request(format!(
                    "encoding_format must be \"float\" or \"base64\", got {}",
                    value
                )))
            }
        };
        let input_type = match take("input_type") {
            None => None,
            Some(Value::String(kind)) if !kind.is_empty() => Some(kind),
            Some(value) => {
                return Err(CoreError::invalid_request(format!(
                    "input_type must be \"query\", \"document\" or the provider's own name, got {}",
                    value
                )))
            }
        };
        Ok(Embedding {
            input,
            dimensions,
            base64,
            input_type,
        })
    }

    /// Keeps the first `max` inputs (the host sends the rest in calls of their own) and returns
    /// how many are kept.
    pub fn keep(&mut self, max: usize) -> usize {
        self.input.truncate(max);
        self.input.len()
    }
}

fn read_input(item: Value, index: usize) -> Result<Input, CoreError> {
    match item {
        Value::String(text) if text.is_empty() => Err(CoreError::invalid_request(format!(
            "input[{}] is an empty string, which embeddings APIs refuse",
            index
        ))),
        Value::String(text) => Ok(Input::Text(text)),
        Value::Array(ids) if !ids.is_empty() => ids
            .iter()
            .map(Value::as_u64)
            .collect::<Option<Vec<u64>>>()
            .map(Input::Tokens)
            .ok_or_else(|| {
                CoreError::invalid_request(format!(
                    "input[{}] must be a list of token ids (whole numbers from 0)",
                    index
                ))
            }),
        Value::Array(_) => Err(CoreError::invalid_request(format!(
            "input[{}] is an empty list of token ids",
            index
        ))),
        _ => Err(CoreError::invalid_request(format!(
            "input[{}] must be a string or a list of token ids",
            index
        ))),
    }
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
    /// For an embedding call: how many of the call's inputs, from the start, this request carries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<usize>,
    /// For an embedding call: the most inputs one request to this provider and model may carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_inputs: Option<usize>,
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
            inputs: None,
            max_inputs: None,
            context: String::new(),
            body,
        }
    }

    pub fn post_json(url: String, body: &Map<String, Value>, stream: bool) -> Self {
        // Serializing plain data to a Vec cannot fail.
        Self::post(url, serde_json::to_vec(body).unwrap_or_default(), stream)
    }

    /// An embedding request that carries `inputs` of the call's inputs, of at most `max`.
    pub fn carrying(mut self, inputs: usize, max: usize) -> Self {
        self.inputs = Some(inputs);
        self.max_inputs = Some(max);
        self
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
    /// For an embedding call: how many vectors the answer must hold (0: not checked).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub inputs: usize,
    /// For an embedding call: the length every vector must have, where the caller asked one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u64>,
    /// For an embedding call: the caller asked for base64, so vectors that come as numbers are
    /// written as base64 of little-endian float32, as OpenAI sends them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub base64: bool,
    /// For a Responses call answered through a chat API: the request's fields that a response
    /// object repeats (`instructions`, `tools`, `tool_choice`, `temperature`, ...), as an object.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub echo: Value,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
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
