//! Incremental `text/event-stream` decoder following the WHATWG HTML rules
//! (<https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>).
//!
//! Bytes may arrive split anywhere: inside a CRLF pair, inside a multi-byte character, inside
//! the leading BOM. Lines end at LF, CR or CRLF; invalid UTF-8 becomes U+FFFD; events without
//! data are not dispatched; an event still pending when the input ends is discarded.

use crate::error::{CoreError, ErrorKind};

const BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event` field, or "message" when the event named none.
    pub event_type: String,
    pub data: String,
    /// The last event ID seen so far in the stream (it carries over between events).
    pub id: String,
}

#[derive(Debug)]
pub struct SseDecoder {
    /// Bytes of a line whose end has not arrived yet.
    line: Vec<u8>,
    /// The previous input ended in CR: an LF at the start of the next input belongs to it.
    after_cr: bool,
    /// The first bytes of the stream, held while they could still be a BOM.
    head: Option<Vec<u8>>,
    data: String,
    event_type: String,
    last_id: String,
    retry: Option<u64>,
    max_event_bytes: usize,
}

impl SseDecoder {
    /// `max_event_bytes` bounds one line and one event's data, so a server that never ends a
    /// line cannot make the decoder buffer without end.
    pub fn new(max_event_bytes: usize) -> Self {
        SseDecoder {
            line: Vec::new(),
            after_cr: false,
            head: Some(Vec::new()),
            data: String::new(),
            event_type: String::new(),
            last_id: String::new(),
            retry: None,
            max_event_bytes,
        }
    }

    /// The reconnection time the server asked for with a `retry` field, in milliseconds.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Decodes `bytes`, handing every complete event to `sink` in order. An error from `sink`
    /// stops decoding and is returned.
    pub fn feed<F>(&mut self, bytes: &[u8], sink: &mut F) -> Result<(), CoreError>
    where
        F: FnMut(Event) -> Result<(), CoreError>,
    {
        let with_head;
        let mut rest = bytes;
        if let Some(head) = self.head.as_mut() {
            head.extend_from_slice(bytes);
            if head.len() < BOM.len() && BOM.starts_with(head) {
                return Ok(());
            }
            with_head = self.head.take().unwrap_or_default();
            rest = with_head.strip_prefix(BOM).unwrap_or(&with_head);
        }
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            if self.line.is_empty() {
                self.check_size(end)?;
                self.process_line(&rest[..end], sink)?;
            } else {
                self.check_size(self.line.len() + end)?;
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&rest[..end]);
                self.process_line(&line, sink)?;
                line.clear();
                self.line = line;
            }
            let ended_by_cr = rest[end] == b'\r';
            rest = &rest[end + 1..];
            if ended_by_cr {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.check_size(self.line.len() + rest.len())?;
        self.line.extend_from_slice(rest);
        Ok(())
    }

    fn check_size(&self, line_len: usize) -> Result<(), CoreError> {
        if line_len + self.data.len() > self.max_event_bytes {
            return Err(CoreError::new(
                ErrorKind::LimitExceeded,
                format!(
                    "a server-sent event exceeded the max_event_bytes limit of {} bytes",
                    self.max_event_bytes
                ),
            ));
        }
        Ok(())
    }

    fn process_line<F>(&mut self, line: &[u8], sink: &mut F) -> Result<(), CoreError>
    where
        F: FnMut(Event) -> Result<(), CoreError>,
    {
        if line.is_empty() {
            return self.dispatch(sink);
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.find(':') {
            Some(0) => return Ok(()), // a comment
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (&line[..], ""),
        };
        match field {
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            "data" => {
                // One allocation for an event's usual single data line, not one for the line and
                // another for its line feed (the buffer leaves with each event).
                self.data.reserve(value.len() + 1);
                self.data.push_str(value);
                self.data.push('\n');
            }
            "id" if !value.contains('\0') => {
                self.last_id.clear();
                self.last_id.push_str(value);
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // Digits too many for u64 are as good as no retry field.
                if let Ok(millis) = value.parse() {
                    self.retry = Some(millis);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch<F>(&mut self, sink: &mut F) -> Result<(), CoreError>
    where
        F: FnMut(Event) -> Result<(), CoreError>,
    {
        let event_type = std::mem::take(&mut self.event_type);
        if self.data.is_empty() {
            return Ok(());
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the LF after the last data line
        sink(Event {
            event_type: if event_type.is_empty() {
                "message".to_string()
            } else {
                event_type
            },
            data,
            id: self.last_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// The conformance vectors shared with the Python tests.
    #[derive(Deserialize)]
    struct Vector {
        name: String,
        #[serde(default)]
        input: String,
        #[serde(default)]
        input_bytes: Option<Vec<u8>>,
        events: Vec<ExpectedEvent>,
        #[serde(default)]
        retry: Option<u64>,
    }

    #[derive(Deserialize)]
    struct ExpectedEvent {
        event: String,
        data: String,
        id: String,
    }

    fn decode(pieces: &[&[u8]]) -> (Vec<Event>, Option<u64>) {
        let mut decoder = SseDecoder::new(1 << 20);
        let mut events = Vec::new();
        for piece in pieces {
            decoder
                .feed(piece, &mut |event| {
                    events.push(event);
                    Ok(())
                })
                .unwrap();
        }
        (events, decoder.retry())
    }

    #[test]
    fn conformance_vectors_whole_bytewise_and_split_everywhere() {
        let vectors: Vec<Vector> =
            serde_json::from_str(include_str!("../../tests/fixtures/sse_vectors.json")).unwrap();
        assert!(vectors.len() >= 20);
        for vector in vectors {
            let input = vector
                .input_bytes
                .clone()
                .unwrap_or_else(|| vector.input.as_bytes().to_vec());
            let expected: Vec<Event> = vector
                .events
                .iter()
                .map(|e| Event {
                    event_type: e.event.clone(),
                    data: e.data.clone(),
                    id: e.id.clone(),
                })
                .collect();
            let whole = decode(&[&input]);
            assert_eq!(whole.0, expected, "{} (whole)", vector.name);
            assert_eq!(whole.1, vector.retry, "{} (retry)", vector.name);
            let bytewise: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(decode(&bytewise).0, expected, "{} (bytewise)", vector.name);
            for cut in 0..=input.len() {
                let (a, b) = input.split_at(cut);
                assert_eq!(
                    decode(&[a, b]).0,
                    expected,
                    "{} (split {})",
                    vector.name,
                    cut
                );
            }
        }
    }

    #[test]
    fn an_endless_line_hits_the_limit() {
        let mut decoder = SseDecoder::new(64);
        let mut sink = |_: Event| Ok(());
        decoder.feed(&[b'a'; 60], &mut sink).unwrap();
        let error = decoder.feed(&[b'a'; 10], &mut sink).unwrap_err();
        assert_eq!(error.kind, ErrorKind::LimitExceeded);
        assert!(error.message.contains("max_event_bytes"));
    }

    #[test]
    fn many_data_lines_hit_the_limit() {
        let mut decoder = SseDecoder::new(64);
        let mut sink = |_: Event| Ok(());
        let error = decoder
            .feed("data: 0123456789\n".repeat(10).as_bytes(), &mut sink)
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::LimitExceeded);
    }
}
