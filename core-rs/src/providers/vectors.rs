//! What every embeddings API shares: how an OpenAI-compatible row's endpoint is spoken
//! ([`Row`]), `input_type` in each API's words ([`InputTypes`]), and the answer: its vectors
//! checked and written in OpenAI's shape ([`answer`]). A leaf of `providers/`.
//!
//! Vectors are never parsed into numbers and written again: a vector of numbers is copied as
//! the provider wrote it, after a scan that checks it is a flat list of finite numbers, and a
//! base64 vector is copied after a scan that checks it is base64 of finite little-endian
//! float32 values, decoding it into nothing. The host turns base64 into floats itself
//! (exactly, and fast), unless the caller asked for base64. Both scans read words, not bytes,
//! where they can: answers are megabytes, and a loop over bytes is slow in WebAssembly.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::floats::{finite_f64, parse_f32};
use crate::call::{Context, Input};
use crate::error::{api_error, error_in_success, CoreError};
use crate::limits::{check_depth, scan_object, ProbeError, Scan};
use crate::sse::Event;
use crate::translate::{Chunks, Translate};

/// How an OpenAI-compatible row's `/embeddings` endpoint is spoken: what its documentation
/// says it takes. Native APIs decide the same per model in their own modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The most inputs one request may carry.
    pub max_inputs: usize,
    /// Takes token ids as input, not only text.
    pub token_ids: bool,
    /// Honours `encoding_format: "base64"`, which is then always asked for: a third of the
    /// bytes of the numbers, and exact.
    pub base64: bool,
    /// The body field that takes `dimensions`.
    pub dimensions: &'static str,
    pub input_type: InputTypes,
}

impl Row {
    /// Text input, floats, `dimensions` as `dimensions`, no `input_type`.
    pub const fn new(max_inputs: usize) -> Row {
        Row {
            max_inputs,
            token_ids: false,
            base64: false,
            dimensions: "dimensions",
            input_type: InputTypes::Dropped,
        }
    }

    pub const fn token_ids(self) -> Row {
        Row {
            token_ids: true,
            ..self
        }
    }

    pub const fn base64(self) -> Row {
        Row {
            base64: true,
            ..self
        }
    }

    pub const fn dimensions(self, field: &'static str) -> Row {
        Row {
            dimensions: field,
            ..self
        }
    }

    pub const fn input_type(self, input_type: InputTypes) -> Row {
        Row { input_type, ..self }
    }
}

/// Where an API puts `input_type`, and how it spells ritellm's `"query"` and `"document"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputTypes {
    /// The API has no such field: its embeddings are the same for queries and documents, and
    /// the caller's `input_type` is left out.
    Dropped,
    /// Sent as the caller gave it.
    Given,
    /// `"query"` and `"document"` spelled so; any other value is the provider's own and sent as
    /// given. `default` is sent when the caller gives none (for APIs that require one).
    Spelled {
        query: &'static str,
        document: &'static str,
        default: Option<&'static str>,
    },
}

impl InputTypes {
    /// Cohere's names; its v3 and later models require one (LiteLLM's default too).
    pub const COHERE: InputTypes = InputTypes::Spelled {
        query: "search_query",
        document: "search_document",
        default: Some("search_document"),
    };
    /// Google's task types (Gemini API, Vertex AI).
    pub const GOOGLE: InputTypes = InputTypes::Spelled {
        query: "RETRIEVAL_QUERY",
        document: "RETRIEVAL_DOCUMENT",
        default: None,
    };

    /// The value to send for the caller's `input_type`, if any.
    pub fn spell(&self, given: Option<&str>) -> Option<String> {
        match (*self, given) {
            (InputTypes::Dropped, _) => None,
            (InputTypes::Given, given) => given.map(str::to_string),
            (InputTypes::Spelled { default, .. }, None) => default.map(str::to_string),
            (InputTypes::Spelled { query, .. }, Some("query")) => Some(query.to_string()),
            (InputTypes::Spelled { document, .. }, Some("document")) => Some(document.to_string()),
            (InputTypes::Spelled { .. }, Some(other)) => Some(other.to_string()),
        }
    }
}

