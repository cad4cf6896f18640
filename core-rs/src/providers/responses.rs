//! OpenAI's Responses API (`/responses`), spoken by OpenAI, Azure's v1 API and the
//! OpenAI-compatible servers that have it. Requests are assembled from the caller's fields as
//! given; a response object and its stream events pass through as sent, checked by a scan.
//! Stored responses are read, deleted, cancelled and listed here too.
//!
//! Which models answer only here is also this file's (see [`answers_only_there`]): a chat call
//! to one is sent here, its request and answer translated by `chat_via_responses.rs`.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::openai::refused;
use super::url::{endpoint, join_query, setting, split_query};
use crate::call::{Action, Call, Context, HttpRequest, Stored};
use crate::error::{api_error, error_in_success, CoreError, ErrorKind};
use crate::limits::{scan_object, Scan};
use crate::sse::Event;
use crate::translate::{Chunks, Translate};

/// OpenAI's models that answer only through the Responses API (a chat call to them fails with
/// "This model is only supported in v1/responses"), by the start of their names.
const RESPONSES_ONLY: &[&str] = &[
    "o1-pro",
    "o3-pro",
    "o3-deep-research",
    "o4-mini-deep-research",
    "codex-mini",
    "gpt-5-codex",
    "gpt-5.1-codex",
    "gpt-5-pro",
    "gpt-5.2-pro",
    "computer-use-preview",
];

/// Whether `model` answers only through the Responses API.
pub fn answers_only_there(model: &str) -> bool {
    RESPONSES_ONLY.iter().any(|start| model.starts_with(start))
}

/// The longest id of a stored response taken (OpenAI's are `resp_` and 50 hex digits).
const MAX_ID: usize = 128;

/// A Responses request, with the body `body` writes for `call`, at OpenAI's or (`azure`)
/// Azure's v1 URL; or, for a stored response, the request its action makes.
pub fn build_request(
    azure: bool,
    call: Call,
    body: fn(Call) -> Result<Map<String, Value>, CoreError>,
) -> Result<HttpRequest, CoreError> {
    let base = base(azure, &call)?;
    if let Some(stored) = call.stored.clone() {
        return stored_request(&base, &stored, call);
    }
    let stream = call.stream;
    Ok(HttpRequest::post_json(
        endpoint(&base, "/responses"),
        &body(call)?,
        stream,
    ))
}

/// The API's base: the caller's for OpenAI and the compatible servers (a base that names chat
/// completions is taken as the API's base, as for embeddings). For Azure, `<resource>/openai/v1`,
/// whose v1 API takes the deployment name as the model and no `api-version` but `preview` or
/// `latest`; a dated version the caller gives (`2025-03-01-preview`) is the older API's, at
/// `<resource>/openai` with that `api-version`, which the v1 path refuses.
fn base(azure: bool, call: &Call) -> Result<String, CoreError> {
    let (path, query) = split_query(&call.base_url);
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix("/chat/completions").unwrap_or(path);
    let path = path.strip_suffix("/responses").unwrap_or(path);
    if !azure {
        return Ok(join_query(path.to_string(), query));
    }
    let resource = path.strip_suffix("/openai/v1").unwrap_or(path);
    let resource = resource.strip_suffix("/openai").unwrap_or(resource);
    let version = match &call.api_version {
        Some(version) => Some(setting("AZURE_API_VERSION", version)?),
        None => None,
    };
    let root = match version {
        Some(dated) if dated != "preview" && dated != "latest" => "/openai",
        _ => "/openai/v1",
    };
    let mut url = join_query(format!("{}{}", resource, root), query);
    if let Some(version) = version {
        let separator = if url.contains('?') { '&' } else { '?' };
        url = format!("{}{}api-version={}", url, separator, version);
    }
    Ok(url)
}

