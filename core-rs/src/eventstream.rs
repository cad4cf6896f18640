//! AWS's binary event-stream framing (`application/vnd.amazon.eventstream`), which Bedrock's
//! ConverseStream answers in, decoded incrementally: input may be split at any byte.
//!
//! A message is a 12-byte prelude (total length, headers length, both big-endian u32, and the
//! CRC32 of those 8 bytes), the headers, the payload, and the CRC32 of everything before it.
//! Both checksums are verified; a message that fails either, or whose lengths cannot be right,
//! is an error, never a guess. Each message becomes an [`Event`] for a protocol's translator:
//! `event_type` is the `:event-type` header for events, `exception <type>` for exceptions and
//! `error <code>` for errors; `data` is the payload (JSON text for Bedrock).

use crate::error::{CoreError, ErrorKind};
use crate::sse::Event;

const PRELUDE: usize = 12;
/// The smallest message: prelude and message CRC, no headers, no payload.
const MIN_MESSAGE: usize = PRELUDE + 4;

/// CRC-32 (IEEE 802.3, as zlib computes it).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn framing_error(message: String) -> CoreError {
    CoreError::new(ErrorKind::InvalidResponse, message)
}

pub struct EventStreamDecoder {
    buffer: Vec<u8>,
    max_message_bytes: usize,
}

impl EventStreamDecoder {
    pub fn new(max_message_bytes: usize) -> Self {
        EventStreamDecoder {
            buffer: Vec::new(),
            max_message_bytes,
        }
    }

    /// Decodes every whole message in the input so far, handing each to `sink` in order.
    pub fn feed<F>(&mut self, bytes: &[u8], sink: &mut F) -> Result<(), CoreError>
    where
        F: FnMut(Event) -> Result<(), CoreError>,
    {
        self.buffer.extend_from_slice(bytes);
        let mut start = 0;
        while self.buffer.len() - start >= PRELUDE {
            let message = &self.buffer[start..];
            let total = u32_at(message, 0) as usize;
            let headers_length = u32_at(message, 4) as usize;
            if crc32(&message[..8]) != u32_at(message, 8) {
                return Err(framing_error(
                    "the event stream's message prelude fails its checksum".into(),
                ));
            }
            if total < MIN_MESSAGE || headers_length > total - MIN_MESSAGE {
                return Err(framing_error(format!(
                    "an event stream message claims {} bytes with {} of headers",
                    total, headers_length
                )));
            }
            if total > self.max_message_bytes {
                return Err(CoreError::new(
                    ErrorKind::LimitExceeded,
                    format!(
                        "an event stream message of {} bytes is larger than max_event_bytes ({})",
                        total, self.max_message_bytes
                    ),
                ));
            }
            if message.len() < total {
                break; // the rest of this message is still on its way
            }
            if crc32(&message[..total - 4]) != u32_at(message, total - 4) {
                return Err(framing_error(
                    "an event stream message fails its checksum".into(),
                ));
            }
            let headers = &message[PRELUDE..PRELUDE + headers_length];
            let payload = &message[PRELUDE + headers_length..total - 4];
            let event = event_of(headers, payload)?;
            start += total;
            sink(event)?;
        }
        self.buffer.drain(..start);
        Ok(())
    }
}

/// The headers this framing defines, as strings (only string headers are read).
#[derive(Default)]
struct Headers {
    message_type: String,
    event_type: String,
    exception_type: String,
    error_code: String,
    error_message: String,
}

fn event_of(headers: &[u8], payload: &[u8]) -> Result<Event, CoreError> {
    let headers = parse_headers(headers)?;
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let (event_type, data) = match headers.message_type.as_str() {
        "exception" => (
            format!("exception {}", headers.exception_type),
            text(payload),
        ),
        "error" => (
            format!("error {}", headers.error_code),
            headers.error_message,
        ),
        _ => (headers.event_type, text(payload)),
    };
    Ok(Event {
        event_type,
        data,
        id: String::new(),
    })
}

fn parse_headers(mut bytes: &[u8]) -> Result<Headers, CoreError> {
    let truncated = || framing_error("an event stream message has a truncated header".into());
    let mut headers = Headers::default();
    while !bytes.is_empty() {
        let name_length = bytes[0] as usize;
        let name = bytes.get(1..1 + name_length).ok_or_else(truncated)?;
        let kind = *bytes.get(1 + name_length).ok_or_else(truncated)?;
        let rest = &bytes[2 + name_length..];
        // Value sizes by type: bool true/false, byte, short, int, long, bytes, string,
        // timestamp, uuid.
        let (value, size) = match kind {
            0 | 1 => (&rest[..0], 0),
            2 => (rest.get(..1).ok_or_else(truncated)?, 1),
            3 => (rest.get(..2).ok_or_else(truncated)?, 2),
            4 => (rest.get(..4).ok_or_else(truncated)?, 4),
            5 | 8 => (rest.get(..8).ok_or_else(truncated)?, 8),
            9 => (rest.get(..16).ok_or_else(truncated)?, 16),
            6 | 7 => {
                let length = rest.get(..2).ok_or_else(truncated)?;
                let length = u16::from_be_bytes([length[0], length[1]]) as usize;
                (rest.get(2..2 + length).ok_or_else(truncated)?, 2 + length)
            }
            other => {
                return Err(framing_error(format!(
                    "an event stream header has the unknown type {}",
                    other
                )))
            }
        };
        if kind == 7 {
            let value = String::from_utf8_lossy(value).into_owned();
            match name {
                b":message-type" => headers.message_type = value,
                b":event-type" => headers.event_type = value,
                b":exception-type" => headers.exception_type = value,
                b":error-code" => headers.error_code = value,
                b":error-message" => headers.error_message = value,
                _ => {}
            }
        }
        bytes = &rest[size..];
    }
    Ok(headers)
}

