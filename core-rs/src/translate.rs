//! What a stream reader is made of: the framing that cuts its body into events, and a
//! [`Translate`] that turns each event into chunks. A leaf, imported by the readers in
//! `providers/` and by the stream machinery in `stream.rs`.

use serde::Serialize;
use serde_json::Value;

use crate::error::{CoreError, ErrorKind};
use crate::shape::{self, Glance, Settled};
use crate::sse::Event;

/// How a stream's body is cut into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-sent events (`sse.rs`).
    Sse,
    /// AWS's binary event stream (`eventstream.rs`).
    EventStream,
}

/// One reader's event-to-chunk translation, with the state of one stream.
pub trait Translate {
    /// Translates one event into zero or more chunks. Returns true when the event ends the stream.
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError>;

    /// Called when the input ends before an event ended the stream. May add last chunks;
    /// returns the error to report, by default that the stream was cut short.
    fn end(&mut self, _out: &mut Chunks) -> Option<CoreError> {
        Some(cut_short())
    }
}

/// The error for a stream that ended before its end-of-stream marker.
pub fn cut_short() -> CoreError {
    CoreError::new(
        ErrorKind::StreamIncomplete,
        "the stream ended before the provider's end-of-stream marker",
    )
}

/// The most of a batch's buffer kept for the next batch.
const KEEP_BYTES: usize = 1 << 20;

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

    /// Appends a chat.completion.chunk a reader made, its tool-call fragments completed, unless
    /// it carries nothing (see `shape.rs`).
    pub fn push_chunk(&mut self, mut chunk: Value) {
        if shape::settle(&mut chunk).carries {
            self.push(&chunk);
        }
    }

    /// Appends a chat.completion.chunk passed through as JSON text, which its scan took a
    /// `glance` at: as sent, completed, or not at all (see `shape.rs`).
    pub fn push_chunk_text(&mut self, text: &str, glance: Glance) {
        match shape::settle_text(text, glance) {
            Settled::AsSent(text) => self.push_raw(text),
            Settled::Rewritten(text) => self.push_raw(&text),
            Settled::Dropped => {}
        }
    }

    /// Appends the chunks so far to `out` as a JSON array, leaving none. The buffer is kept
    /// for the next batch, unless a batch made it large.
    pub fn write_array(&mut self, out: &mut String) {
        out.push('[');
        if !self.json.is_empty() {
            out.push_str(&self.json[1..]);
        }
        out.push(']');
        if self.json.capacity() > KEEP_BYTES {
            self.json = String::new();
        } else {
            self.json.clear();
        }
    }

    /// The length of [`Chunks::write_array`]'s text.
    pub fn array_len(&self) -> usize {
        self.json.len().max(1) + 1
    }

    /// The chunks so far as a JSON array, leaving none.
    pub fn take_array(&mut self) -> String {
        let mut json = std::mem::take(&mut self.json);
        if json.is_empty() {
            json.push('[');
        }
        json.push(']');
        json
    }
}
