//! OpenAI chat completions, spoken by OpenAI and every OpenAI-compatible provider. Requests are
//! assembled from the caller's fields as given; answers and chunks pass through as sent, but for
//! two things LiteLLM's users rely on: chunks' tool-call fragments are completed, and chunks that
//! carry nothing are left out (`shape.rs`).
//!
//! Also OpenAI's embeddings (`/embeddings`), as each row's [`Row`] says it takes them; their
//! answers are read into OpenAI's shape, bare lists too (llama.cpp's own routes send
//! `[{"index": 0, "embedding": [...]}]` or `[[...], ...]`).

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::url::{endpoint, join_query, split_query};
use super::vectors::{self, no_dimensions, Row};
use crate::call::{Call, Context, HttpRequest};
use crate::error::{api_error, error_in_success, CoreError};
use crate::limits::{scan_object, scan_object_with, ProbeError, Scan};
use crate::shape::Glance;
use crate::sse::Event;
use crate::translate::{Chunks, Translate};

pub fn build_request(call: Call) -> Result<HttpRequest, CoreError> {
    let url = endpoint(&call.base_url, "/chat/completions");
    let stream = call.stream;
    let (body, slot) = body(call);
    let mut request = HttpRequest::post(url, body, stream);
    request.messages_slot = slot;
    Ok(request)
}

/// The request body: the model, the messages, then the caller's fields as given and
/// `additional_params` last, their keys winning. Also where the caller's messages lie in it
/// (the head's `messages_slot`), unless a field replaced them.
pub fn body(call: Call) -> (Vec<u8>, Option<(usize, usize)>) {
    let mut rest = call.params;
    if call.stream {
        rest.insert("stream".into(), Value::Bool(true));
    }
    rest.extend(call.additional_params);
    let model = rest.remove("model").unwrap_or(Value::String(call.model));
    let (messages, given) = match rest.remove("messages") {
        Some(replaced) => (replaced, false),
        None => (call.messages, true),
    };
    // Written member by member, as serde_json writes the same map, to know where the
    // messages are without a second pass.
    let mut body = b"{\"model\":".to_vec();
    write(&mut body, &model);
    body.extend_from_slice(b",\"messages\":");
    let start = body.len();
    write(&mut body, &messages);
    let end = body.len();
    for (name, value) in &rest {
        body.push(b',');
        write(&mut body, name);
        body.push(b':');
        write(&mut body, value);
    }
    body.push(b'}');
    (body, if given { Some((start, end)) } else { None })
}

fn write<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing plain data to a Vec cannot fail.
    let _ = serde_json::to_writer(out, value);
}

/// An embeddings request, as `row` says the provider takes it.
pub fn build_embedding(
    call: Call,
    row: Row,
    context: &mut Context,
) -> Result<HttpRequest, CoreError> {
    let url = embeddings_url(&call.base_url);
    let (body, inputs) = embedding_body(call, row, context)?;
    Ok(HttpRequest::post_json(url, &body, false).carrying(inputs, row.max_inputs))
}

/// `/embeddings` under the base; a base that names chat completions is taken as the API's base.
fn embeddings_url(base: &str) -> String {
    let (path, query) = split_query(base);
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix("/chat/completions").unwrap_or(path);
    endpoint(&join_query(path.to_string(), query), "/embeddings")
}

/// The body of an embeddings request (also Azure's), with the number of inputs it carries: the
/// model, the first `row.max_inputs` inputs, `dimensions` in the row's field, base64 where the
/// row honours it, `input_type` in the row's words, then the caller's other fields and
/// `additional_params`, whose keys win (`prepare` has left out null fields).
pub fn embedding_body(
    mut call: Call,
    row: Row,
    context: &mut Context,
) -> Result<(Map<String, Value>, usize), CoreError> {
    let mut embedding = std::mem::take(&mut call.embedding);
    let inputs = embedding.keep(row.max_inputs);
    let input = if row.token_ids {
        serde_json::to_value(&embedding.input).unwrap_or_default()
    } else {
        Value::from(vectors::texts(embedding.input, call.provider)?)
    };
    let mut rest = call.params;
    rest.extend(call.additional_params);
    let mut body = Map::new();
    body.insert(
        "model".into(),
        rest.remove("model").unwrap_or(Value::String(call.model)),
    );
    body.insert("input".into(), input);
    if let Some(dimensions) = embedding.dimensions {
        let model = body["model"].as_str().unwrap_or("");
        if model.starts_with("text-embedding-ada") {
            if !call.drop_params {
                let which = "cannot shorten its vectors (text-embedding-3 and later can)";
                return Err(no_dimensions(call.provider, model, which));
            }
            context.dimensions = None;
        } else {
            body.insert(row.dimensions.into(), dimensions.into());
        }
    }
    // Vectors of bits hold a dimension per bit; numbers of another type are not float32.
    let dtype = rest.get("output_dtype").and_then(Value::as_str);
    if matches!(dtype, Some("binary") | Some("ubinary")) {
        context.dimensions = None;
    }
    if row.base64 && dtype.map_or(true, |dtype| dtype == "float") {
        body.insert("encoding_format".into(), "base64".into());
    }
    if let Some(kind) = row.input_type.spell(embedding.input_type.as_deref()) {
        body.insert("input_type".into(), kind.into());
    }
    body.extend(rest);
    Ok((body, inputs))
}