/// The texts of inputs for an API that takes no token ids; refuses token ids naming `provider`.
pub fn texts(input: Vec<Input>, provider: &str) -> Result<Vec<String>, CoreError> {
    input
        .into_iter()
        .enumerate()
        .map(|(index, input)| match input {
            Input::Text(text) => Ok(text),
            Input::Tokens(_) => Err(CoreError::invalid_request(format!(
                "{}/ takes text input only: input[{}] is a list of token ids",
                provider, index
            ))),
        })
        .collect()
}

/// The error for `dimensions` a model cannot give.
pub fn no_dimensions(provider: &str, model: &str, which: &str) -> CoreError {
    let mut error = CoreError::invalid_request(format!(
        "dimensions: {}/{} {}; drop_params=True leaves it out",
        provider, model, which
    ));
    error.param = Some("dimensions".into());
    error
}

/// Reads a success answer as `T` in one pass, building nothing but `T`: serde_json skips what
/// `T` leaves out, and takes vectors as raw text, without recursing, and the few small members
/// `T` reads as values stay within serde_json's own depth limit (the most `max_depth` may be).
/// A non-success `status` is the provider's error; so is an answer that is not a `T` but an
/// error object. An answer that is neither is refused as too deep (`max_depth`), or as not what
/// the API sends. `T`'s readers refuse a `T` with an `error` beside its data ([`reported`]).
pub fn read<'a, T: Deserialize<'a>>(
    context: &Context,
    status: u16,
    body: &'a [u8],
) -> Result<T, CoreError> {
    let text = answer_text(status, body)?;
    parse(text).map_err(|error| read_failed(context, status, body, error))
}

/// A successful answer's text. Apart from [`read`], which is generic, so that each answer's
/// type shares one copy.
#[inline(never)]
fn answer_text(status: u16, body: &[u8]) -> Result<&str, CoreError> {
    if !(200..300).contains(&status) {
        return Err(api_error(Some(status), body));
    }
    std::str::from_utf8(body)
        .map_err(|_| CoreError::invalid_response("the provider's answer is not UTF-8"))
}

/// What [`read`] fails with when the answer is not its type's: the provider's error, a limit
/// it passes, or `error`.
#[inline(never)]
fn read_failed(context: &Context, status: u16, body: &[u8], error: CoreError) -> CoreError {
    let depth = context.limits.max_depth;
    match scan_object(body, depth) {
        Ok(Scan::Error) => error_in_success(status, body),
        Err(ProbeError::Limit(limit)) => limit,
        Err(ProbeError::NotAnObject) => check_depth(body, depth).err().unwrap_or(error),
        _ => error,
    }
}

/// Fails with the provider's error when an answer carries a non-null `error` member.
pub fn reported(error: Option<&RawValue>, status: u16, body: &[u8]) -> Result<(), CoreError> {
    match error {
        Some(error) if error.get() != "null" => Err(error_in_success(status, body)),
        _ => Ok(()),
    }
}

/// Parses an answer (or a part of one) as `T`.
pub fn parse<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, CoreError> {
    serde_json::from_str(text).map_err(|e| parse_failed(text, e))
}

/// What [`parse`] fails with; apart from it, which is generic.
#[inline(never)]
fn parse_failed(text: &str, e: serde_json::Error) -> CoreError {
    let hint = if text.contains("NaN") || text.contains("Infinity") {
        " (NaN and Infinity are not JSON numbers)"
    } else {
        ""
    };
    CoreError::invalid_response(format!(
        "the provider's embeddings answer is not what its API sends{}: {}",
        hint, e
    ))
}

