//! The WebAssembly boundary. Every `unsafe` and `#[no_mangle]` of the crate lives here.
//!
//! # Memory model
//! The module imports nothing and exports `memory` plus the functions below. It owns two
//! buffers in its linear memory:
//!
//! * The **input buffer**. `ritellm_input(len)` makes it hold at least `len` bytes and returns
//!   its address; the address stays valid until the next `ritellm_input` call, so a host may
//!   keep it and call again only when it needs more room. The host writes the input there and
//!   passes its length to the operation.
//! * The **output buffer**. Every operation that answers returns `(address << 32) | length`
//!   of its answer there, as an `i64`. The answer is valid until the next call into the module;
//!   the host copies it out and frees nothing.
//!
//! An answer is JSON, `{"ok": value}` or `{"error": {"kind", "message", ...}}`, where `kind` is
//! one of `describe()["error_kinds"]`. `ritellm_prepare` and `ritellm_mock` append a line feed
//! and a raw payload (a request or response body) after a successful JSON head; the head never
//! contains a raw line feed.
//!
//! # The prepare head
//! `ritellm_prepare` takes the call as JSON (`CallInput` in `lib.rs`: `model`, then `messages`
//! for a chat call or, with `"operation": "embedding"`, `input` (a string, a list of strings,
//! a list of token ids, or a list of lists of token ids); and optionally `stream` (chat only),
//! `base_url`, `params`, `additional_params`, `env`, `api_version`, `created`, `nonce`,
//! `limits`, `drop_params`). An embedding call's `params` carry `dimensions`,
//! `encoding_format` (`"float"` or `"base64"`), `input_type` (`"query"`, `"document"` or the
//! provider's own) and any field of the provider's. It answers `{"ok": head}`, a line feed,
//! then the request body. The head (`HttpRequest` in `call.rs`) has these members:
//!
//! * `provider`: the provider prefix (`"anthropic"`), for the host's error messages.
//! * `model`: the provider's model name, the model string after the prefix.
//! * `method`: the HTTP method, `"POST"`.
//! * `url`: where to send the body.
//! * `headers`: header names (lower case) and values, the key not among them.
//! * `auth`: `null`, or how to send the key: `{env, required, header, prefix}`; the header's
//!   value is `prefix` then the key, which comes from the caller or the variable `env`.
//! * `passthrough`: true when a success answer is already a chat.completion, which the host may
//!   take as it is if it is a JSON object without an `error` member. Always false for embeddings.
//! * `messages_slot`: present when the body holds the caller's messages as given: their
//!   `[start, end)` byte offsets in the body, so that a host may reuse the rest of the body for
//!   a call alike with other messages.
//! * `inputs`: an embedding call's only: how many of the call's inputs, from the first, this
//!   request carries.
//! * `max_inputs`: an embedding call's only: the most inputs one request to this provider and
//!   model may carry. When `inputs` is less than the call's, the host prepares the rest as
//!   calls of their own, in slices of `max_inputs`, and merges the answers (adding each slice's
//!   offset to its indexes, summing usage).
//! * `context`: JSON text, opaque to the host, to hand back with the answer (to `ritellm_parse`
//!   or `ritellm_stream_open`). Calls alike in the same second get the same bytes, unless
//!   their answers need invented ids, which derive from the call's `nonce`.
//!
//! An embedding call's answer, read by `ritellm_parse` with its context, is OpenAI's
//! `{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model",
//! "usage": {"prompt_tokens", "total_tokens"}}`, checked (one vector per input, finite numbers,
//! equal lengths, the `dimensions` asked). Each `embedding` is a list of numbers, or a string:
//! base64 of little-endian float32 values, either as the provider sent it or, when the caller
//! asked for base64 and the provider sent numbers, made from them. The host decodes strings
//! into floats unless the caller asked for base64. Embedding calls have no streams.
//!
//! A token count (`"operation": "count_tokens"`) takes a chat call's `messages` and `params`
//! (not `stream`) and goes to the provider's own counting endpoint; its answer, read by
//! `ritellm_parse`, is `{"input_tokens": n}`. The rows that have such an endpoint list
//! `"count_tokens"` among their `operations` in `describe()`; others refuse the call with
//! `unsupported_provider` before any I/O.
//!
//! # Cache keys
//! `ritellm_cache_material` takes the same call JSON as `ritellm_prepare` and answers
//! `{"ok": text}`: canonical JSON text (keys sorted, nulls left out, a version `v`) of what
//! determines the call's answer (`cache_material` in `lib.rs` lists it). It holds no key and no
//! environment value; it does hold the prompt, so a host hashes it (SHA-256) before using it as a
//! cache key, and never stores it.
//!
//! A host that wants only the sandboxed decoders opens a stream with the context
//! `{"reader": "raw_sse"}` or `{"reader": "raw_event_stream"}` (older hosts write `protocol`
//! for `reader`, which is still read): each event comes back as `{event, data, id}`.
//!
//! # Streams
//! A stream handle is a non-zero `u32` from `ritellm_stream_open`; `ritellm_stream_finish` and
//! `ritellm_stream_close` release it. A panic aborts (a trap): the host must then discard the
//! instance. So does an allocation the host's memory limit refused; before aborting, the core
//! sets the byte at `describe()["alloc_failed_at"]` to 1, so the host can tell that trap from a
//! bug (the memory stays readable after a trap).