/// The body of a new response: the model, the input, the caller's fields as given, `stream`,
/// and `additional_params` last, their keys winning.
pub fn body(call: Call) -> Result<Map<String, Value>, CoreError> {
    let mut body = Map::new();
    body.insert("model".into(), Value::String(call.model));
    body.insert("input".into(), call.messages);
    body.extend(call.params);
    if call.stream {
        body.insert("stream".into(), Value::Bool(true));
    }
    body.extend(call.additional_params);
    Ok(body)
}

/// The request for an action on a stored response. Its id is checked (letters, digits, `_`
/// and `-`), so it can only name a response, never another path.
fn stored_request(base: &str, stored: &Stored, call: Call) -> Result<HttpRequest, CoreError> {
    let id = &stored.id;
    if id.is_empty()
        || id.len() > MAX_ID
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(CoreError::invalid_request(format!(
            "a response id is at most {} letters, digits, '_' and '-' (like \"resp_abc123\")",
            MAX_ID
        )));
    }
    // Each action's query parameters, as OpenAI documents them.
    let (path, method, takes): (String, &'static str, &[&str]) = match stored.action {
        Action::Get => (
            format!("/responses/{}", id),
            "GET",
            &["include", "include_obfuscation", "starting_after"],
        ),
        Action::Delete => (format!("/responses/{}", id), "DELETE", &[]),
        Action::Cancel => (format!("/responses/{}/cancel", id), "POST", &[]),
        Action::InputItems => (
            format!("/responses/{}/input_items", id),
            "GET",
            &["after", "limit", "order", "include"],
        ),
    };
    let unknown: Vec<&str> = call
        .params
        .iter()
        .filter(|(name, value)| !value.is_null() && !takes.contains(&name.as_str()))
        .map(|(name, _)| name.as_str())
        .collect();
    if !unknown.is_empty() {
        return Err(CoreError::invalid_request(format!(
            "this call on a stored response takes {}, not {}",
            if takes.is_empty() {
                "no options".to_string()
            } else {
                takes.join(", ")
            },
            unknown.join(", ")
        )));
    }
    let mut url = endpoint(base, &path);
    let mut query = Vec::new();
    let mut params = call.params;
    // additional_params: query parameters ritellm does not know yet, sent as given.
    params.extend(call.additional_params);
    for (name, value) in params {
        if value.is_null() {
            continue;
        }
        let values = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for value in values {
            let text = match &value {
                Value::String(text) => text.clone(),
                Value::Number(n) => n.to_string(),
                _ => {
                    return Err(CoreError::invalid_request(format!(
                        "{} must be a string or a number",
                        name
                    )))
                }
            };
            let key = if name == "include" {
                "include[]"
            } else {
                &name
            };
            query.push(format!(
                "{}={}",
                super::url::query_part(key),
                super::url::query_part(&text)
            ));
        }
    }
    if !query.is_empty() {
        let separator = if url.contains('?') { '&' } else { '?' };
        url = format!("{}{}{}", url, separator, query.join("&"));
    }
    let mut request = HttpRequest::post(url, Vec::new(), false);
    request.method = method;
    if method != "POST" {
        request.headers.remove("content-type");
    }
    Ok(request)
}

/// A complete answer: a response object (or a stored response's list or deletion) passed
/// through after a scan; an error answer as its typed error.
pub fn parse_response(context: &Context, status: u16, body: &[u8]) -> Result<String, CoreError> {
    if !(200..300).contains(&status) {
        return Err(api_error(Some(status), body));
    }
    match scan_object(body, context.limits.max_depth) {
        Ok(Scan::Chunk) => {}
        // A failed response has its `error` at the top level: an answer, as the SDK takes it.
        Ok(Scan::Error) if is_response(body) => {}
        Ok(Scan::Error) => return Err(error_in_success(status, body)),
        Err(error) => return Err(refused(error, "answer")),
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| CoreError::invalid_response("the provider's answer is not UTF-8"))
}

/// Whether an answer is a response object (`"object": "response"`).
fn is_response(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Object<'a> {
        #[serde(borrow, default)]
        object: Option<std::borrow::Cow<'a, str>>,
    }
    serde_json::from_slice::<Object>(body)
        .ok()
        .and_then(|answer| answer.object)
        .map_or(false, |object| object == "response")
}

