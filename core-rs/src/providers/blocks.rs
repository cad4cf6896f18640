//! What Anthropic's Messages API and Bedrock's Converse API share: system blocks and turns of
//! content blocks (text, thinking, tool use, tool result), both ways. Requests are written
//! through a [`BlockProtocol`]; answers are assembled by an [`Answer`] and streams translated by
//! a [`BlockStream`], which each protocol feeds with its own field names.

use serde_json::{json, Value};

use super::shared::{
    message_list, push_turn, role_of, tool_call, tool_call_fragment, tool_calls_of,
    unsupported_role, Meta,
};
use crate::call::Context;
use crate::error::CoreError;
use crate::translate::Chunks;

/// How a protocol of system blocks and user/assistant turns of content blocks writes each
/// piece: Anthropic's Messages API and Bedrock's Converse share that shape.
pub trait BlockProtocol {
    const PROVIDER: &'static str;
    /// A message's content (a string, parts, or null) as content blocks.
    fn content(content: &Value, index: usize) -> Result<Vec<Value>, CoreError>;
    /// A block of an earlier answer's `thinking_blocks`, as the protocol takes it back.
    fn thinking(block: &Value) -> Option<Value>;
    fn tool_use(id: &Value, name: &Value, input: Value) -> Value;
    fn tool_result(id: &str, content: &Value, index: usize) -> Result<Value, CoreError>;
}

/// OpenAI messages as the system blocks and the turns, consecutive turns of a role merged (as
/// both APIs require). An assistant turn carries its thinking back first and unchanged: the
/// provider checks its signature when a conversation with thinking and tool calls goes on.
pub fn block_turns<P: BlockProtocol>(messages: &Value) -> Result<(Vec<Value>, Value), CoreError> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (index, message) in message_list(messages).iter().enumerate() {
        let (role, blocks) = match role_of(message, index)? {
            "system" | "developer" => {
                system.extend(P::content(&message["content"], index)?);
                continue;
            }
            "user" => ("user", P::content(&message["content"], index)?),
            "assistant" => {
                let mut blocks: Vec<Value> = message["thinking_blocks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(P::thinking)
                    .collect();
                blocks.extend(P::content(&message["content"], index)?);
                for (call, input) in tool_calls_of(message, index)? {
                    blocks.push(P::tool_use(&call["id"], &call["function"]["name"], input));
                }
                ("assistant", blocks)
            }
            "tool" => {
                let id = message["tool_call_id"].as_str().ok_or_else(|| {
                    CoreError::invalid_request(format!(
                        "messages[{}] (a tool result) has no tool_call_id",
                        index
                    ))
                })?;
                (
                    "user",
                    vec![P::tool_result(id, &message["content"], index)?],
                )
            }
            other => return Err(unsupported_role(index, other, P::PROVIDER)),
        };
        push_turn(&mut turns, role, blocks);
    }
    let turns = turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    Ok((system, Value::Array(turns)))
}

/// A stop reason of either API as OpenAI's finish reason. The tool call that carries a
/// `response_format` answer stops as the answer does.
pub fn finish_reason(stop_reason: &Value, answered_in_json_tool: bool) -> Option<&'static str> {
    Some(match stop_reason.as_str()? {
        "tool_use" if answered_in_json_tool => "stop",
        "tool_use" => "tool_calls",
        "max_tokens" | "model_context_window_exceeded" => "length",
        // Anthropic's, then Bedrock's.
        "refusal" | "guardrail_intervened" | "content_filtered" => "content_filter",
        _ => "stop", // end_turn, stop_sequence, pause_turn
    })
}

/// A thinking block as answers carry it (`thinking_blocks`, LiteLLM's name, in Anthropic's
/// shape for both APIs) and as it must be sent back, signature included.
pub fn thinking_block(thinking: &Value, signature: &Value) -> Value {
    json!({"type": "thinking", "thinking": thinking, "signature": signature})
}

pub fn redacted_block(data: &Value) -> Value {
    json!({"type": "redacted_thinking", "data": data})
}

/// A complete answer's message, assembled block by block.
#[derive(Default)]
pub struct Answer {
    text: String,
    reasoning: String,
    thinking_blocks: Vec<Value>,
    tool_calls: Vec<Value>,
    answered_in_json: bool,
}