/// An answer's vectors in input order, checked against the call's `context`, in OpenAI's
/// shape as JSON text. Each vector is a list of numbers or a base64 string, as JSON text.
/// Usage is `prompt` and `total` tokens, the one standing for the other where a provider
/// counts only one.
pub fn answer(
    context: &Context,
    vectors: &[&RawValue],
    model: Option<&str>,
    prompt: Option<u64>,
    total: Option<u64>,
) -> Result<String, CoreError> {
    if vectors.is_empty() {
        return Err(CoreError::invalid_response(
            "the provider's answer holds no vectors",
        ));
    }
    if context.inputs > 0 && vectors.len() != context.inputs {
        return Err(CoreError::invalid_response(format!(
            "the provider sent {} vectors for the {} inputs of this request",
            vectors.len(),
            context.inputs
        )));
    }
    let size = vectors.iter().map(|v| v.get().len() + 40).sum::<usize>();
    let mut out = String::with_capacity(size + 160);
    out.push_str("{\"object\":\"list\",\"data\":[");
    let mut length = None;
    for (index, vector) in vectors.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str("{\"object\":\"embedding\",\"index\":");
        out.push_str(&index.to_string());
        out.push_str(",\"embedding\":");
        let count = write_vector(vector.get(), context.base64, index, &mut out)?;
        match length {
            Some(first) if first != count => {
                return Err(CoreError::invalid_response(format!(
                    "the provider's vectors differ in length: {} and {} (data[{}])",
                    first, count, index
                )))
            }
            _ => length = Some(count),
        }
        out.push('}');
    }
    if let (Some(asked), Some(count)) = (context.dimensions, length) {
        if asked != count as u64 {
            return Err(CoreError::invalid_response(format!(
                "dimensions: asked for {}, the provider sent vectors of {}",
                asked, count
            )));
        }
    }
    let model = model.unwrap_or(&context.model);
    let (prompt, total) = (prompt.or(total).unwrap_or(0), total.or(prompt).unwrap_or(0));
    out.push_str("],\"model\":");
    out.push_str(&serde_json::to_string(model).unwrap_or_default());
    out.push_str(&format!(
        ",\"usage\":{{\"prompt_tokens\":{},\"total_tokens\":{}}}}}",
        prompt, total
    ));
    Ok(out)
}

/// Writes one vector (JSON text) to `out`, as given or, for numbers when `base64`, as base64;
/// returns its length.
fn write_vector(
    text: &str,
    base64: bool,
    index: usize,
    out: &mut String,
) -> Result<usize, CoreError> {
    let bad = |why: &str| {
        CoreError::invalid_response(format!("the provider's vector data[{}] {}", index, why))
    };
    match text.as_bytes().first() {
        Some(b'[') if base64 => {
            let mut bytes = Vec::new();
            let count = numbers(text, |number| {
                let value = parse_f32(number).ok_or("holds a number that is not one")?;
                if !value.is_finite() {
                    return Err("holds a number too large for a float32");
                }
                bytes.extend_from_slice(&value.to_le_bytes());
                Ok(())
            })
            .map_err(bad)?;
            out.push('"');
            out.push_str(&encode(&bytes));
            out.push('"');
            Ok(count)
        }
        Some(b'[') => {
            let count = count_numbers(text).map_err(bad)?;
            out.push_str(text);
            Ok(count)
        }
        Some(b'"') => {
            if let Some(count) = finite_floats(&text.as_bytes()[1..text.len() - 1]) {
                out.push_str(text);
                return Ok(count);
            }
            // Escaped, unpadded or bad: decoded, and written again or refused saying why.
            let owned;
            let data = match serde_json::from_str::<&str>(text) {
                Ok(data) => data,
                Err(_) => {
                    owned = serde_json::from_str::<String>(text).map_err(|_| bad("is not text"))?;
                    &owned
                }
            };
            let bytes = decode(data).ok_or_else(|| bad("is not valid base64"))?;
            if bytes.is_empty() || bytes.len() % 4 != 0 {
                return Err(bad("is not a whole number of float32 values"));
            }
            if !all_finite(&bytes) {
                return Err(bad("holds a NaN or infinite value"));
            }
            if data.len() % 4 == 0 && !text.contains('\\') {
                out.push_str(text);
            } else {
                out.push('"');
                out.push_str(&encode(&bytes)); // padded, without escapes
                out.push('"');
            }
            Ok(bytes.len() / 4)
        }
        _ => Err(bad("is neither a list of numbers nor base64 text")),
    }
}

