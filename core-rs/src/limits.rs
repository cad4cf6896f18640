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
                    return Err(CoreError::new(
                        ErrorKind::LimitExceeded,
                        format!(
                            "the answer nests deeper than the max_depth limit of {}",
                            max_depth
                        ),
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
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
}
