//! Not a provider: plain server-sent events (or AWS event-stream messages, with the
//! `raw_event_stream` protocol) for hosts that want only the sandboxed decoder. Each event
//! becomes `{"event", "data", "id"}`; the stream has no terminator.

use serde_json::json;

use crate::error::CoreError;
use crate::sse::Event;
use crate::stream::{Chunks, Translate};

pub struct StreamTranslator;

impl Translate for StreamTranslator {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        out.push(&json!({"event": event.event_type, "data": event.data, "id": event.id}));
        Ok(false)
    }

    fn end(&mut self, _out: &mut Chunks) -> Option<CoreError> {
        None
    }
}
