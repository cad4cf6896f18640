//! Chat calls to models that answer only through OpenAI's Responses API: the chat request
//! becomes a Responses request, and the response object and its stream events become a
//! chat.completion and its chunks.

use serde_json::{Map, Value};

use crate::call::{Call, Context};
use crate::error::CoreError;
use crate::translate::Translate;

/// The Responses request body for a chat call.
pub fn body(_call: Call) -> Result<Map<String, Value>, CoreError> {
    Err(CoreError::invalid_request("not written yet"))
}

/// A complete Responses answer as a chat.completion (JSON text).
pub fn parse_response(_context: &Context, _status: u16, _body: &[u8]) -> Result<String, CoreError> {
    Err(CoreError::invalid_request("not written yet"))
}

/// Responses stream events as chat.completion.chunk objects.
pub fn translator(context: &Context) -> Box<dyn Translate> {
    super::raw::translator(context)
}