/// How many numbers a flat JSON list holds, all finite as float64; fails on anything else in
/// it, or on an empty list. The parser has taken the list as valid JSON, so numbers are split
/// by commas, and a byte that starts no number (`[`, `{`, `"`, `n`, `t`, `f`) is another kind
/// of item. Only an exponent, or more digits than a float64 takes, can take a number past a
/// float64: numbers with an exponent are parsed ([`look_closer`]), and a run of more than
/// [`MAX_RUN`] bytes without a comma is refused.
///
/// Lists of numbers are megabytes, and a loop over bytes costs five times as much in
/// WebAssembly: the list is read eight bytes at a time, as a `u64` whose commas are counted at
/// once. Every byte a list of plain numbers holds (digits, `-`, `+`, `.`, commas, spaces) is
/// below 0x40 and no quote; only a word that holds another is looked at byte by byte.
fn count_numbers(list: &str) -> Result<usize, &'static str> {
    let bytes = list.as_bytes();
    let (mut commas, mut run) = (0, 0);
    let mut words = bytes.chunks_exact(8);
    for (n, word) in (&mut words).enumerate() {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        if word & each_byte(0x40) != 0 || zero_bytes(word ^ each_byte(b'"')) != 0 {
            look_closer(list, n * 8..n * 8 + 8)?;
        }
        let here = zero_bytes(word ^ each_byte(b',')).count_ones() as usize;
        commas += here;
        run = if here == 0 { run + 8 } else { 0 };
        if run > MAX_RUN {
            return Err("holds a number too long");
        }
    }
    let rest = words.remainder();
    look_closer(list, bytes.len() - rest.len()..bytes.len())?;
    commas += rest.iter().filter(|&&b| b == b',').count();
    if list[1..].trim_start().starts_with(']') {
        return Err("is empty");
    }
    Ok(commas + 1)
}

