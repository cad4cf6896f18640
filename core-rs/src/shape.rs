//! The shape of every chat.completion.chunk the core hands out, whichever reader made it: the
//! two promises LiteLLM's streams keep and its users' code relies on.
//!
//! * Every tool-call fragment has every key. OpenAI sends `id`, `type` and the function's
//!   `name` only in a call's first fragment; LiteLLM's `Delta` gives every fragment
//!   `{"index", "id", "type", "function": {"name", "arguments"}}`: `id` and `name` null where
//!   not repeated, `type` `"function"` where not sent (a custom tool call's stays null), the
//!   function's `arguments` `""` where not sent and JSON text where sent as an object (as
//!   Python's `json.dumps` writes it), and nothing else in `function`. A fragment without an
//!   `index` is numbered among the fragments of its delta that have none, from 0; items of
//!   `tool_calls` that are not objects are left out. Clients (langchain-litellm) read `id` and
//!   `function.name` on every fragment.
//! * A chunk that carries nothing is not handed out: LiteLLM's stream never yields one, and
//!   clients (smolagents) fail on a chunk whose delta is empty and that has no finish reason.
//!   A chunk carries something when it has a `usage` or `prompt_filter_results` (Azure's first
//!   chunk, `choices: []`), or a choice with a member besides `index` and `delta`
//!   (`finish_reason`, `logprobs`, `content_filter_results`, ...), that is neither null nor
//!   empty (`""`, `{}`, `[]`: Azure's `content_filter_results: {}` comes with every chunk), or
//!   a delta with a non-null member other than `content: ""` (LiteLLM's rule: empty content
//!   alone is nothing; a role, `reasoning_content: ""` or `tool_calls: []` is something).
//!   Other top-level members (`id`, `model`, `system_fingerprint`, `obfuscation`,
//!   OpenRouter's `provider`, ...) come with every chunk and do not count. A chunk of a shape
//!   this does not know (`choices` not a list, a choice or delta not an object) is kept as it
//!   is.
//!
//! Translated chunks are settled as values ([`settle`]). Pass-through chunks are JSON text the
//! host parses: the scan that checks them ([`crate::limits::scan_object_with`]) takes a
//! [`Glance`] at them in the same pass, and only those it cannot vouch for (a tool-call
//! fragment, a chunk that may carry nothing) are parsed here ([`settle_text`]); the common
//! content chunk passes through as sent.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::limits::{is_null, Observe};

/// What the scan of a pass-through chunk saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Glance {
    /// The member at depth 1 being read is `choices`.
    in_choices: bool,
    /// The member at depth 3 (a choice's) being read is `delta`.
    in_delta: bool,
    /// The chunk surely carries something (see the module's rule).
    pub carries: bool,
    /// The chunk has what [`settle`] may have to change (tool calls), or a key written with
    /// escapes (at the top level, in a choice or in a delta), which the comparisons here do not
    /// read: such a chunk is parsed.
    pub unsure: bool,
}

impl Glance {
    /// Whether the chunk can go out as sent without being parsed.
    pub fn as_sent(&self) -> bool {
        self.carries && !self.unsure
    }
}

impl Observe for Glance {
    // The top level, a choice (3: `choices` is a list of them), a delta (4).
    const DEPTH: usize = 4;

    #[inline]
    fn member(&mut self, depth: usize, key: &[u8], value: &[u8]) {
        match depth {
            1 => {
                if key.contains(&b'\\') {
                    // An escaped `choices` would hide its tool calls from the rest of the scan.
                    self.unsure = true;
                }
                self.in_choices = key == b"\"choices\"";
                if (key == b"\"usage\"" || key == b"\"prompt_filter_results\"") && !vacant(value) {
                    self.carries = true;
                }
            }
            3 if self.in_choices => {
                self.in_delta = key == b"\"delta\"";
                if !self.in_delta && key != b"\"index\"" && !vacant(value) {
                    if key.contains(&b'\\') {
                        self.unsure = true;
                    } else {
                        self.carries = true;
                    }
                }
            }
            4 if self.in_choices && self.in_delta => {
                if key == b"\"content\"" {
                    // Null or "" carry nothing (LiteLLM's rule); `{}` and `[]`, which are no
                    // content, are left for `settle` to judge.
                    if !vacant(value) {
                        self.carries = true;
                    }
                } else if key == b"\"tool_calls\"" || key.contains(&b'\\') {
                    self.unsure = true;
                } else if !is_null(value) {
                    self.carries = true;
                }
            }
            _ => {}
        }
    }
}