impl Answer {
    pub fn text(&mut self, text: &Value) {
        self.text.push_str(text.as_str().unwrap_or(""));
    }

    pub fn thinking(&mut self, text: &Value, signature: &Value) {
        self.reasoning.push_str(text.as_str().unwrap_or(""));
        self.thinking_blocks.push(thinking_block(text, signature));
    }

    pub fn redacted(&mut self, data: &Value) {
        self.thinking_blocks.push(redacted_block(data));
    }

    /// A tool call, or the answer itself when the tool is the context's `json_tool`.
    pub fn tool_use(&mut self, context: &Context, id: &Value, name: &Value, input: &Value) {
        if context.json_tool.as_deref() == name.as_str() {
            self.text.push_str(&input.to_string());
            self.answered_in_json = true;
        } else {
            self.tool_calls.push(tool_call(id, name, input.to_string()));
        }
    }

    /// The chat.completion, as JSON text.
    pub fn completion(self, meta: &Meta, stop_reason: &Value, usage: Value) -> String {
        let content = if self.text.is_empty() {
            Value::Null
        } else {
            json!(self.text)
        };
        let mut message = json!({"role": "assistant", "content": content});
        if !self.tool_calls.is_empty() {
            message["tool_calls"] = Value::Array(self.tool_calls);
        }
        if !self.reasoning.is_empty() {
            message["reasoning_content"] = json!(self.reasoning);
        }
        if !self.thinking_blocks.is_empty() {
            message["thinking_blocks"] = Value::Array(self.thinking_blocks);
        }
        let choices = json!([{
            "index": 0,
            "message": message,
            "finish_reason": finish_reason(stop_reason, self.answered_in_json),
            "logprobs": null,
        }]);
        meta.completion(choices, usage).to_string()
    }
}

/// What a content block of a stream turns into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    Text,
    Thinking,
    /// A tool call, with its index among the answer's tool calls.
    Tool(usize),
    /// The forced tool carrying a `response_format` answer.
    JsonAnswer,
    Other,
}

/// The most content blocks a stream may have open (started and not yet stopped) at once. Both
/// APIs stream their blocks one after another, each stopping before the next starts; a stream
/// that opens more is refused as invalid, so the numbers a server sends cannot make the
/// translator hold more than this.
const MAX_OPEN_BLOCKS: usize = 64;

/// A stream's chunks, written as its content blocks start, grow and stop. Blocks are known by
/// the index the stream gives them.
pub struct BlockStream {
    /// The identity every chunk repeats; Anthropic's streams say it in their first event.
    pub meta: Meta,
    include_usage: bool,
    json_tool: Option<String>,
    /// The blocks open, by the index the stream gave them: a number from the server is a key
    /// here, never a size or a position (an index of 4294967295 or 8,000,000 is one entry).
    open: Vec<(u64, Block)>,
    /// A block carried the `json_tool`'s answer.
    answered_in_json: bool,
    tool_count: usize,
    /// The thinking being streamed and its signature, sent whole as a thinking block when its
    /// content block stops.
    thinking: String,
    signature: Option<Value>,
}

impl BlockStream {
    pub fn new(context: &Context, meta: Meta) -> Self {
        BlockStream {
            meta,
            include_usage: context.include_usage,
            json_tool: context.json_tool.clone(),
            open: Vec::new(),
            answered_in_json: false,
            tool_count: 0,
            thinking: String::new(),
            signature: None,
        }
    }

    fn block(&self, index: u64) -> Block {
        self.open
            .iter()
            .find(|(open, _)| *open == index)
            .map_or(Block::Other, |&(_, kind)| kind)
    }

    fn set_block(&mut self, index: u64, kind: Block) -> Result<(), CoreError> {
        self.open.retain(|(open, _)| *open != index);
        if self.open.len() == MAX_OPEN_BLOCKS {
            return Err(CoreError::invalid_response(format!(
                "the stream opened more than {} content blocks at once",
                MAX_OPEN_BLOCKS
            )));
        }
        self.open.push((index, kind));
        Ok(())
    }