/// Messages framed as AWS frames them, for tests here and of the Bedrock reader.
#[cfg(test)]
pub(crate) mod testing {
    use crate::eventstream::{crc32, PRELUDE};

    /// A message as AWS frames it, with string headers.
    pub fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
        let mut head = Vec::new();
        for (name, value) in headers {
            head.push(name.len() as u8);
            head.extend_from_slice(name.as_bytes());
            head.push(7);
            head.extend_from_slice(&(value.len() as u16).to_be_bytes());
            head.extend_from_slice(value.as_bytes());
        }
        let total = (PRELUDE + head.len() + payload.len() + 4) as u32;
        let mut message = Vec::new();
        message.extend_from_slice(&total.to_be_bytes());
        message.extend_from_slice(&(head.len() as u32).to_be_bytes());
        let prelude_crc = crc32(&message);
        message.extend_from_slice(&prelude_crc.to_be_bytes());
        message.extend_from_slice(&head);
        message.extend_from_slice(payload);
        let crc = crc32(&message);
        message.extend_from_slice(&crc.to_be_bytes());
        message
    }

    pub fn event(event_type: &str, payload: &str) -> Vec<u8> {
        frame(
            &[
                (":event-type", event_type),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            payload.as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{event, frame};
    use super::*;

    fn decode(pieces: &[&[u8]]) -> Result<Vec<(String, String)>, CoreError> {
        let mut decoder = EventStreamDecoder::new(1 << 20);
        let mut events = Vec::new();
        for piece in pieces {
            decoder.feed(piece, &mut |e| {
                events.push((e.event_type, e.data));
                Ok(())
            })?;
        }
        Ok(events)
    }

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Events and the error, if any, through the whole stream API (as hosts see it).
    fn through_core(pieces: &[&[u8]]) -> (Vec<serde_json::Value>, Option<String>) {
        let mut stream = crate::open_stream(br#"{"protocol": "raw_event_stream"}"#).unwrap();
        let mut events = Vec::new();
        for piece in pieces {
            let batch: serde_json::Value = serde_json::from_str(&stream.feed(piece)).unwrap();
            events.extend(batch["chunks"].as_array().unwrap().clone());
            if let Some(message) = batch["error"]["message"].as_str() {
                return (events, Some(message.to_string()));
            }
        }
        (events, None)
    }

    #[test]
    fn shared_vectors_whole_and_split_at_every_byte() {
        let doc: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/eventstream_vectors.json"
        ))
        .unwrap();
        for vector in doc["vectors"].as_array().unwrap() {
            let input = unhex(vector["input_hex"].as_str().unwrap());
            let expected = vector["events"].as_array().cloned().unwrap_or_default();
            for cut in 0..=input.len() {
                let (events, error) = through_core(&[&input[..cut], &input[cut..]]);
                assert_eq!(events, expected, "{} cut at {}", vector["name"], cut);
                match vector["error"].as_str() {
                    Some(wanted) => assert!(
                        error.as_deref().map_or(false, |e| e.contains(wanted)),
                        "{}: {:?}",
                        vector["name"],
                        error
                    ),
                    None => assert_eq!(error, None, "{}", vector["name"]),
                }
            }
        }
    }

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn messages_decode_whole_and_split_at_every_byte() {
        let mut bytes = event("messageStart", r#"{"role":"assistant"}"#);
        bytes.extend(frame(
            &[
                (":message-type", "exception"),
                (":exception-type", "throttlingException"),
            ],
            br#"{"message":"slow down"}"#,
        ));
        let expected = vec![
            (
                "messageStart".to_string(),
                r#"{"role":"assistant"}"#.to_string(),
            ),
            (
                "exception throttlingException".to_string(),
                r#"{"message":"slow down"}"#.to_string(),
            ),
        ];
        assert_eq!(decode(&[&bytes]).unwrap(), expected);
        for cut in 0..=bytes.len() {
            assert_eq!(
                decode(&[&bytes[..cut], &bytes[cut..]]).unwrap(),
                expected,
                "{}",
                cut
            );
        }
    }

    #[test]
    fn bad_checksums_and_lengths_are_errors() {
        let good = event("messageStop", r#"{"stopReason":"end_turn"}"#);
        let mut bad_prelude = good.clone();
        bad_prelude[9] ^= 1;
        assert!(decode(&[&bad_prelude])
            .unwrap_err()
            .message
            .contains("prelude fails its checksum"));
        let mut bad_body = good.clone();
        let last_payload_byte = good.len() - 5;
        bad_body[last_payload_byte] ^= 1;
        assert!(decode(&[&bad_body])
            .unwrap_err()
            .message
            .contains("message fails its checksum"));
        let mut decoder = EventStreamDecoder::new(16);
        let error = decoder.feed(&good, &mut |_| Ok(())).unwrap_err();
        assert_eq!(error.kind, ErrorKind::LimitExceeded);
    }
}
