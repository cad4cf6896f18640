//! Azure OpenAI: OpenAI chat completions at a deployment URL, with an `api-version` query and
//! an `api-key` header. Answers and chunks are OpenAI's, passed through as sent, except the
//! chunks that carry only content-filter results (see [`translator`]). Embeddings are
//! OpenAI's too, at the deployment's `/embeddings`.

use serde_json::{json, Map, Value};

use super::openai::{self, item, Item};
use super::url::{join_query, path_segments, setting, split_query};
use super::vectors::Row;
use crate::call::{Call, Context, HttpRequest};
use crate::error::CoreError;
use crate::sse::Event;
use crate::translate::{cut_short, Chunks, Translate};

/// The newest generally available data-plane API version when this was written.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

pub fn build_request(call: Call) -> Result<HttpRequest, CoreError> {
    let url = url(&call, "/chat/completions")?;
    let stream = call.stream;
    let (body, slot) = openai::body(call);
    let mut request = HttpRequest::post(url, body, stream);
    request.messages_slot = slot;
    Ok(request)
}

pub fn build_embedding(
    call: Call,
    row: Row,
    context: &mut Context,
) -> Result<HttpRequest, CoreError> {
    let url = url(&call, "/embeddings")?;
    let (body, inputs) = openai::embedding_body(call, row, context)?;
    Ok(HttpRequest::post_json(url, &body, false).carrying(inputs, row.max_inputs))
}

/// The deployment's URL for `endpoint` (`/chat/completions`), with the API version; a base that
/// already ends in the endpoint is the whole URL.
fn url(call: &Call, endpoint: &str) -> Result<String, CoreError> {
    let version = call
        .api_version
        .clone()
        .or_else(|| call.env.get("AZURE_API_VERSION").cloned())
        .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
    setting("AZURE_API_VERSION", &version)?;
    let (base, query) = split_query(&call.base_url);
    let base = base.trim_end_matches('/');
    let url = if base.ends_with(endpoint) {
        base.to_string()
    } else {
        let resource = base.strip_suffix("/openai").unwrap_or(base);
        format!(
            "{}/openai/deployments/{}{}",
            resource,
            path_segments(&call.model)?,
            endpoint
        )
    };
    Ok(join_query(
        format!("{}?api-version={}", url, version),
        query,
    ))
}

/// Azure's stream reader. Azure sends some chunks with only content-filter results and no
/// identity: `"object": ""`, an empty `id` and `model`, `created` 0 (the first chunk of every
/// stream holds the prompt's filter results; asynchronous filtering adds more later), which
/// the openai SDK's own `ChatCompletionChunk` type refuses. Those are given the stream's
/// identity, the `id`, `model` and `created` of its ordinary chunks: a chunk that comes before
/// any ordinary one waits for the first, or, if none comes, takes the context's model and
/// time. Their filter results are kept. Ordinary chunks pass through as sent, as OpenAI's do
/// (`shape.rs` says what is completed or left out).
pub fn translator(context: &Context) -> Box<dyn Translate> {
    Box::new(StreamTranslator {
        max_depth: context.limits.max_depth,
        identity: None,
        waiting: Vec::new(),
        fallback: [
            json!(context.invented_id(|| "chatcmpl-azure".to_string())),
            json!(context.model),
            json!(context.created),
        ],
    })
}

/// The members that identify a chunk.
const IDENTITY: [&str; 3] = ["id", "model", "created"];

struct StreamTranslator {
    max_depth: usize,
    /// `id`, `model` and `created` of the stream's first ordinary chunk.
    identity: Option<[Value; 3]>,
    /// Chunks without identity that came before any ordinary chunk.
    waiting: Vec<Map<String, Value>>,
    fallback: [Value; 3],
}

impl StreamTranslator {
    /// Sends the waiting chunks with `identity`.
    fn flush(&mut self, identity: &[Value; 3], out: &mut Chunks) {
        for chunk in self.waiting.drain(..) {
            out.push_chunk(Value::Object(identified(chunk, identity)));
        }
    }
}