    fn delta(&self, delta: Value, out: &mut Chunks) {
        out.push_chunk(self.meta.chunk(0, delta, None));
    }

    /// The first chunk: the assistant's role.
    pub fn start(&self, out: &mut Chunks) {
        self.delta(json!({"role": "assistant", "content": ""}), out);
    }

    /// A text block starts, with its first text if any.
    pub fn start_text(
        &mut self,
        index: u64,
        text: &Value,
        out: &mut Chunks,
    ) -> Result<(), CoreError> {
        self.set_block(index, Block::Text)?;
        if text.as_str().map_or(false, |text| !text.is_empty()) {
            self.text(text, out);
        }
        Ok(())
    }

    pub fn start_thinking(
        &mut self,
        index: u64,
        text: &Value,
        signature: &Value,
    ) -> Result<(), CoreError> {
        self.set_block(index, Block::Thinking)?;
        self.thinking = text.as_str().unwrap_or("").to_string();
        self.signature = Some(signature.clone()).filter(|s| !s.is_null());
        Ok(())
    }

    /// A tool call starts; or the answer, when the tool is the context's `json_tool`.
    pub fn start_tool(
        &mut self,
        index: u64,
        id: &Value,
        name: &Value,
        out: &mut Chunks,
    ) -> Result<(), CoreError> {
        if self.json_tool.as_deref() == name.as_str() {
            self.answered_in_json = true;
            return self.set_block(index, Block::JsonAnswer);
        }
        let position = self.tool_count;
        self.set_block(index, Block::Tool(position))?;
        self.tool_count += 1;
        let mut call = tool_call(id, name, String::new());
        call["index"] = json!(position);
        self.delta(json!({ "tool_calls": [call] }), out);
        Ok(())
    }

    /// A block this stream does not turn into chunks (or, for redacted thinking, turned into
    /// one already).
    pub fn start_other(&mut self, index: u64) -> Result<(), CoreError> {
        self.set_block(index, Block::Other)
    }

    pub fn text(&self, text: &Value, out: &mut Chunks) {
        self.delta(json!({ "content": text }), out);
    }

    /// Part of a tool call's arguments, as JSON text; or of the answer, for the `json_tool`.
    pub fn tool_input(&self, index: u64, partial: &Value, out: &mut Chunks) {
        match self.block(index) {
            Block::Tool(position) => self.delta(
                json!({ "tool_calls": [tool_call_fragment(position, partial)] }),
                out,
            ),
            Block::JsonAnswer => self.text(partial, out),
            _ => {}
        }
    }

    pub fn thinking(&mut self, text: &Value, out: &mut Chunks) {
        let text = text.as_str().unwrap_or("");
        self.thinking.push_str(text);
        self.delta(json!({ "reasoning_content": text }), out);
    }

    pub fn signature(&mut self, signature: &Value) {
        self.signature = Some(signature.clone());
    }

    pub fn redacted(&self, data: &Value, out: &mut Chunks) {
        self.delta(json!({ "thinking_blocks": [redacted_block(data)] }), out);
    }

    /// A block stops: a thinking block (or thinking that came with a signature) is sent whole.
    pub fn stop_block(&mut self, index: u64, out: &mut Chunks) {
        let kind = self.block(index);
        self.open.retain(|(open, _)| *open != index);
        if kind == Block::Thinking || self.signature.is_some() {
            let text = json!(std::mem::take(&mut self.thinking));
            let signature = self.signature.take().unwrap_or(Value::Null);
            let blocks = json!([thinking_block(&text, &signature)]);
            self.delta(json!({ "thinking_blocks": blocks }), out);
        }
    }

    /// The chunk with the finish reason.
    pub fn finish(&self, stop_reason: &Value, out: &mut Chunks) {
        let finish = finish_reason(stop_reason, self.answered_in_json);
        out.push_chunk(self.meta.chunk(0, json!({}), finish));
    }