/// An OpenAI embeddings answer: a list object of `T` items or, from llama.cpp's own routes, a
/// bare list.
#[derive(Deserialize)]
struct List<'a, T> {
    data: Vec<T>,
    #[serde(default)]
    model: Value,
    #[serde(default)]
    usage: Value,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// One of `data`'s items.
#[derive(Deserialize)]
struct Data<'a> {
    #[serde(default)]
    index: Option<usize>,
    #[serde(borrow)]
    embedding: &'a RawValue,
}

pub fn parse_embeddings(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    let answer = match openai_shape(status, body) {
        Some(answer) => answer,
        None => any_shape(context, status, body)?,
    };
    vectors::reported(answer.error, status, body)?;
    let mut ordered = vec![None; answer.data.len()];
    for (position, item) in answer.data.iter().enumerate() {
        let index = item.index.unwrap_or(position);
        match ordered.get_mut(index) {
            Some(slot @ None) => *slot = Some(single(item.embedding)?),
            _ => {
                return Err(CoreError::invalid_response(format!(
                    "the provider's answer numbers its vectors wrong: index {} among {}",
                    index,
                    ordered.len()
                )))
            }
        }
    }
    let vectors: Vec<&RawValue> = ordered.into_iter().flatten().collect();
    let count = |name: &str| answer.usage.get(name).and_then(Value::as_u64);
    vectors::answer(
        context,
        &vectors,
        answer.model.as_str(),
        count("prompt_tokens"),
        count("total_tokens"),
    )
}

/// A success answer in OpenAI's own shape (a list object of embedding objects), read in one
/// pass that builds nothing but the list; `None` for anything else, which [`any_shape`] reads.
fn openai_shape(status: u16, body: &[u8]) -> Option<List<'_, Data<'_>>> {
    if !(200..300).contains(&status) {
        return None;
    }
    serde_json::from_str(std::str::from_utf8(body).ok()?).ok()
}

/// Any answer: OpenAI's shape, a list object whose items are bare vectors, or a bare list (of
/// embedding objects or of vectors); errors and answers that are none of these refused with
/// what is wrong. Each item is read again: slower than [`openai_shape`], which is why that
/// comes first.
fn any_shape<'a>(
    context: &Context,
    status: u16,
    body: &'a [u8],
) -> Result<List<'a, Data<'a>>, CoreError> {
    let bare = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let answer: List<&RawValue> = if bare {
        List {
            data: vectors::read(context, status, body)?,
            model: Value::Null,
            usage: Value::Null,
            error: None,
        }
    } else {
        vectors::read(context, status, body)?
    };
    vectors::reported(answer.error, status, body)?;
    let data = answer
        .data
        .into_iter()
        .map(|item| match item.get().as_bytes().first() {
            Some(b'{') => vectors::parse(item.get()),
            _ => Ok(Data {
                index: None,
                embedding: item,
            }),
        })
        .collect::<Result<_, _>>()?;
    Ok(List {
        data,
        model: answer.model,
        usage: answer.usage,
        error: answer.error,
    })
}

/// A vector that llama.cpp's own routes wrap in a list of one (`[[...]]`), unwrapped; a list
/// of several is one vector per token, which is not an embedding of the input.
fn single(vector: &RawValue) -> Result<&RawValue, CoreError> {
    let text = vector.get();
    if !text.starts_with('[') || !text[1..].trim_start().starts_with('[') {
        return Ok(vector);
    }
    let inner: Vec<&RawValue> = vectors::parse(text)?;
    match inner.as_slice() {
        [one] => Ok(one),
        _ => Err(CoreError::invalid_response(
            "the provider sent a vector per token, not one per input: start the server with pooling (llama.cpp: --pooling mean)",
        )),
    }
}