use std::alloc::{GlobalAlloc, Layout, System};

use crate::error::CoreError;
use crate::{
    cache_material, describe, open_stream, parse_response, prepare, providers, ChunkStream,
};

/// 1 once an allocation has failed (see the module docs).
static mut ALLOC_FAILED: u8 = 0;

/// The system allocator, noting failures where the host can read them.
struct NotingAllocator;

fn noted(pointer: *mut u8) -> *mut u8 {
    if pointer.is_null() {
        // SAFETY: one thread; a plain byte store.
        unsafe { ALLOC_FAILED = 1 };
    }
    pointer
}

// SAFETY: every call is forwarded to `System` unchanged.
unsafe impl GlobalAlloc for NotingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        noted(System.alloc(layout))
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        noted(System.alloc_zeroed(layout))
    }
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        noted(System.realloc(pointer, layout, size))
    }
    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        System.dealloc(pointer, layout)
    }
}

#[global_allocator]
static ALLOCATOR: NotingAllocator = NotingAllocator;

struct State {
    input: Vec<u8>,
    output: Vec<u8>,
    /// Open streams; handle `n` is `streams[n - 1]`.
    streams: Vec<Option<ChunkStream>>,
}

static mut STATE: State = State {
    input: Vec::new(),
    output: Vec::new(),
    streams: Vec::new(),
};

fn state() -> &'static mut State {
    // SAFETY: wasm32-unknown-unknown runs one thread, and no export re-enters another, so at
    // most one reference to STATE is live at a time.
    unsafe { &mut *std::ptr::addr_of_mut!(STATE) }
}

/// An output buffer that grew past this is given back rather than kept for the next answer.
const KEEP_OUTPUT_BYTES: usize = 1 << 20;

/// Writes `{"<member>":<value_json>}` and, if there is one, a line feed and the payload into
/// the output buffer, without an intermediate copy of the value.
fn answer(member: &str, value_json: &str, payload: &[u8]) -> u64 {
    let state = state();
    if state.output.capacity() > KEEP_OUTPUT_BYTES {
        state.output = Vec::new();
    }
    state.output.clear();
    // Sized once: an answer can be megabytes, and growing to it would copy it again.
    let pieces = ["{\"", member, "\":", value_json, "}"];
    let size = pieces.iter().map(|piece| piece.len()).sum::<usize>() + 1 + payload.len();
    state.output.reserve(size);
    for piece in pieces {
        state.output.extend_from_slice(piece.as_bytes());
    }
    if !payload.is_empty() {
        state.output.push(b'\n');
        state.output.extend_from_slice(payload);
    }
    ((state.output.as_ptr() as u64) << 32) | state.output.len() as u64
}

fn ok(value_json: &str) -> u64 {
    answer("ok", value_json, b"")
}

fn error(error: &CoreError) -> u64 {
    answer(
        "error",
        &serde_json::to_string(error).unwrap_or_default(),
        b"",
    )
}

/// The first `len` bytes of the input buffer, or an error answer if the host overran it.
fn input(len: u32) -> Result<&'static [u8], u64> {
    let input = &state().input;
    input.get(..len as usize).ok_or_else(|| {
        error(&CoreError::invalid_request(
            "input length exceeds the input buffer",
        ))
    })
}

/// Makes the input buffer hold at least `len` bytes; returns its address.
#[no_mangle]
pub extern "C" fn ritellm_input(len: u32) -> u32 {
    let input = &mut state().input;
    if input.len() < len as usize {
        input.resize(len as usize, 0);
    }
    input.as_ptr() as u32
}

/// Answers `{"ok": {version, error_kinds, providers, limits, alloc_failed_at}}`.
#[no_mangle]
pub extern "C" fn ritellm_describe() -> u64 {
    let described = describe();
    // SAFETY: only the address is taken.
    let flag = unsafe { std::ptr::addr_of!(ALLOC_FAILED) } as usize;
    let with_flag = format!(
        "{},\"alloc_failed_at\":{}}}",
        described.strip_suffix('}').unwrap_or(&described),
        flag
    );
    ok(&with_flag)
}