    /// The usage chunk, if the caller asked for one.
    pub fn usage(&self, usage: Value, out: &mut Chunks) {
        if self.include_usage {
            out.push_chunk(self.meta.usage_chunk(usage));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::MAX_OPEN_BLOCKS;
    use crate::eventstream::testing::event;
    use crate::providers::testing;

    /// The chunks and the outcome of `body` read as one stream by `prefix`'s reader.
    fn read(prefix: &str, body: &[u8]) -> (Vec<Value>, Value) {
        testing::read_stream(&testing::context(prefix, "m"), body)
    }

    /// A tool call in a block numbered by each of `indexes`, stopped if `stop`, in Anthropic's
    /// stream.
    fn anthropic(indexes: &[u64], stop: bool) -> Vec<u8> {
        let mut events =
            vec![json!({"type": "message_start", "message": {"id": "m", "model": "c"}})];
        for &index in indexes {
            events.extend([
                json!({"type": "content_block_start", "index": index, "content_block": {"type": "tool_use", "id": "t", "name": "f"}}),
                json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
            ]);
            if stop {
                events.push(json!({"type": "content_block_stop", "index": index}));
            }
        }
        events.extend([
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}}),
            json!({"type": "message_stop"}),
        ]);
        events
            .iter()
            .flat_map(|e| format!("data: {}\n\n", e).into_bytes())
            .collect()
    }

    /// The same in Bedrock's.
    fn bedrock(indexes: &[u64], stop: bool) -> Vec<u8> {
        let mut bytes = event("messageStart", r#"{"role":"assistant"}"#);
        for &index in indexes {
            let start = json!({"contentBlockIndex": index, "start": {"toolUse": {"toolUseId": "t", "name": "f"}}});
            let delta = json!({"contentBlockIndex": index, "delta": {"toolUse": {"input": "{}"}}});
            bytes.extend(event("contentBlockStart", &start.to_string()));
            bytes.extend(event("contentBlockDelta", &delta.to_string()));
            if stop {
                let stop = json!({ "contentBlockIndex": index });
                bytes.extend(event("contentBlockStop", &stop.to_string()));
            }
        }
        bytes.extend(event("messageStop", r#"{"stopReason":"tool_use"}"#));
        bytes.extend(event("metadata", r#"{"usage":{}}"#));
        bytes
    }

    #[test]
    fn block_indexes_from_the_wire_are_data_not_sizes() {
        // Once, u64::MAX wrapped `index + 1` and 8,000,000 made the translator hold 61 MB.
        for index in [u64::MAX, 4294967295, 4294967296, 8_000_000, 0] {
            for (prefix, body) in [
                ("anthropic", anthropic(&[index], false)),
                ("bedrock", bedrock(&[index], false)),
            ] {
                let (chunks, error) = read(prefix, &body);
                assert_eq!(error, Value::Null, "{} {}", prefix, index);
                let calls: Vec<&Value> = chunks
                    .iter()
                    .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
                    .collect();
                assert_eq!(calls.len(), 2, "{} {}", prefix, index);
                assert_eq!(calls[1]["function"]["arguments"], "{}");
                assert_eq!(calls[1]["index"], 0);
            }
        }
    }

    #[test]
    fn more_blocks_open_at_once_than_an_answer_has_are_refused() {
        let many: Vec<u64> = (0..=MAX_OPEN_BLOCKS as u64).map(|i| i * 1000).collect();
        for (prefix, body) in [
            ("anthropic", anthropic(&many, false)),
            ("bedrock", bedrock(&many, false)),
        ] {
            let (chunks, error) = read(prefix, &body);
            assert_eq!(error["kind"], "invalid_response", "{}", prefix);
            assert!(
                error["message"].as_str().unwrap().contains("64"),
                "{}",
                error
            );
            assert_eq!(chunks.len(), 1 + 2 * MAX_OPEN_BLOCKS, "{}", prefix);
        }
        // Blocks that stop make room: a long answer has as many as it likes.
        let long: Vec<u64> = (0..1000).collect();
        for (prefix, body) in [
            ("anthropic", anthropic(&long, true)),
            ("bedrock", bedrock(&long, true)),
        ] {
            let (chunks, error) = read(prefix, &body);
            assert_eq!(error, Value::Null, "{}", prefix);
            assert_eq!(chunks.len(), 1 + 2 * 1000 + 2, "{}", prefix);
        }
    }
}
