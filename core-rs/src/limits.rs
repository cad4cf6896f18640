//! Bounds on what a hostile or broken server can make the core do or hold. Hosts may lower or
//! raise them per call; exceeding one is a `limit_exceeded` error naming it.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{CoreError, ErrorKind};

/// The deepest nesting serde_json itself accepts; `max_depth` cannot go past it.
pub const HARD_MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest line, and most data in one event, of a server-sent-event stream.
    pub max_event_bytes: usize,
    /// Deepest nesting of arrays and objects in an answer or a stream event.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_bytes: 16 << 20,
            max_depth: 64,
        }
    }
}

fn too_deep(max_depth: usize) -> CoreError {
    CoreError::new(
        ErrorKind::LimitExceeded,
        format!(
            "the answer nests deeper than the max_depth limit of {}",
            max_depth
        ),
    )
}

/// Fails if JSON `text` nests arrays and objects deeper than `max_depth`. A linear scan that
/// runs before parsing, so deep input never reaches the recursive parser.
pub fn check_depth(text: &[u8], max_depth: usize) -> Result<(), CoreError> {
    let max_depth = max_depth.min(HARD_MAX_DEPTH);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in text {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return Err(too_deep(max_depth));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Checks in one pass, building nothing, that `text` is a JSON object nested at most
/// `max_depth` deep, and tells whether it has a top-level `error` member that is not null.
/// For answers that pass through untranslated.
pub fn probe_object(text: &[u8], max_depth: usize) -> Result<bool, ProbeError> {
    let max_depth = max_depth.min(HARD_MAX_DEPTH);
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ProbeError::NotAnObject);
    }
    let mut parser = serde_json::Deserializer::from_slice(text);
    let has_error = parser
        .deserialize_map(Level {
            remaining: max_depth,
            find_error: true,
        })
        .and_then(|found| parser.end().map(|()| found));
    has_error.map_err(|e| {
        if e.to_string().starts_with(TOO_DEEP) || e.to_string().starts_with("recursion limit") {
            ProbeError::Limit(too_deep(max_depth))
        } else {
            ProbeError::Invalid(e)
        }
    })
}

#[derive(Debug)]
pub enum ProbeError {
    NotAnObject,
    Invalid(serde_json::Error),
    /// Unclosed strings or brackets, or text after the object (from [`scan_object`]).
    Unbalanced,
    Limit(CoreError),
}

const TOO_DEEP: &str = "nested too deep";

/// A visitor that walks one level of JSON, checking depth; at the top it also looks for a
/// non-null `error` member. Its value says whether it found one.
#[derive(Clone, Copy)]
struct Level {
    remaining: usize,
    find_error: bool,
}

impl Level {
    fn deeper<E: de::Error>(self) -> Result<Level, E> {
        match self.remaining {
            0 => Err(E::custom(TOO_DEEP)),
            remaining => Ok(Level {
                remaining: remaining - 1,
                find_error: false,
            }),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Level {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Level {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false) // null: "present" only when not null
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let inner = self.deeper()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let inner = self.deeper()?;
        if !self.find_error {
            while map.next_key::<IgnoredAny>()?.is_some() {
                map.next_value_seed(inner)?;
            }
            return Ok(true);
        }
        let mut has_error = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let present = map.next_value_seed(inner)?;
            has_error |= key == "error" && present;
        }
        Ok(has_error)
    }
}

/// What a linear scan of a pass-through stream chunk found (see [`scan_object`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Scan {
    /// An object whose top level has no `error` member, or a null one.
    Chunk,
    /// An object with a non-null top-level `error` member: the provider reports a failure.
    Error,
}

/// Checks, in one pass over the bytes and building nothing, that `text` looks like one JSON
/// object (balanced, strings closed, nothing after it) nested at most `max_depth` deep, and
/// whether its top level has a non-null `error` member.
///
/// It does not validate the tokens between the brackets: the host parses the chunk anyway, and
/// its parser is the one that decides what is valid JSON, so the same bytes read the same
/// whether they come as a stream chunk or as a complete answer.
pub fn scan_object(text: &[u8], max_depth: usize) -> Result<Scan, ProbeError> {
    let max_depth = max_depth.min(HARD_MAX_DEPTH);
    let start = match text.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(start) if text[start] == b'{' => start,
        _ => return Err(ProbeError::NotAnObject),
    };
    let unbalanced = || ProbeError::Unbalanced;
    let mut depth = 0usize;
    let mut found = Scan::Chunk;
    // At depth 1: whether the next string is a key, and whether the last key was `error`.
    let mut expect_key = false;
    let mut error_key = false;
    let mut i = start;
    while i < text.len() {
        let byte = text[i];
        match byte {
            b'"' => {
                let end = string_end(text, i + 1).ok_or_else(unbalanced)?;
                if depth == 1 && expect_key {
                    error_key = is_error_key(&text[i..=end]);
                    expect_key = false;
                }
                i = end;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(ProbeError::Limit(too_deep(max_depth)));
                }
                expect_key = depth == 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1).ok_or_else(unbalanced)?;
                if depth == 0 {
                    let rest = &text[i + 1..];
                    if !rest.iter().all(u8::is_ascii_whitespace) {
                        return Err(ProbeError::Unbalanced);
                    }
                    return Ok(found);
                }
            }
            b',' if depth == 1 => expect_key = true,
            b':' if depth == 1 && error_key => {
                let value = text[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
                if value != Some(&b'n') {
                    found = Scan::Error;
                }
                error_key = false;
            }
            _ => {}
        }
        i += 1;
    }
    Err(ProbeError::Unbalanced)
}