/// Input: the call as JSON. Answers `{"ok": head}` (see "The prepare head" above), a line
/// feed, then the request body.
#[no_mangle]
pub extern "C" fn ritellm_prepare(len: u32) -> u64 {
    let input = match input(len) {
        Ok(input) => input,
        Err(answered) => return answered,
    };
    match prepare(input) {
        Ok(request) => {
            let head = serde_json::to_string(&request).unwrap_or_default();
            answer("ok", &head, &request.body)
        }
        Err(e) => error(&e),
    }
}

/// Input: the call as JSON. Answers `{"ok": text}`, the call's cache material (see "Cache
/// keys" above).
#[no_mangle]
pub extern "C" fn ritellm_cache_material(len: u32) -> u64 {
    let input = match input(len) {
        Ok(input) => input,
        Err(answered) => return answered,
    };
    match cache_material(input) {
        Ok(material) => ok(&serde_json::to_string(&material).unwrap_or_default()),
        Err(e) => error(&e),
    }
}

/// Input: a call's context (`context_len` bytes) followed by the answer's body. Answers
/// `{"ok": chat.completion}` (or a list of embeddings) for a success `status`, else the
/// provider's error.
#[no_mangle]
pub extern "C" fn ritellm_parse(status: u32, context_len: u32, len: u32) -> u64 {
    let input = match input(len) {
        Ok(input) => input,
        Err(answered) => return answered,
    };
    let (context, body) = input.split_at((context_len as usize).min(input.len()));
    let status = u16::try_from(status).unwrap_or(0);
    match parse_response(context, status, body) {
        Ok(completion) => ok(&completion),
        Err(e) => error(&e),
    }
}

/// Input: a call's context. Answers `{"ok": handle}`.
#[no_mangle]
pub extern "C" fn ritellm_stream_open(len: u32) -> u64 {
    let input = match input(len) {
        Ok(input) => input,
        Err(answered) => return answered,
    };
    match open_stream(input) {
        Ok(stream) => {
            let streams = &mut state().streams;
            let slot = match streams.iter().position(Option::is_none) {
                Some(free) => free,
                None => {
                    streams.push(None);
                    streams.len() - 1
                }
            };
            streams[slot] = Some(stream);
            ok(&(slot + 1).to_string())
        }
        Err(e) => error(&e),
    }
}

fn stream(handle: u32) -> Result<&'static mut ChunkStream, u64> {
    let slot = (handle as usize).wrapping_sub(1);
    match state().streams.get_mut(slot) {
        Some(Some(stream)) => Ok(stream),
        _ => Err(error(&CoreError::invalid_request(format!(
            "no open stream with handle {}",
            handle
        )))),
    }
}

/// Input: the next bytes of a stream's body. Answers `{"ok": batch}` (see `ChunkStream::feed`).
#[no_mangle]
pub extern "C" fn ritellm_stream_feed(handle: u32, len: u32) -> u64 {
    let input = match input(len) {
        Ok(input) => input,
        Err(answered) => return answered,
    };
    match stream(handle) {
        Ok(stream) => ok(&stream.feed(input)),
        Err(answered) => answered,
    }
}

/// Ends a stream's input and releases the handle. Answers `{"ok": batch}`, whose `error`
/// reports a stream that ended before its terminator.
#[no_mangle]
pub extern "C" fn ritellm_stream_finish(handle: u32) -> u64 {
    let answered = match stream(handle) {
        Ok(stream) => ok(&stream.finish()),
        Err(answered) => return answered,
    };
    ritellm_stream_close(handle);
    answered
}

/// Releases a stream handle without finishing it (a caller stopped reading). Unknown handles
/// are ignored.
#[no_mangle]
pub extern "C" fn ritellm_stream_close(handle: u32) {
    let slot = (handle as usize).wrapping_sub(1);
    if let Some(stream) = state().streams.get_mut(slot) {
        *stream = None;
    }
}

/// Input: a request body for the `mock/` provider. Answers `{"ok": {"content_type": ...}}`, a
/// line feed, then the response body.
#[no_mangle]
pub extern "C" fn ritellm_mock(len: u32) -> u64 {
    let input = match input(len) {
        Ok(input) => input,
        Err(answered) => return answered,
    };
    match providers::mock::reply(input) {
        Ok(reply) => {
            let head = serde_json::json!({"content_type": reply.content_type}).to_string();
            answer("ok", &head, &reply.body)
        }
        Err(e) => error(&e),
    }
}