pub fn translator(context: &Context) -> Box<dyn Translate> {
    Box::new(EventTranslator {
        max_depth: context.limits.max_depth,
        error: None,
    })
}

/// The types of the events that end a response's stream.
const TERMINAL: &[&str] = &[
    "response.completed",
    "response.failed",
    "response.incomplete",
];

/// What an event's JSON says it is, where the SSE event carries no name.
#[derive(Deserialize)]
struct Typed<'a> {
    #[serde(borrow, default, rename = "type")]
    kind: Option<std::borrow::Cow<'a, str>>,
}

/// The type of a Responses stream event: its SSE name, which OpenAI sends, else its `type`.
pub fn event_type<'a>(event: &'a Event) -> std::borrow::Cow<'a, str> {
    if !event.event_type.is_empty() && event.event_type != "message" {
        return std::borrow::Cow::Borrowed(&event.event_type);
    }
    serde_json::from_str::<Typed>(&event.data)
        .ok()
        .and_then(|typed| typed.kind)
        .unwrap_or_default()
}

/// The error an `error` event reports (`{"type": "error", "code", "message", "param"}`), typed
/// by its code as the same error in an HTTP answer would be.
pub fn event_error(data: &str) -> CoreError {
    let mut error = api_error(None, data.as_bytes());
    if error.error_type.as_deref() == Some("error") {
        error.error_type = None;
    }
    if error.status.is_none() {
        let code = error.code.as_deref().unwrap_or("");
        error.status = Some(match code {
            "rate_limit_exceeded" => 429,
            "invalid_prompt" | "invalid_request_error" | "context_length_exceeded" => 400,
            _ => 500,
        });
        error.kind = ErrorKind::ApiError;
        let reclassified = api_error(error.status, data.as_bytes());
        error.kind = reclassified.kind;
    }
    error
}

/// The error for a Responses stream that ended before its response did.
pub fn unfinished() -> CoreError {
    CoreError::new(
        ErrorKind::StreamIncomplete,
        "the stream ended before the response did (no response.completed, .incomplete or .failed event)",
    )
}

/// Passes a Responses stream's events through, checked by a scan; ends at the response's
/// terminal event (completed, failed or incomplete). An `error` event passes through too, and
/// a stream that ends after one reports its error; one that ends with neither is cut short.
pub struct EventTranslator {
    max_depth: usize,
    error: Option<CoreError>,
}