/// The error for an answer or chunk that `scan_object` refused.
pub fn refused(error: ProbeError, what: &str) -> CoreError {
    match error {
        ProbeError::NotAnObject => {
            CoreError::invalid_response(format!("the provider's {} is not a JSON object", what))
        }
        ProbeError::Unbalanced => CoreError::invalid_response(format!(
            "the provider's {} is not valid JSON: it is cut short or has text after it",
            what
        )),
        ProbeError::Limit(error) => error,
    }
}

pub fn parse_response(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    if !(200..300).contains(&status) {
        return Err(api_error(Some(status), body));
    }
    // A scan, as for stream chunks: the host parses the answer and decides what is valid JSON.
    match scan_object(body, context.limits.max_depth) {
        Ok(Scan::Chunk) => {}
        Ok(Scan::Error) => return Err(error_in_success(status, body)),
        Err(error) => return Err(refused(error, "answer")),
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| CoreError::invalid_response("the provider's answer is not UTF-8"))
}

pub fn translator(context: &Context) -> Box<dyn Translate> {
    Box::new(StreamTranslator {
        max_depth: context.limits.max_depth,
    })
}

/// What one event of an OpenAI stream is.
pub enum Item<'a> {
    /// A chunk, as JSON text the host parses (checked by a scan, not parsed here), and what
    /// the scan saw of its shape.
    Chunk(&'a str, Glance),
    /// `[DONE]`, the end of the stream.
    Done,
}

/// Reads one event of an OpenAI stream: a chunk, the end, or the error it reports.
pub fn item(event: &Event, max_depth: usize) -> Result<Item<'_>, CoreError> {
    let data = event.data.trim();
    if data == "[DONE]" {
        return Ok(Item::Done);
    }
    if event.event_type == "error" {
        return Err(api_error(None, data.as_bytes()));
    }
    // A scan, not a parse: the host parses the chunk, once (see `scan_object`).
    let mut glance = Glance::default();
    match scan_object_with(data.as_bytes(), max_depth, &mut glance) {
        Ok(Scan::Chunk) => Ok(Item::Chunk(data, glance)),
        Ok(Scan::Error) => Err(api_error(None, data.as_bytes())),
        Err(error) => Err(refused(error, "stream chunk")),
    }
}

pub struct StreamTranslator {
    pub max_depth: usize,
}

impl Translate for StreamTranslator {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        match item(&event, self.max_depth)? {
            Item::Chunk(chunk, glance) => out.push_chunk_text(chunk, glance),
            Item::Done => return Ok(true),
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use serde_json::json;

