//! OpenAI's Responses API on providers that speak only chat: a Responses call becomes the chat
//! call its provider's API builds, and the chat answer and chunks that the provider's reader
//! translated become a response object and Responses stream events.

use crate::call::{Call, Context};
use crate::error::CoreError;
use crate::translate::Translate;

/// A Responses call as the chat call its provider's API builds.
pub fn chat_call(_call: Call, _context: &mut Context) -> Result<Call, CoreError> {
    Err(CoreError::invalid_request("not written yet"))
}

/// A chat.completion (JSON text, as the provider's reader wrote it) as a response object.
pub fn response(_context: &Context, _completion: &str) -> Result<String, CoreError> {
    Err(CoreError::invalid_request("not written yet"))
}

/// The provider's chat translator, its chunks made Responses stream events.
pub fn translator(_context: &Context, chat: Box<dyn Translate>) -> Box<dyn Translate> {
    chat
}