/// `chunk` with every empty identity member filled from `identity`.
fn identified(mut chunk: Map<String, Value>, identity: &[Value; 3]) -> Map<String, Value> {
    for (name, value) in IDENTITY.iter().zip(identity) {
        if is_empty(chunk.get(*name)) {
            chunk.insert(name.to_string(), value.clone());
        }
    }
    chunk.insert("object".into(), json!("chat.completion.chunk"));
    chunk
}

fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.is_empty(),
        Some(Value::Number(number)) => number.as_i64() == Some(0),
        Some(_) => false,
    }
}

impl Translate for StreamTranslator {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        let (chunk, glance) = match item(&event, self.max_depth) {
            Ok(Item::Chunk(chunk, glance)) => (chunk, glance),
            Ok(Item::Done) => {
                let fallback = self.fallback.clone();
                self.flush(&fallback, out);
                return Ok(true);
            }
            Err(error) => {
                let fallback = self.fallback.clone();
                self.flush(&fallback, out);
                return Err(error);
            }
        };
        // The fast path: an ordinary chunk names its object, and passes through as sent.
        if chunk.contains("\"chat.completion.chunk\"") && self.identity.is_some() {
            out.push_chunk_text(chunk, glance);
            return Ok(false);
        }
        let parsed = match serde_json::from_str(chunk) {
            Ok(Value::Object(parsed)) => parsed,
            _ => {
                out.push_raw(chunk); // the host's parser decides, as for any chunk
                return Ok(false);
            }
        };
        let object = parsed.get("object");
        if !is_empty(object) {
            if self.identity.is_none() {
                let identity =
                    IDENTITY.map(|name| parsed.get(name).cloned().unwrap_or(Value::Null));
                self.flush(&identity, out);
                self.identity = Some(identity);
            }
            out.push_chunk_text(chunk, glance);
        } else if let Some(identity) = &self.identity {
            out.push_chunk(Value::Object(identified(parsed, identity)));
        } else {
            self.waiting.push(parsed);
        }
        Ok(false)
    }

    fn end(&mut self, out: &mut Chunks) -> Option<CoreError> {
        let fallback = self.fallback.clone();
        self.flush(&fallback, out);
        Some(cut_short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing;

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

    const FILTER: &str = r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}"#;
    const ROLE: &str = r#"{"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}],"created":1730000000,"id":"chatcmpl-A1","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk","system_fingerprint":"fp_1"}"#;
    const TEXT: &str = r#"{"choices":[{"delta":{"content":"Hi"},"finish_reason":null,"index":0}],"created":1730000000,"id":"chatcmpl-A1","model":"gpt-4o-2024-08-06","object":"chat.completion.chunk"}"#;
    const LATE_FILTER: &str = r#"{"choices":[{"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":2},"content_filter_results":{},"index":0}],"created":0,"id":"","model":"","object":""}"#;

    fn decode(pieces: &[&str]) -> (Vec<Value>, Value) {
        let context = serde_json::to_string(&testing::context("azure", "my-gpt4o")).unwrap();
        let mut stream = crate::open_stream(context.as_bytes()).unwrap();
        let mut chunks = Vec::new();
        for piece in pieces {
            let batch: Value = serde_json::from_str(&stream.feed(piece.as_bytes())).unwrap();
            chunks.extend(batch["chunks"].as_array().unwrap().clone());
        }
        let end: Value = serde_json::from_str(&stream.finish()).unwrap();
        chunks.extend(end["chunks"].as_array().unwrap().clone());
        (chunks, end)
    }

    fn sse(chunks: &[&str]) -> String {
        chunks.iter().map(|c| format!("data: {}\n\n", c)).collect()
    }

    #[test]
    fn filter_chunks_get_the_streams_identity() {
        let body = sse(&[FILTER, ROLE, TEXT, LATE_FILTER, "[DONE]"]);
        let (chunks, _) = decode(&[&body]);
        assert_eq!(chunks.len(), 4);
        for chunk in &chunks {
            assert_eq!(chunk["object"], "chat.completion.chunk");
            assert_eq!(chunk["id"], "chatcmpl-A1");
            assert_eq!(chunk["model"], "gpt-4o-2024-08-06");
            assert_eq!(chunk["created"], 1730000000);
        }
        let filter: Value = serde_json::from_str(FILTER).unwrap();
        assert_eq!(
            chunks[0]["prompt_filter_results"],
            filter["prompt_filter_results"]
        );
        assert_eq!(chunks[0]["choices"], json!([]));
        assert!(chunks[3]["choices"][0]["content_filter_offsets"].is_object());
        // The first filter chunk waits for the first ordinary one, in the same batch or a later.
        let (first, _) = decode(&[&sse(&[FILTER]), &sse(&[ROLE, TEXT]), "data: [DONE]\n\n"]);
        assert_eq!(first, chunks[..3].to_vec());
        let cut = body.len() / 3;
        assert_eq!(decode(&[&body[..cut], &body[cut..]]).0, chunks);
    }

    #[test]
    fn ordinary_chunks_pass_through_as_sent() {
        let mut translator = translator(&testing::context("azure", "my-gpt4o"));
        let mut out = Chunks::default();
        for data in [ROLE, TEXT] {
            let event = Event {
                event_type: "message".into(),
                data: data.into(),
                id: String::new(),
            };
            translator.event(event, &mut out).unwrap();
        }
        assert_eq!(out.take_array(), format!("[{},{}]", ROLE, TEXT));
    }

    #[test]
    fn tool_call_fragments_get_every_key_and_empty_chunks_are_left_out() {
        let chunk = |delta: &str, finish: &str| {
            format!(
                r#"{{"choices":[{{"content_filter_results":{{}},"delta":{},"finish_reason":{},"index":0,"logprobs":null}}],"created":1730000000,"id":"chatcmpl-A1","model":"gpt-4o","object":"chat.completion.chunk"}}"#,
                delta, finish
            )
        };
        let first = r#"{"tool_calls":[{"function":{"arguments":"","name":"f"},"id":"call_1","index":0,"type":"function"}]}"#;
        let later = r#"{"tool_calls":[{"function":{"arguments":"{}"},"index":0}]}"#;
        let body = sse(&[
            FILTER,
            &chunk(r#"{"role":"assistant","content":null}"#, "null"),
            &chunk("{}", "null"),
            &chunk(first, "null"),
            &chunk(later, "null"),
            &chunk(r#"{"content":""}"#, "null"),
            &chunk("{}", r#""tool_calls""#),
            "[DONE]",
        ]);
        let (chunks, _) = decode(&[&body]);
        let fragments = testing::assert_litellm_shaped(&chunks);
        // The filter results, the role, two fragments, the finish.
        assert_eq!(chunks.len(), 5);
        assert!(chunks[0]["prompt_filter_results"].is_array());
        assert_eq!(
            fragments[1],
            json!({"index": 0, "id": null, "type": "function", "function": {"name": null, "arguments": "{}"}})
        );
        assert_eq!(chunks[4]["choices"][0]["finish_reason"], "tool_calls");
    }

    #[test]
    fn a_stream_of_filter_results_only_takes_the_contexts_identity() {
        let (chunks, end) = decode(&[&sse(&[FILTER])]);
        assert_eq!(end["error"]["kind"], "stream_incomplete");
        assert_eq!(chunks.len(), 1);
        assert_eq!(
            (
                &chunks[0]["object"],
                &chunks[0]["model"],
                &chunks[0]["created"]
            ),
            (
                &json!("chat.completion.chunk"),
                &json!("my-gpt4o"),
                &json!(1700000000)
            )
        );
        assert_eq!(chunks[0]["id"], "chatcmpl-azure");
    }
}