/// The bytes `at` of a list [`count_numbers`] reads, one by one: fails on a byte that starts
/// an item other than a number, and parses each number with an exponent (there is one `e` or
/// `E` per such number) to refuse those past a float64. The list's own brackets pass.
fn look_closer(list: &str, at: std::ops::Range<usize>) -> Result<(), &'static str> {
    let bytes = list.as_bytes();
    for i in at.start.max(1)..at.end {
        match bytes[i] {
            b'[' | b'{' | b'"' | b'n' | b't' | b'f' => {
                return Err("holds something other than numbers")
            }
            b'e' | b'E' => {
                let is_end = |b: &u8| *b == b',' || *b == b'[' || *b == b']';
                let start = bytes[..i].iter().rposition(is_end).map_or(0, |n| n + 1);
                let end = bytes[i..]
                    .iter()
                    .position(is_end)
                    .map_or(bytes.len(), |n| i + n);
                let number = list[start..end].trim_matches(|c: char| c.is_ascii_whitespace());
                if !finite_f64(number) {
                    return Err("holds a number too large");
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// `byte` in each of a `u64`'s eight bytes.
const fn each_byte(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// 0x80 in each byte of `x` that is zero, 0 in the others (no carry crosses a byte).
fn zero_bytes(x: u64) -> u64 {
    let low = each_byte(0x7f);
    !(((x & low) + low) | x | low)
}

/// The most bytes without a comma [`count_numbers`] takes, counted in whole words: a number
/// of about 250 characters passes, and none of over 270, short of the 309 digits before the
/// point that make a float64 infinite. Float32 values are printed in a few dozen.
const MAX_RUN: usize = 256;

/// Calls `each` with every number of a flat JSON list (as the parser took it: valid JSON) and
/// returns how many there are; fails on anything else in it, or on an empty list.
fn numbers(
    list: &str,
    mut each: impl FnMut(&str) -> Result<(), &'static str>,
) -> Result<usize, &'static str> {
    let inner = list
        .trim_end()
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .ok_or("is not a list")?;
    if inner.trim().is_empty() {
        return Err("is empty");
    }
    let mut count = 0;
    for item in inner.split(',') {
        let item = item.trim_matches(|c: char| c.is_ascii_whitespace());
        match item.as_bytes().first() {
            Some(b'-') | Some(b'0'..=b'9') => each(item)?,
            _ => return Err("holds something other than numbers"),
        }
        count += 1;
    }
    Ok(count)
}

/// How many float32 values padded base64 `data` holds, when it is that and every value is
/// finite; `None` for anything else (escapes included), which [`write_vector`] decodes again to
/// say what is wrong. One pass that builds nothing: each sixteen characters are three float32
/// values, tested by their exponent bits (all ones is NaN or infinite) in registers; the last
/// sixteen, which may hold padding, go to [`decode`].
fn finite_floats(data: &[u8]) -> Option<usize> {
    if data.is_empty() || data.len() % 4 != 0 {
        return None;
    }
    let (blocks, last) = data.split_at((data.len() - 1) / 16 * 16);
    let mut invalid = 0;
    let mut infinite = false;
    for block in blocks.chunks_exact(16) {
        // Four groups of 24 bits, then three big-endian words. Written out: the build
        // optimizes for size, which unrolls no loop.
        let a = group(&block[..4], &mut invalid);
        let b = group(&block[4..8], &mut invalid);
        let c = group(&block[8..12], &mut invalid);
        let d = group(&block[12..], &mut invalid);
        infinite |=
            not_finite(a << 8 | b >> 16) | not_finite(b << 16 | c >> 8) | not_finite(c << 24 | d);
    }
    let last = decode(std::str::from_utf8(last).ok()?)?;
    if invalid & INVALID != 0 || infinite || last.len() % 4 != 0 || !all_finite(&last) {
        return None;
    }
    Some(blocks.len() / 16 * 3 + last.len() / 4)
}

/// Four base64 characters (`chars[..4]`) as their 24 bits; sets [`INVALID`] in `invalid` when
/// one is not in base64's alphabet (the bits are then meaningless).
fn group(chars: &[u8], invalid: &mut u32) -> u32 {
    let (a, b, c, d) = (
        VALUES[chars[0] as usize],
        VALUES[chars[1] as usize],
        VALUES[chars[2] as usize],
        VALUES[chars[3] as usize],
    );
    *invalid |= a | b | c | d;
    a << 18 | b << 12 | c << 6 | d
}

/// Whether the float32 whose little-endian bytes are `word`'s, first byte highest, is NaN or
/// infinite: its exponent bits are all ones. No float is made.
fn not_finite(word: u32) -> bool {
    (word.swap_bytes() >> 23) & 0xff == 0xff
}

/// Whether every float32 of little-endian `bytes` is finite.
fn all_finite(bytes: &[u8]) -> bool {
    bytes
        .chunks_exact(4)
        .all(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite())
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity((bytes.len() + 2) / 3 * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Each byte's value in base64's alphabet, or `INVALID`; `u32`s, which [`group`] shifts as
/// they are.
const VALUES: [u32; 256] = {
    let mut values = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        values[ALPHABET[i] as usize] = i as u32;
        i += 1;
    }
    values
};
const INVALID: u32 = 0x80;

/// Standard base64, padded or not; `None` for anything else.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let data = text.trim_end_matches('=');
    if text.len() - data.len() > 2 || data.len() % 4 == 1 {
        return None;
    }
    if text.len() != data.len() && text.len() % 4 != 0 {
        return None;
    }
    let data = data.as_bytes();
    let groups = data.chunks_exact(4);
    let rest = groups.remainder();
    let mut out = vec![0u8; data.len() / 4 * 3];
    let mut invalid = 0;
    // Whole groups of four characters into three bytes, written in place, byte by byte: a
    // three-byte copy_from_slice is a call in WebAssembly.
    for (chars, bytes) in groups.zip(out.chunks_exact_mut(3)) {
        let n = group(chars, &mut invalid);
        bytes[0] = (n >> 16) as u8;
        bytes[1] = (n >> 8) as u8;
        bytes[2] = n as u8;
    }
    if !rest.is_empty() {
        let mut chars = [b'A'; 4];
        chars[..rest.len()].copy_from_slice(rest);
        let n = group(&chars, &mut invalid);
        out.extend_from_slice(&n.to_be_bytes()[1..rest.len()]);
    }
    if invalid & INVALID != 0 {
        return None;
    }
    Some(out)
}

/// The reader of answers of a reader that has no embeddings.
pub fn none(context: &Context, _status: u16, _body: &[u8]) -> Result<String, CoreError> {
    Err(CoreError::invalid_request(format!(
        "{}/{} answers carry no embeddings",
        context.provider, context.model
    )))
}

/// Embedding calls have no streams: every event is refused.
pub fn translator(_context: &Context) -> Box<dyn Translate> {
    Box::new(NoStream)
}

struct NoStream;

impl Translate for NoStream {
    fn event(&mut self, _event: Event, _out: &mut Chunks) -> Result<bool, CoreError> {
        Err(CoreError::invalid_request(
            "embedding calls have no streams",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use serde_json::{json, Value};

    fn context(inputs: usize, dimensions: Option<u64>, base64: bool) -> Context {
        let mut context = crate::providers::testing::context("openai", "m");
        context.operation = crate::call::Operation::Embedding;
        context.inputs = inputs;
        context.dimensions = dimensions;
        context.base64 = base64;
        context
    }

    fn raw(texts: &[&str]) -> Vec<Box<RawValue>> {
        texts
            .iter()
            .map(|t| RawValue::from_string(t.to_string()).unwrap())
            .collect()
    }

    fn answered(context: &Context, texts: &[&str]) -> Result<Value, CoreError> {
        let raw = raw(texts);
        let refs: Vec<&RawValue> = raw.iter().map(|r| r.as_ref()).collect();
        let text = answer(context, &refs, Some("e-1"), Some(3), None)?;
        Ok(serde_json::from_str(&text).unwrap())
    }

    /// `values` as OpenAI's base64.
    fn b64(values: &[f32]) -> String {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        encode(&bytes)
    }

    #[test]
    fn numbers_are_copied_as_sent_in_openais_shape() {
        let answer = answered(&context(2, Some(2), false), &["[0.5, -1e-3]", "[1,2]"]).unwrap();
        assert_eq!(
            answer,
            json!({"object": "list", "data": [
                {"object": "embedding", "index": 0, "embedding": [0.5, -0.001]},
                {"object": "embedding", "index": 1, "embedding": [1, 2]},
            ], "model": "e-1", "usage": {"prompt_tokens": 3, "total_tokens": 3}})
        );
    }

    #[test]
    fn base64_passes_through_and_numbers_become_base64_when_asked() {
        let sent = format!("\"{}\"", b64(&[0.25, -2.0, 3.5]));
        let answer = answered(&context(1, Some(3), false), &[&sent]).unwrap();
        assert_eq!(answer["data"][0]["embedding"], b64(&[0.25, -2.0, 3.5]));
        let answer = answered(&context(1, None, true), &["[0.25, -2, 3.5]"]).unwrap();
        assert_eq!(answer["data"][0]["embedding"], b64(&[0.25, -2.0, 3.5]));
        // Unpadded, or with JSON escapes: written padded and plain.
        let padded = b64(&[1.0]);
        assert!(padded.ends_with("=="));
        let unpadded = format!("\"{}\"", padded.trim_end_matches('='));
        let answer = answered(&context(1, None, false), &[&unpadded]).unwrap();
        assert_eq!(answer["data"][0]["embedding"], padded);
        let slashes = b64(&[f32::from_bits(0x3fff_ffff)]);
        let escaped = format!("\"{}\"", slashes.replace('/', "\\/"));
        assert!(escaped.contains("\\/"));
        let answer = answered(&context(1, None, false), &[&escaped]).unwrap();
        assert_eq!(answer["data"][0]["embedding"], slashes);
    }

    #[test]
    fn bad_vectors_are_invalid_responses_naming_the_problem() {
        let nan = format!("\"{}\"", b64(&[1.0, f32::NAN]));
        let inf = format!("\"{}\"", b64(&[f32::INFINITY]));
        for (texts, needle) in [
            (vec!["[1, 2]"], "1 vectors for the 2 inputs"),
            (vec!["[1, 2]", "[1]"], "differ in length: 2 and 1"),
            (vec!["[1, 2]", "[1, 2]"], "asked for 3"),
            (vec!["[1, null]", "[1, 2]"], "other than numbers"),
            (vec!["[[1], [2]]", "[1, 2]"], "other than numbers"),
            (vec!["[]", "[]"], "is empty"),
            (vec!["[1e999, 1]", "[1, 2]"], "too large"),
            (vec!["\"AAAA!\"", "[1]"], "not valid base64"),
            (vec!["\"AAA=\"", "[1]"], "whole number of float32"),
            (vec![&nan, "[1, 2]"], "NaN or infinite"),
            (vec![&inf, "[1]"], "NaN or infinite"),
            (vec!["{}", "[1]"], "neither a list"),
        ] {
            let error = answered(&context(2, Some(3), false), &texts).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidResponse);
            assert!(
                error.message.contains(needle),
                "{}: {}",
                needle,
                error.message
            );
        }
        let error = answered(&context(1, None, true), &["[3.5e38, 1]"]).unwrap_err();
        assert!(error.message.contains("too large for a float32"));
        let raw: Vec<&RawValue> = Vec::new();
        assert!(answer(&context(0, None, false), &raw, None, None, None).is_err());
    }

    #[test]
    fn lists_of_numbers_are_counted_in_one_pass() {
        for (list, count) in [
            ("[1]", 1),
            ("[ 1 , -2.5 ]", 2),
            ("[1e-5,2E+3,-0.5e0]", 3),
            ("[\n  0.25,\n  1e308\n]", 2),
        ] {
            assert_eq!(count_numbers(list), Ok(count), "{}", list);
        }
        let long = format!("[{}]", "1".repeat(400));
        for (list, why) in [
            ("[1e309]", "holds a number too large"),
            ("[1, -1E400]", "holds a number too large"),
            (long.as_str(), "holds a number too long"),
            ("[1, true]", "holds something other than numbers"),
            ("[\"1\"]", "holds something other than numbers"),
            ("[ ]", "is empty"),
        ] {
            assert_eq!(count_numbers(list), Err(why), "{}", list);
        }
    }

    #[test]
    fn lists_of_numbers_are_checked_wherever_a_word_splits_them() {
        // Each item at every offset from the words of eight bytes the count reads.
        for pad in 0..8 {
            let head = format!("[{}", "1,".repeat(pad));
            let list = |item: &str| format!("{}{}, 2]", head, item);
            assert_eq!(count_numbers(&list("-0.5e-3")), Ok(pad + 2));
            assert_eq!(count_numbers(&list("1E38")), Ok(pad + 2));
            assert_eq!(count_numbers(&list("  7 ")), Ok(pad + 2));
            for (item, why) in [
                ("2e400", "holds a number too large"),
                ("-1E309", "holds a number too large"),
                ("null", "holds something other than numbers"),
                ("false", "holds something other than numbers"),
                ("\"\"", "holds something other than numbers"),
                ("[1]", "holds something other than numbers"),
                ("{}", "holds something other than numbers"),
            ] {
                assert_eq!(count_numbers(&list(item)), Err(why), "{}", list(item));
            }
            // Last, where the list ends in fewer than eight bytes.
            assert_eq!(
                count_numbers(&format!("{}1e999]", head)).unwrap_err(),
                "holds a number too large"
            );
            assert_eq!(count_numbers(&format!("{}5]", head)), Ok(pad + 1));
        }
        // Numbers of a few hundred digits: those that might pass a float64 are refused.
        for digits in [240, 250] {
            let list = format!("[1, {}, 2]", "9".repeat(digits));
            assert_eq!(count_numbers(&list), Ok(3), "{}", digits);
        }
        for digits in [271, 309, 400] {
            let list = format!("[1, {}.5, 2]", "9".repeat(digits));
            assert_eq!(
                count_numbers(&list),
                Err("holds a number too long"),
                "{}",
                digits
            );
        }
        assert_eq!(count_numbers("[]"), Err("is empty"));
    }

    #[test]
    fn base64_is_checked_without_decoding_as_decoding_checks_it() {
        for count in 1..12 {
            let values: Vec<f32> = (0..count).map(|i| i as f32 - 2.5).collect();
            let text = b64(&values);
            assert_eq!(finite_floats(text.as_bytes()), Some(count), "{}", text);
            // Not padded, an escape, a character out of the alphabet: left to `decode`.
            if text.ends_with('=') {
                assert_eq!(finite_floats(text.trim_end_matches('=').as_bytes()), None);
            }
            for at in 0..text.len() {
                for bad in [b'\\', b'-', b'=', b'"'] {
                    let mut changed = text.clone().into_bytes();
                    changed[at] = bad;
                    if changed != text.as_bytes() {
                        assert_eq!(finite_floats(&changed), None, "{} at {}", bad, at);
                    }
                }
            }
            // A NaN or an infinity anywhere, of either sign.
            for at in 0..count {
                for odd in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -f32::NAN] {
                    let mut odd_values = values.clone();
                    odd_values[at] = odd;
                    assert_eq!(finite_floats(b64(&odd_values).as_bytes()), None);
                }
                let mut large = values.clone();
                large[at] = f32::MAX;
                assert_eq!(finite_floats(b64(&large).as_bytes()), Some(count));
            }
        }
        // Bytes that are not whole float32s, and none.
        for bytes in [&b"abc"[..], b"abcde", b""] {
            assert_eq!(finite_floats(encode(bytes).as_bytes()), None);
        }
    }

    #[test]
    fn base64_round_trips() {
        for bytes in [
            &b""[..],
            b"a",
            b"ab",
            b"abc",
            b"abcd",
            &[0xff, 0xfe, 0x00, 0x7f],
        ] {
            let text = encode(bytes);
            assert_eq!(decode(&text).unwrap(), bytes, "{}", text);
            assert_eq!(decode(text.trim_end_matches('=')).unwrap(), bytes);
        }
        assert_eq!(encode(b"\xfb\xff"), "+/8=");
        for bad in ["A", "AB=C", "AB===", "A B=", "AB-_", "ABC=D"] {
            assert!(decode(bad).is_none(), "{}", bad);
        }
    }

    #[test]
    fn input_types_in_each_apis_words() {
        let nim = InputTypes::Spelled {
            query: "query",
            document: "passage",
            default: Some("passage"),
        };
        assert_eq!(nim.spell(Some("document")).as_deref(), Some("passage"));
        assert_eq!(nim.spell(None).as_deref(), Some("passage"));
        assert_eq!(
            InputTypes::COHERE.spell(Some("query")).as_deref(),
            Some("search_query")
        );
        assert_eq!(
            InputTypes::GOOGLE.spell(Some("CLUSTERING")).as_deref(),
            Some("CLUSTERING")
        );
        assert_eq!(InputTypes::GOOGLE.spell(None), None);
        assert_eq!(InputTypes::Dropped.spell(Some("query")), None);
        assert_eq!(
            InputTypes::Given.spell(Some("query")).as_deref(),
            Some("query")
        );
    }

    #[test]
    fn answers_with_errors_are_the_providers_errors() {
        let context = context(1, None, false);
        let read = |status: u16, body: &str| read::<Vec<Value>>(&context, status, body.as_bytes());
        let error = read(200, r#"{"error": {"message": "no"}}"#).unwrap_err();
        assert_eq!(
            (error.kind, error.sent_status),
            (ErrorKind::ApiError, Some(200))
        );
        let error = read(400, r#"{"error": {"message": "bad"}}"#).unwrap_err();
        assert_eq!(error.status, Some(400));
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(read(200, &deep).unwrap_err().kind, ErrorKind::LimitExceeded);
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(100), "]".repeat(100));
        assert_eq!(read(200, &deep).unwrap_err().kind, ErrorKind::LimitExceeded);
        assert_eq!(
            read(200, "{\"a\": 1}").unwrap_err().kind,
            ErrorKind::InvalidResponse
        );
        let object = RawValue::from_string("{}".into()).unwrap();
        let error = reported(Some(&object), 200, b"{\"error\": {}}").unwrap_err();
        assert_eq!(error.kind, ErrorKind::ApiError);
        let null = RawValue::from_string("null".into()).unwrap();
        assert!(reported(Some(&null), 200, b"").is_ok());
        let error = parse::<Value>("{\"a\": NaN}").unwrap_err();
        assert!(error
            .message
            .contains("NaN and Infinity are not JSON numbers"));
    }
}
