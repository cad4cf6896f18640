//! Bounds on what a hostile or broken server can make the core do or hold. Hosts may lower or
//! raise them per call; exceeding one is a `limit_exceeded` error naming it.

use serde::{Deserialize, Serialize};

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

/// Why [`scan_object`] refused a text.
#[derive(Debug)]
pub enum ProbeError {
    NotAnObject,
    /// Unclosed strings or brackets, or text after the object.
    Unbalanced,
    Limit(CoreError),
}

/// What a linear scan of a pass-through answer or stream chunk found (see [`scan_object`]).
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
    scan_object_with(text, max_depth, &mut ())
}

/// What [`scan_object_with`] reports while it scans: the members of objects down to a depth.
pub trait Observe {
    /// The deepest level whose members are reported (1: the top level's).
    const DEPTH: usize;
    /// A member of an object `depth` levels deep: its key as sent (quoted, escapes kept), and
    /// the text from just after its colon to the end of the scanned text.
    fn member(&mut self, depth: usize, key: &[u8], value: &[u8]);
}

/// No one listening: [`scan_object`].
impl Observe for () {
    const DEPTH: usize = 0;
    #[inline(always)]
    fn member(&mut self, _depth: usize, _key: &[u8], _value: &[u8]) {}
}

/// [`scan_object`], telling `observer` the members it passes down to `O::DEPTH`, in the same
/// single pass.
pub fn scan_object_with<O: Observe>(
    text: &[u8],
    max_depth: usize,
    observer: &mut O,
) -> Result<Scan, ProbeError> {
    let max_depth = max_depth.min(HARD_MAX_DEPTH);
    // Keys are followed down to here: the top level's always, for its `error`. At most 64
    // levels, one bit each in `objects`.
    let tracked = O::DEPTH.clamp(1, 64);
    let start = match text.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(start) if text[start] == b'{' => start,
        _ => return Err(ProbeError::NotAnObject),
    };
    let unbalanced = || ProbeError::Unbalanced;
    let mut depth = 0usize;
    let mut found = Scan::Chunk;
    // Bit `d - 1`: the container `d` deep (down to `tracked`) is an object, not an array.
    let mut objects = 0u64;
    // Whether the next string is a key, and where the last key was.
    let mut expect_key = false;
    let mut key = (0, 0);
    let mut i = start;
    while i < text.len() {
        let byte = text[i];
        match byte {
            b'"' => {
                let end = string_end(text, i + 1).ok_or_else(unbalanced)?;
                if expect_key {
                    key = (i, end + 1);
                    expect_key = false;
                }
                i = end;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(ProbeError::Limit(too_deep(max_depth)));
                }
                if depth <= tracked {
                    let bit = 1u64 << (depth - 1);
                    if byte == b'{' {
                        objects |= bit;
                        expect_key = true;
                    } else {
                        objects &= !bit;
                    }
                }
            }
            b'}' | b']' => {
                expect_key = false;
                depth = depth.checked_sub(1).ok_or_else(unbalanced)?;
                if depth == 0 {
                    let rest = &text[i + 1..];
                    if !rest.iter().all(u8::is_ascii_whitespace) {
                        return Err(ProbeError::Unbalanced);
                    }
                    return Ok(found);
                }
            }
            b',' if depth <= tracked => expect_key = objects & (1u64 << (depth - 1)) != 0,
            b':' if depth <= tracked => {
                let name = &text[key.0..key.1];
                let value = &text[i + 1..];
                if depth == 1 && is_error_key(name) && !is_null(value) {
                    found = Scan::Error;
                }
                if depth <= O::DEPTH {
                    observer.member(depth, name, value);
                }
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

/// Whether a member's value, from the byte after its colon, is null.
pub fn is_null(value: &[u8]) -> bool {
    value.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'n')
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
    fn strings_end_at_their_closing_quote_whatever_their_length() {
        for length in 0..40 {
            for escape_at in 0..=length {
                // `length` plain bytes, an escaped quote or backslash among them, then the end.
                let mut text = vec![b'a'; length];
                for escaped in [&b"\\\""[..], b"\\\\", b"\\n"] {
                    let mut with = text.clone();
                    with.splice(escape_at..escape_at, escaped.iter().copied());
                    with.extend_from_slice(b"\"rest\"");
                    let end = with.len() - 6;
                    assert_eq!(string_end(&with, 0), Some(end), "{:?}", with);
                    assert_eq!(string_end(&with[..end], 0), None);
                }
                text.push(b'"');
                assert_eq!(string_end(&text, 0), Some(length));
                text.pop();
            }
        }
        assert_eq!(string_end(b"abc\\", 0), None);
        assert_eq!(string_end("\u{e9}\u{1F600}\"".as_bytes(), 0), Some(6));
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