impl Translate for EventTranslator {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Err(self.end(out).unwrap_or_else(unfinished));
        }
        match scan_object(data.as_bytes(), self.max_depth) {
            Ok(Scan::Chunk) => {}
            // A server that streams a failure as `{"error": {...}}` (not as an `error` event).
            Ok(Scan::Error) => return Err(api_error(None, data.as_bytes())),
            Err(error) => return Err(refused(error, "stream event")),
        }
        let kind = event_type(&event);
        out.push_raw(data);
        if kind == "error" {
            self.error = Some(event_error(data));
        }
        Ok(TERMINAL.contains(&kind.as_ref()))
    }

    fn end(&mut self, _out: &mut Chunks) -> Option<CoreError> {
        Some(self.error.take().unwrap_or_else(unfinished))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::testing;
    use serde_json::json;

    fn event(name: &str, data: Value) -> Event {
        Event {
            event_type: name.into(),
            data: data.to_string(),
            id: String::new(),
        }
    }

    #[test]
    fn responses_only_models() {
        assert!(answers_only_there("o3-pro-2025-06-10"));
        assert!(answers_only_there("gpt-5-codex"));
        assert!(!answers_only_there("gpt-5"));
        assert!(!answers_only_there("o3"));
    }

    #[test]
    fn urls_for_openai_azure_and_stored_responses() {
        let mut call = testing::call("openai", "o3-pro", json!("hi"), json!({}));
        call.base_url = "https://x/v1/chat/completions?t=1".into();
        let request = build_request(false, call, body).unwrap();
        assert_eq!(request.url, "https://x/v1/responses?t=1");
        let mut call = testing::call("azure", "dep", json!("hi"), json!({}));
        call.base_url = "https://r.openai.azure.com/openai".into();
        assert_eq!(
            build_request(true, call, body).unwrap().url,
            "https://r.openai.azure.com/openai/v1/responses"
        );
        // A dated version is the older API's, which the v1 path refuses.
        for (version, url) in [
            (
                "preview",
                "https://r.openai.azure.com/openai/v1/responses?api-version=preview",
            ),
            (
                "2025-03-01-preview",
                "https://r.openai.azure.com/openai/responses?api-version=2025-03-01-preview",
            ),
        ] {
            let mut call = testing::call("azure", "dep", json!("hi"), json!({}));
            call.base_url = "https://r.openai.azure.com".into();
            call.api_version = Some(version.into());
            assert_eq!(build_request(true, call, body).unwrap().url, url);
        }
        // Each action takes its own options, and refuses others by name.
        let mut call = testing::call(
            "openai",
            "m",
            Value::Null,
            json!({"include": ["x.y"], "limit": 2}),
        );
        call.stored = Some(Stored {
            action: Action::Get,
            id: "resp_1".into(),
        });
        let error = build_request(false, call, body).unwrap_err();
        assert_eq!(
            error.message,
            "this call on a stored response takes include, include_obfuscation, starting_after, not limit"
        );
        let mut call = testing::call("openai", "m", Value::Null, json!({"include": ["x.y"]}));
        call.stored = Some(Stored {
            action: Action::Get,
            id: "resp_1".into(),
        });
        assert_eq!(
            build_request(false, call, body).unwrap().url,
            "https://api.openai.com/v1/responses/resp_1?include%5B%5D=x.y"
        );
        let mut call = testing::call(
            "openai",
            "m",
            Value::Null,
            json!({"limit": 5, "include": ["a.b"]}),
        );
        call.stored = Some(Stored {
            action: Action::InputItems,
            id: "resp_1".into(),
        });
        let request = build_request(false, call, body).unwrap();
        assert_eq!(
            (request.method, request.url.as_str()),
            (
                "GET",
                "https://api.openai.com/v1/responses/resp_1/input_items?limit=5&include%5B%5D=a.b"
            )
        );
        for id in ["../x", "a/b", "", "r?x"] {
            let mut call = testing::call("openai", "m", Value::Null, json!({}));
            call.stored = Some(Stored {
                action: Action::Get,
                id: id.into(),
            });
            assert!(build_request(false, call, body).is_err(), "{}", id);
        }
    }

    #[test]
    fn events_pass_through_until_the_terminal_one() {
        let mut translator = EventTranslator {
            max_depth: 64,
            error: None,
        };
        let mut out = Chunks::default();
        let delta = json!({"type": "response.output_text.delta", "delta": "hi"});
        assert!(!translator
            .event(event("response.output_text.delta", delta.clone()), &mut out)
            .unwrap());
        // Unnamed events are typed by their JSON.
        let done = json!({"type": "response.completed", "response": {"error": null}});
        assert!(translator.event(event("", done), &mut out).unwrap());
        let chunks: Value = serde_json::from_str(&out.take_array()).unwrap();
        assert_eq!(chunks[0], delta);
        let mut out = Chunks::default();
        let error = json!({"type": "error", "code": "rate_limit_exceeded", "message": "slow", "param": null});
        assert!(!translator.event(event("error", error), &mut out).unwrap());
        let reported = translator.end(&mut out).unwrap();
        assert_eq!(
            (reported.status, reported.message.as_str()),
            (Some(429), "slow")
        );
        assert_eq!(
            translator.end(&mut out).unwrap().kind,
            ErrorKind::StreamIncomplete
        );
    }
}