/// Whether a value's text (from just after its colon) starts with null, `""`, `{}` or `[]`.
fn vacant(value: &[u8]) -> bool {
    let start = value.iter().position(|b| !b.is_ascii_whitespace());
    let value = &value[start.unwrap_or(value.len())..];
    let close = match value.first() {
        Some(b'n') => return true,
        Some(b'"') => return value.get(1) == Some(&b'"'),
        Some(b'{') => b'}',
        Some(b'[') => b']',
        _ => return false,
    };
    value[1..].iter().find(|b| !b.is_ascii_whitespace()) == Some(&close)
}

/// The same for a parsed value.
fn is_vacant(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(fields) => fields.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// What becomes of a pass-through chunk's text.
#[derive(Debug, PartialEq, Eq)]
pub enum Settled<'a> {
    /// It goes out as sent.
    AsSent(&'a str),
    /// It goes out as rewritten.
    Rewritten(String),
    /// It carries nothing: it does not go out.
    Dropped,
}

/// A pass-through chunk's text, as [`settle`] leaves it; `glance` is what its scan saw. Text
/// that does not parse here goes out as sent, for the host's parser to judge.
pub fn settle_text(text: &str, glance: Glance) -> Settled<'_> {
    if glance.as_sent() {
        return Settled::AsSent(text);
    }
    let mut chunk: Value = match serde_json::from_str(text) {
        Ok(chunk) => chunk,
        Err(_) => return Settled::AsSent(text),
    };
    let settled = settle(&mut chunk);
    if !settled.carries {
        Settled::Dropped
    } else if settled.changed {
        Settled::Rewritten(chunk.to_string())
    } else {
        Settled::AsSent(text)
    }
}

/// What [`settle`] did and found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settle {
    /// The chunk carries something: it goes out.
    pub carries: bool,
    /// Its tool-call fragments were completed.
    pub changed: bool,
}

/// Completes a chunk's tool-call fragments and says whether it carries anything (see the
/// module's rules).
pub fn settle(chunk: &mut Value) -> Settle {
    let fields = match chunk {
        Value::Object(fields) => fields,
        _ => {
            return Settle {
                carries: true,
                changed: false,
            }
        }
    };
    let mut carries = ["usage", "prompt_filter_results"]
        .iter()
        .any(|name| fields.get(*name).map_or(false, |value| !is_vacant(value)));
    let mut changed = false;
    match fields.get_mut("choices") {
        None | Some(Value::Null) => {}
        Some(Value::Array(choices)) => {
            for choice in choices {
                let choice = match choice {
                    Value::Object(choice) => choice,
                    _ => {
                        carries = true;
                        continue;
                    }
                };
                for (name, value) in choice.iter_mut() {
                    match (name.as_str(), value) {
                        ("index", _) | ("delta", Value::Null) => {}
                        ("delta", Value::Object(delta)) => {
                            changed |= complete_tool_calls(delta);
                            carries |= delta.iter().any(|(name, value)| match value {
                                Value::Null => false,
                                Value::String(text) => !(text.is_empty() && name == "content"),
                                _ => true,
                            });
                        }
                        (_, value) => carries |= !is_vacant(value),
                    }
                }
            }
        }
        Some(_) => carries = true,
    }
    Settle { carries, changed }
}

/// Gives every tool-call fragment of `delta` every key, as LiteLLM's `Delta` does (see the
/// module's docs). Returns whether anything changed.
fn complete_tool_calls(delta: &mut Map<String, Value>) -> bool {
    let calls = match delta.get_mut("tool_calls") {
        Some(Value::Array(calls)) => calls,
        _ => return false,
    };
    let before = calls.len();
    calls.retain(Value::is_object);
    let mut changed = calls.len() != before;
    let mut unnumbered = 0u64;
    for call in calls.iter_mut() {
        let call = match call {
            Value::Object(call) => call,
            _ => continue,
        };
        if call.get("index").map_or(true, Value::is_null) {
            call.insert("index".into(), Value::from(unnumbered));
            unnumbered += 1;
            changed = true;
        }
        let custom = call.get("type").and_then(Value::as_str) == Some("custom")
            || call.get("custom").map_or(false, |custom| !custom.is_null());
        changed |= if custom {
            complete_custom(call)
        } else {
            complete_function(call)
        };
    }
    changed
}

