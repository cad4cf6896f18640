//! A stream in progress: SSE decoding plus one protocol's translation, answered in batches so
//! a host crosses the boundary once per network read, never once per event.

use serde::Serialize;

use crate::error::{CoreError, ErrorKind};
use crate::eventstream::EventStreamDecoder;
use crate::providers::{stream_translator, Protocol};
use crate::sse::{Event, SseDecoder};
use crate::Context;

/// How a stream's body is cut into events: server-sent events, or AWS's binary event stream.
enum Framing {
    Sse(SseDecoder),
    EventStream(EventStreamDecoder),
}

impl Framing {
    fn feed<F>(&mut self, bytes: &[u8], sink: &mut F) -> Result<(), CoreError>
    where
        F: FnMut(Event) -> Result<(), CoreError>,
    {
        match self {
            Framing::Sse(sse) => sse.feed(bytes, sink),
            Framing::EventStream(messages) => messages.feed(bytes, sink),
        }
    }
}

/// One protocol's event-to-chunk translation.
pub trait Translate {
    /// Translates one event into zero or more chunks. Returns true when the event ends the stream.
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError>;

    /// Called when the input ends before an event ended the stream. May add last chunks;
    /// returns the error to report, by default that the stream was cut short.
    fn end(&mut self, _out: &mut Chunks) -> Option<CoreError> {
        Some(CoreError::new(
            ErrorKind::StreamIncomplete,
            "the stream ended before the provider's end-of-stream marker",
        ))
    }
}

/// The chunks of one batch, kept as the text of a JSON array.
#[derive(Debug, Default)]
pub struct Chunks {
    json: String,
}

impl Chunks {
    /// Appends a chunk that is already valid JSON text.
    pub fn push_raw(&mut self, json: &str) {
        self.json.push(if self.json.is_empty() { '[' } else { ',' });
        self.json.push_str(json);
    }

    pub fn push<T: Serialize>(&mut self, chunk: &T) {
        // Serializing plain data to a String cannot fail.
        let text = serde_json::to_string(chunk).unwrap_or_default();
        self.push_raw(&text);
    }

    fn take_array(&mut self) -> String {
        let mut json = std::mem::take(&mut self.json);
        if json.is_empty() {
            json.push('[');
        }
        json.push(']');
        json
    }
}

pub struct ChunkStream {
    framing: Framing,
    translator: Box<dyn Translate>,
    chunks: Chunks,
    done: bool,
    context: Context,
}

impl ChunkStream {
    pub fn new(context: &Context) -> Self {
        ChunkStream {
            framing: match context.protocol {
                Protocol::Bedrock | Protocol::RawEventStream => {
                    Framing::EventStream(EventStreamDecoder::new(context.limits.max_event_bytes))
                }
                _ => Framing::Sse(SseDecoder::new(context.limits.max_event_bytes)),
            },
            translator: stream_translator(context),
            chunks: Chunks::default(),
            done: false,
            context: context.clone(),
        }
    }

    /// Decodes the next bytes of the body. The answer is a batch, as JSON:
    /// `{"chunks": [...], "done": bool, "error"?: {...}}`, where `chunks` are those decoded
    /// before the error, if any. Input after the end of the stream or an error is ignored.
    pub fn feed(&mut self, bytes: &[u8]) -> String {
        let mut error = None;
        if !self.done {
            let (translator, chunks, done) =
                (&mut self.translator, &mut self.chunks, &mut self.done);
            let result = self.framing.feed(bytes, &mut |event| {
                if *done {
                    return Ok(()); // input after the end marker is ignored
                }
                *done = translator.event(event, chunks)?;
                Ok(())
            });
            if let Err(e) = result {
                self.done = true;
                error = Some(e);
            }
        }
        self.batch(error)
    }

    /// Ends the input. Reports an error when the stream stopped before its terminator.
    pub fn finish(&mut self) -> String {
        let error = if self.done {
            None
        } else {
            self.done = true;
            self.translator.end(&mut self.chunks)
        };
        self.batch(error)
    }

    fn batch(&mut self, error: Option<CoreError>) -> String {
        // Written by hand: the chunks are JSON text already, and parsing them again to embed
        // them through serde would be a second pass over every byte.
        let chunks = self.chunks.take_array();
        let mut batch = String::with_capacity(chunks.len() + 32);
        batch.push_str("{\"chunks\":");
        batch.push_str(&chunks);
        batch.push_str(if self.done {
            ",\"done\":true"
        } else {
            ",\"done\":false"
        });
        if let Some(error) = error {
            let error = self.context.tag(error);
            batch.push_str(",\"error\":");
            batch.push_str(&serde_json::to_string(&error).unwrap_or_default());
        }
        batch.push('}');
        batch
    }
}