/// The index of the quote that closes the string whose contents start at `from`.
fn string_end(text: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Whether a quoted key reads `error`, escapes included (`"\u0065rror"`).
fn is_error_key(quoted: &[u8]) -> bool {
    if quoted == b"\"error\"" {
        return true;
    }
    quoted.contains(&b'\\')
        && serde_json::from_slice::<String>(quoted).map_or(false, |k| k == "error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings() {
        assert!(check_depth(br#"{"a": [[1], {"b": 2}]}"#, 3).is_ok());
        assert!(check_depth(br#"{"a": [[1]]}"#, 2).is_err());
        assert!(check_depth(br#"{"a": "[[[[[[\"{{{{"}"#, 1).is_ok());
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let error = check_depth(deep.as_bytes(), 64).unwrap_err();
        assert_eq!(error.kind, ErrorKind::LimitExceeded);
        assert!(error.message.contains("max_depth limit of 64"));
        assert!(
            check_depth(
                format!("{}{}", "[".repeat(200), "]".repeat(200)).as_bytes(),
                1000
            )
            .is_err(),
            "capped at serde_json's own limit"
        );
    }

    #[test]
    fn probe_finds_errors_and_depth_in_one_pass() {
        assert!(!probe_object(br#"{"a": [1, {"b": null}], "error": null}"#, 8).unwrap());
        assert!(probe_object(br#"{"x": "\u00e9", "error": {"message": "m"}}"#, 8).unwrap());
        assert!(matches!(
            probe_object(b"[1]", 8),
            Err(ProbeError::NotAnObject)
        ));
        assert!(matches!(
            probe_object(b"{\"a\": ", 8),
            Err(ProbeError::Invalid(_))
        ));
        assert!(matches!(
            probe_object(b"{} {}", 8),
            Err(ProbeError::Invalid(_))
        ));
        match probe_object(br#"{"a": [[[1]]]}"#, 3) {
            Err(ProbeError::Limit(error)) => {
                assert!(error.message.contains("max_depth limit of 3"))
            }
            other => panic!("{:?}", other),
        }
        assert!(probe_object(br#"{"a": [[1]]}"#, 3).is_ok());
    }

    #[test]
    fn scan_finds_top_level_errors_depth_and_imbalance() {
        let scan = |text: &str, depth| scan_object(text.as_bytes(), depth);
        assert_eq!(
            scan(r#" {"a": [1, {"error": 1}], "error": null} "#, 8).unwrap(),
            Scan::Chunk
        );
        assert_eq!(
            scan(r#"{"x": "}\"{", "error": {"m": 1}}"#, 8).unwrap(),
            Scan::Error
        );
        assert_eq!(scan(r#"{"\u0065rror": "boom"}"#, 8).unwrap(), Scan::Error);
        assert_eq!(
            scan(r#"{"errors": 1, "e": "error"}"#, 8).unwrap(),
            Scan::Chunk
        );
        assert_eq!(
            scan(r#"{"a": NaN, "b": -Infinity}"#, 8).unwrap(),
            Scan::Chunk
        );
        for bad in [
            r#"{"a": "open"#,
            r#"{"a": [1}"#,
            r#"{"a": 1}}"#,
            r#"{} {}"#,
            "{",
        ] {
            assert!(
                matches!(scan(bad, 8), Err(ProbeError::Unbalanced)),
                "{}",
                bad
            );
        }
        for not_object in ["[1]", "", "  ", "null", "\"{\""] {
            assert!(matches!(scan(not_object, 8), Err(ProbeError::NotAnObject)));
        }
        assert!(matches!(
            scan(r#"{"a": [[1]]}"#, 2),
            Err(ProbeError::Limit(_))
        ));
        assert!(scan(r#"{"a": [[1]]}"#, 3).is_ok());
    }
}
