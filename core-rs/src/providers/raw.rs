//! Not a provider's reader: the plain decoders, for hosts that want only the sandboxed
//! framing (`{"reader": "raw_sse"}` or `{"reader": "raw_event_stream"}` as the context). Each
//! event becomes `{"event", "data", "id"}`; the stream has no terminator.

use serde_json::json;

use crate::call::Context;
use crate::error::CoreError;
use crate::sse::Event;
use crate::translate::{Chunks, Translate};

pub fn translator(_context: &Context) -> Box<dyn Translate> {
    Box::new(Events)
}

struct Events;

impl Translate for Events {
    fn event(&mut self, event: Event, out: &mut Chunks) -> Result<bool, CoreError> {
        out.push(&json!({"event": event.event_type, "data": event.data, "id": event.id}));
        Ok(false)
    }

    fn end(&mut self, _out: &mut Chunks) -> Option<CoreError> {
        None
    }
}
