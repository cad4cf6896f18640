//! A stream in progress: a framing's decoder (`sse.rs` or `eventstream.rs`) feeding one
//! reader's [`Translate`], answered in batches so a host crosses the boundary once per network
//! read, never once per event. Which framing and which translator is the reader's business
//! (`providers::reading`); this file knows neither providers nor protocols.

use crate::call::Context;
use crate::error::{CoreError, ErrorKind};
use crate::eventstream::EventStreamDecoder;
use crate::sse::{Event, SseDecoder};
use crate::translate::{Chunks, Framing, Translate};

/// A framing's decoder, with the bytes of an event not yet complete.
enum Decoder {
    Sse(SseDecoder),
    EventStream(EventStreamDecoder),
}

impl Decoder {
    fn new(framing: Framing, max_event_bytes: usize) -> Self {
        match framing {
            Framing::Sse => Decoder::Sse(SseDecoder::new(max_event_bytes)),
            Framing::EventStream => Decoder::EventStream(EventStreamDecoder::new(max_event_bytes)),
        }
    }

    fn feed<F>(&mut self, bytes: &[u8], sink: &mut F) -> Result<(), CoreError>
    where
        F: FnMut(Event) -> Result<(), CoreError>,
    {
        match self {
            Decoder::Sse(sse) => sse.feed(bytes, sink),
            Decoder::EventStream(messages) => messages.feed(bytes, sink),
        }
    }
}

/// What the sink answers a decoder with at the end of the stream, to stop it: never reported
/// (the stream is done by then, which tells it from an error).
fn stop() -> CoreError {
    CoreError::new(ErrorKind::StreamIncomplete, String::new())
}

pub struct ChunkStream {
    decoder: Decoder,
    translator: Box<dyn Translate>,
    chunks: Chunks,
    done: bool,
    context: Context,
}

impl ChunkStream {
    pub fn new(framing: Framing, translator: Box<dyn Translate>, context: Context) -> Self {
        ChunkStream {
            decoder: Decoder::new(framing, context.limits.max_event_bytes),
            translator,
            chunks: Chunks::default(),
            done: false,
            context,
        }
    }

    /// Decodes the next bytes of the body. The answer is a batch, as JSON:
    /// `{"chunks": [...], "done": bool, "error"?: {...}}`, where `chunks` are those decoded
    /// before the error, if any. Input after the end of the stream or an error is ignored, in
    /// the same read or a later one, whatever the framing: it is not even decoded, so bytes
    /// after a Bedrock stream's last message are no framing error, as lines after `[DONE]` are
    /// none.
    pub fn feed(&mut self, bytes: &[u8]) -> String {
        let mut error = None;
        if !self.done {
            let (translator, chunks, done) =
                (&mut self.translator, &mut self.chunks, &mut self.done);
            let result = self.decoder.feed(bytes, &mut |event| {
                *done = translator.event(event, chunks)?;
                if *done {
                    return Err(stop());
                }
                Ok(())
            });
            if let Err(e) = result {
                if !self.done {
                    self.done = true;
                    error = Some(e);
                }
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
        let mut batch = String::with_capacity(self.chunks.array_len() + 32);
        batch.push_str("{\"chunks\":");
        self.chunks.write_array(&mut batch);
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