    fn parse(status: u16, body: &[u8]) -> Result<String, CoreError> {
        let context = crate::parse_context(br#"{"protocol": "openai"}"#).unwrap();
        parse_response(&context, status, body)
    }

    #[test]
    fn answers_pass_through_unchanged() {
        let body = br#"{"id": "x", "choices": [{"message": {"content": "hi"}}], "error": null}"#;
        assert_eq!(parse(200, body).unwrap().as_bytes(), &body[..]);
    }

    #[test]
    fn error_status_and_error_bodies() {
        let body = br#"{"error": {"message": "slow down", "type": "requests"}}"#;
        let error = parse(429, body).unwrap_err();
        assert_eq!((error.kind, error.status), (ErrorKind::ApiError, Some(429)));
        let error = parse(200, br#"{"error": {"message": "hidden"}}"#).unwrap_err();
        assert_eq!(error.message, "hidden");
    }

    #[test]
    fn malformed_answers_are_invalid_responses() {
        for body in [&b"[1, 2]"[..], b"", b"{\"a\": ", b"<html>"] {
            let error = parse(200, body).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidResponse, "{:?}", body);
        }
    }

    #[test]
    fn stream_events() {
        let mut translator = StreamTranslator { max_depth: 64 };
        let mut out = Chunks::default();
        let event = |data: &str| Event {
            event_type: "message".into(),
            data: data.into(),
            id: String::new(),
        };
        assert!(!translator.event(event(r#"{"a": 1}"#), &mut out).unwrap());
        assert!(translator.event(event("[DONE]"), &mut out).unwrap());
        let error = translator
            .event(
                event(r#"{"error": {"message": "boom", "type": "server_error"}}"#),
                &mut out,
            )
            .unwrap_err();
        assert_eq!((error.status, error.message.as_str()), (Some(500), "boom"));
    }

    /// A chunk of an OpenAI stream with one choice.
    fn chunk(delta: Value, finish: Value) -> Value {
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "system_fingerprint": "fp", "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    }

    #[test]
    fn parallel_tool_call_fragments_get_every_key_and_empty_chunks_are_left_out() {
        use crate::providers::testing;
        let call = |index: u64, id: &str, name: &str| json!({"tool_calls": [{"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]});
        let more = |index: u64, arguments: &str| json!({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]});
        let events = [
            chunk(
                json!({"role": "assistant", "content": null, "refusal": null}),
                Value::Null,
            ),
            chunk(json!({}), Value::Null),
            chunk(call(0, "call_a", "weather"), Value::Null),
            chunk(more(0, "{\"city\": "), Value::Null),
            chunk(json!({"content": null}), Value::Null),
            chunk(more(0, "\"Paris\"}"), Value::Null),
            chunk(call(1, "call_b", "time"), Value::Null),
            chunk(more(1, "{}"), Value::Null),
            chunk(json!({"content": ""}), Value::Null),
            chunk(json!({}), json!("tool_calls")),
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [], "usage": {"total_tokens": 3}}),
        ];
        let mut body = testing::sse(&events);
        body.extend_from_slice(b"data: [DONE]\n\n");
        let (chunks, error) = testing::read_stream(&testing::context("openai", "m"), &body);
        assert_eq!(error, Value::Null);
        let fragments = testing::assert_litellm_shaped(&chunks);
        assert_eq!(chunks.len(), 8);
        assert_eq!(
            fragments,
            [
                json!({"index": 0, "id": "call_a", "type": "function", "function": {"name": "weather", "arguments": ""}}),
                json!({"index": 0, "id": null, "type": "function", "function": {"name": null, "arguments": "{\"city\": "}}),
                json!({"index": 0, "id": null, "type": "function", "function": {"name": null, "arguments": "\"Paris\"}"}}),
                json!({"index": 1, "id": "call_b", "type": "function", "function": {"name": "time", "arguments": ""}}),
                json!({"index": 1, "id": null, "type": "function", "function": {"name": null, "arguments": "{}"}}),
            ]
        );
        // Only the fragments changed: every other member is as sent.
        let mut sent = events[3].clone();
        sent["choices"][0]["delta"] = json!({"tool_calls": [fragments[1]]});
        assert_eq!(chunks[2], sent);
        assert_eq!(chunks[6]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(chunks[7]["usage"]["total_tokens"], 3);
    }

    #[test]
    fn chunks_that_need_nothing_pass_through_byte_for_byte() {
        let mut translator = StreamTranslator { max_depth: 64 };
        let text = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi \u00e9"},"logprobs":null,"finish_reason":null}],"obfuscation":"x"}"#;
        let mut out = Chunks::default();
        let event = Event {
            event_type: "message".into(),
            data: text.into(),
            id: String::new(),
        };
        translator.event(event, &mut out).unwrap();
        assert_eq!(out.take_array(), format!("[{}]", text));
    }

    #[test]
    fn bodies_are_written_as_serde_writes_them_with_the_messages_slot() {
        use crate::providers::testing;
        let messages = json!([{"role": "user", "content": "h\u{e9} \"x\""}]);
        let mut call = testing::call(
            "openai",
            "m",
            messages.clone(),
            json!({"temperature": 0.5, "stream": false}),
        );
        call.stream = true;
        call.additional_params = json!({"seed": 1, "model": "n"})
            .as_object()
            .cloned()
            .unwrap();
        let (body, slot) = body(call);
        let expected = json!({"model": "n", "messages": messages, "temperature": 0.5, "stream": true, "seed": 1});
        assert_eq!(body, serde_json::to_vec(&expected).unwrap());
        let (start, end) = slot.unwrap();
        assert_eq!(body[start..end], serde_json::to_vec(&messages).unwrap()[..]);
        let mut call = testing::call("openai", "m", messages, json!({}));
        call.additional_params = json!({"messages": []}).as_object().cloned().unwrap();
        let (body, slot) = super::body(call);
        assert_eq!(slot, None);
        assert_eq!(body, br#"{"model":"m","messages":[]}"#);
    }
}