/// A function call's fragment: `id` (null), `type` ("function"), `function` with exactly
/// `name` (null) and `arguments` (text, "" when not sent).
fn complete_function(call: &mut Map<String, Value>) -> bool {
    let mut changed = absent_as_null(call, "id");
    if call.get("type").map_or(true, Value::is_null) {
        call.insert("type".into(), Value::from("function"));
        changed = true;
    }
    let function = match call.get_mut("function") {
        Some(Value::Object(function)) => function,
        _ => {
            let mut empty = Map::new();
            empty.insert("name".into(), Value::Null);
            empty.insert("arguments".into(), Value::from(""));
            call.insert("function".into(), Value::Object(empty));
            return true;
        }
    };
    let before = function.len();
    function.retain(|name, _| name == "name" || name == "arguments");
    changed |= function.len() != before;
    changed |= absent_as_null(function, "name");
    match function.get("arguments") {
        Some(Value::String(_)) => {}
        None | Some(Value::Null) => {
            function.insert("arguments".into(), Value::from(""));
            changed = true;
        }
        Some(other) => {
            let text = python_dumps(other);
            function.insert("arguments".into(), Value::from(text));
            changed = true;
        }
    }
    changed
}

/// A custom tool call's fragment: `id` and `type` null when not sent, `custom` with `name` and
/// `input` (null when not sent), and no null `function`.
fn complete_custom(call: &mut Map<String, Value>) -> bool {
    let mut changed = absent_as_null(call, "id") | absent_as_null(call, "type");
    if call.get("function").map_or(false, Value::is_null) {
        call.remove("function");
        changed = true;
    }
    match call.get_mut("custom") {
        Some(Value::Object(custom)) => {
            changed |= absent_as_null(custom, "name") | absent_as_null(custom, "input");
        }
        _ => {
            let mut empty = Map::new();
            empty.insert("name".into(), Value::Null);
            empty.insert("input".into(), Value::Null);
            call.insert("custom".into(), Value::Object(empty));
            changed = true;
        }
    }
    changed
}

/// Adds `name` as null when it is missing; returns whether it did.
fn absent_as_null(fields: &mut Map<String, Value>, name: &str) -> bool {
    if fields.contains_key(name) {
        return false;
    }
    fields.insert(name.into(), Value::Null);
    true
}

/// `value` as Python's `json.dumps` writes it by default (", " and ": " between members,
/// everything past printable ASCII escaped), which is how LiteLLM turns arguments sent as an object into
/// text. Numbers are written as serde_json writes them.
fn python_dumps(value: &Value) -> String {
    let mut out = Vec::new();
    let mut writer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    // Writing plain data to a Vec cannot fail, and writes only ASCII.
    let _ = value.serialize(&mut writer);
    String::from_utf8(out).unwrap_or_default()
}

struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        if fragment.bytes().all(|byte| byte < 0x7f) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut units = [0u16; 2];
        for character in fragment.chars() {
            if character == '\u{7f}' {
                writer.write_all(b"\\u007f")?;
            } else if character.is_ascii() {
                writer.write_all(&[character as u8])?;
            } else {
                for unit in character.encode_utf16(&mut units) {
                    write!(writer, "\\u{:04x}", unit)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{scan_object_with, Scan};
    use serde_json::json;

    fn chunk(delta: Value) -> Value {
        json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": delta, "finish_reason": null, "logprobs": null}]})
    }

    fn glance(text: &str) -> Glance {
        let mut glance = Glance::default();
        assert_eq!(
            scan_object_with(text.as_bytes(), 64, &mut glance).unwrap(),
            Scan::Chunk
        );
        glance
    }

    /// A chunk's text as it goes out, or None when it does not.
    fn settled(chunk: &Value) -> Option<Value> {
        let text = chunk.to_string();
        match settle_text(&text, glance(&text)) {
            Settled::AsSent(sent) => Some(serde_json::from_str(sent).unwrap()),
            Settled::Rewritten(text) => Some(serde_json::from_str(&text).unwrap()),
            Settled::Dropped => None,
        }
    }

    #[test]
    fn later_fragments_get_every_key_as_litellm_gives_them() {
        let fragments = json!([
            {"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": ""}},
            {"index": 0, "function": {"arguments": "{\"a\""}},
            {"index": 1, "function": {"name": "g"}},
            {"index": 2},
            {"index": 3, "id": null, "type": null, "function": {"name": null, "arguments": null}},
            {"index": 4, "function": {"arguments": {"k": "é", "l": [1, 2]}, "extra": 1}, "extra_content": {"x": 1}},
        ]);
        let mut value = chunk(json!({ "tool_calls": fragments }));
        assert!(settle(&mut value).changed);
        assert_eq!(
            value["choices"][0]["delta"]["tool_calls"],
            json!([
                {"index": 0, "id": "call_a", "type": "function", "function": {"name": "f", "arguments": ""}},
                {"index": 0, "id": null, "type": "function", "function": {"name": null, "arguments": "{\"a\""}},
                {"index": 1, "id": null, "type": "function", "function": {"name": "g", "arguments": ""}},
                {"index": 2, "id": null, "type": "function", "function": {"name": null, "arguments": ""}},
                {"index": 3, "id": null, "type": "function", "function": {"name": null, "arguments": ""}},
                {"index": 4, "id": null, "type": "function",
                 "function": {"name": null, "arguments": "{\"k\": \"\\u00e9\", \"l\": [1, 2]}"},
                 "extra_content": {"x": 1}},
            ])
        );
        let mut whole = chunk(json!({"tool_calls": [
            {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}));
        assert!(!settle(&mut whole).changed);
    }

    #[test]
    fn unnumbered_custom_and_stray_fragments() {
        let mut value = chunk(json!({"tool_calls": [
            null,
            {"function": {"arguments": "x"}},
            {"index": 7, "function": {"arguments": "y"}},
            {"function": {"name": "n"}},
            {"index": 1, "custom": {"input": "i"}, "function": null},
            {"index": 2, "type": "custom"},
            3,
        ]}));
        settle(&mut value);
        assert_eq!(
            value["choices"][0]["delta"]["tool_calls"],
            json!([
                {"index": 0, "id": null, "type": "function", "function": {"name": null, "arguments": "x"}},
                {"index": 7, "id": null, "type": "function", "function": {"name": null, "arguments": "y"}},
                {"index": 1, "id": null, "type": "function", "function": {"name": "n", "arguments": ""}},
                {"index": 1, "custom": {"input": "i", "name": null}, "id": null, "type": null},
                {"index": 2, "type": "custom", "id": null, "custom": {"name": null, "input": null}},
            ])
        );
    }

    #[test]
    fn what_carries_something() {
        let carries = |mut value: Value| settle(&mut value).carries;
        for delta in [
            json!({}),
            json!({"content": ""}),
            json!({"content": null, "role": null, "tool_calls": null, "refusal": null}),
        ] {
            assert!(!carries(chunk(delta.clone())), "{}", delta);
        }
        for delta in [
            json!({"role": "assistant"}),
            json!({"role": "assistant", "content": ""}),
            json!({"content": " "}),
            json!({"reasoning_content": ""}),
            json!({"tool_calls": []}),
            json!({"function_call": {"arguments": "x"}}),
            json!({"refusal": "no"}),
            json!({"thinking_blocks": [{"type": "thinking"}]}),
            json!({"annotations": []}),
            json!({"audio": {"id": "a"}}),
        ] {
            assert!(carries(chunk(delta.clone())), "{}", delta);
        }
        let mut finished = chunk(json!({}));
        finished["choices"][0]["finish_reason"] = json!("stop");
        assert!(carries(finished));
        let mut logprobs = chunk(json!({}));
        logprobs["choices"][0]["logprobs"] = json!({"content": []});
        assert!(carries(logprobs));
        let mut filtered = chunk(json!({}));
        filtered["choices"][0]["content_filter_results"] = json!({"hate": {"filtered": false}});
        assert!(carries(filtered.clone()));
        for vacant in [json!({}), json!([]), json!("")] {
            filtered["choices"][0]["content_filter_results"] = vacant;
            assert!(!carries(filtered.clone()));
        }
        let mut unfinished = chunk(json!({}));
        unfinished["choices"][0]["finish_reason"] = json!("");
        assert!(!carries(unfinished));
        let mut nothing_but_identity = chunk(json!({"content": ""}));
        nothing_but_identity["provider"] = json!("OpenAI");
        nothing_but_identity["obfuscation"] = json!("xyz");
        nothing_but_identity["system_fingerprint"] = json!("fp");
        assert!(!carries(nothing_but_identity));
        assert!(carries(
            json!({"choices": [], "usage": {"total_tokens": 1}})
        ));
        assert!(!carries(json!({"choices": [], "usage": null})));
        assert!(!carries(json!({"choices": [], "usage": {}})));
        assert!(!carries(json!({"id": "c"})));
        assert!(carries(json!({"choices": [],
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]})));
        // Shapes this does not know are kept.
        assert!(carries(json!({"choices": {"0": {}}})));
        assert!(carries(json!({"choices": [1]})));
        assert!(carries(json!({"choices": [{"delta": "x"}]})));
        assert!(carries(json!([1])));
        // One choice with something is enough.
        let two = json!({"choices": [{"index": 0, "delta": {}}, {"index": 1, "delta": {"content": "x"}}]});
        assert!(carries(two));
    }

    #[test]
    fn the_glance_vouches_only_for_chunks_that_carry_something_and_need_nothing() {
        let content = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"obfuscation":"ab"}"#;
        assert!(glance(content).as_sent());
        assert_eq!(
            settle_text(content, glance(content)),
            Settled::AsSent(content)
        );
        for text in [
            r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"total_tokens":3}}"#,
            r#"{"choices" : [ { "delta" : { "content" : "x" } } ] }"#,
            r#"{"choices":[],"prompt_filter_results":[{"content_filter_results":{}}]}"#,
        ] {
            assert!(glance(text).as_sent(), "{}", text);
        }
        // Parsed: it may carry nothing, or its tool calls may need keys.
        for text in [
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":null}]}"#,
            r#"{"choices":[{"delta":{"content":""}}]}"#,
            r#"{"choices":[{"delta":{"content":null}}]}"#,
            r#"{"choices":[{"delta":{"content":"x","tool_calls":[{"index":0}]}}]}"#,
            r#"{"choices":[{"delta":{"c\u006fntent":"x"}}]}"#,
            r#"{"usage":null,"model":"m","content":"x","delta":{"content":"x"}}"#,
            r#"{"x":{"choices":[{"delta":{"content":"x"}}]}}"#,
            r#"{"choices":[{"delta":{},"content_filter_results":{ },"finish_reason":""}]}"#,
            r#"{"choices":[],"usage":{}}"#,
        ] {
            assert!(!glance(text).as_sent(), "{}", text);
        }
        // Wherever the glance vouches, settling agrees.
        for text in [
            content,
            r#"{"choices":{"a":{"delta":{"content":"x"}}}}"#,
            r#"{"choices":[[{"delta":{"content":"x"}}]]}"#,
        ] {
            let mut value: Value = serde_json::from_str(text).unwrap();
            assert!(settle(&mut value).carries, "{}", text);
        }
    }

    #[test]
    fn an_escaped_top_level_key_makes_the_chunk_parsed() {
        // `choices` written with an escape, beside usage that carries something: its tool call
        // must still be completed.
        let text = r#"{"id":"c","usage":{"total_tokens":1},"\u0063hoices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}"#;
        assert!(!glance(text).as_sent());
        let fixed: Value = match settle_text(text, glance(text)) {
            Settled::Rewritten(text) => serde_json::from_str(&text).unwrap(),
            _ => panic!("not rewritten"),
        };
        let fragment = &fixed["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(fragment.get("id"), Some(&Value::Null));
        assert_eq!(fragment["type"], "function");
    }

    #[test]
    fn pass_through_chunks_are_dropped_rewritten_or_sent_as_they_came() {
        assert_eq!(settled(&chunk(json!({}))), None);
        assert_eq!(settled(&chunk(json!({"content": ""}))), None);
        let fragment =
            chunk(json!({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}));
        let out = settled(&fragment).unwrap();
        assert_eq!(
            out["choices"][0]["delta"]["tool_calls"][0],
            json!({"index": 1, "id": null, "type": "function", "function": {"name": null, "arguments": "{}"}})
        );
        // Everything else as it came.
        let mut expected = fragment.clone();
        expected["choices"][0]["delta"]["tool_calls"][0] =
            out["choices"][0]["delta"]["tool_calls"][0].clone();
        assert_eq!(out, expected);
        // Text the host's parser judges (Python reads NaN) goes out as sent.
        let odd = r#"{"choices":[{"delta":{}}],"x":NaN}"#;
        assert_eq!(settle_text(odd, glance(odd)), Settled::AsSent(odd));
    }

    #[test]
    fn arguments_sent_as_objects_become_text_as_python_writes_it() {
        assert_eq!(
            python_dumps(&json!({"a": [1, {"b": null}], "c": "\u{1F600}é\"\u{7f}", "d": true})),
            r#"{"a": [1, {"b": null}], "c": "\ud83d\ude00\u00e9\"\u007f", "d": true}"#
        );
        assert_eq!(python_dumps(&json!([])), "[]");
        assert_eq!(python_dumps(&json!({})), "{}");
    }
}
