// The same module, driven from Node: its contract, the shared SSE and event-stream vectors,
// and a mock call.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { CoreError, load } from "./ritellm_core.mjs";

const here = new URL(".", import.meta.url);
const bytes = readFileSync(new URL("ritellm_core.wasm", here));
const vectors = JSON.parse(readFileSync(new URL("../tests/fixtures/sse_vectors.json", here), "utf8"));
const core = await load(bytes);
const RAW_SSE = JSON.stringify({ protocol: "raw_sse" });

test("imports nothing and exports memory plus the documented functions", () => {
  const module = new WebAssembly.Module(bytes);
  assert.deepEqual(WebAssembly.Module.imports(module), []);
  const abi = readFileSync(new URL("../core-rs/src/abi.rs", here), "utf8");
  const documented = [...abi.matchAll(/pub extern "C" fn (ritellm_\w+)/g)].map((m) => m[1]);
  const exported = WebAssembly.Module.exports(module).map((e) => e.name);
  assert.deepEqual(exported.sort(), ["memory", ...documented].sort());
});

function decode(pieces) {
  const stream = core.openStream(RAW_SSE);
  const events = [];
  for (const piece of pieces) events.push(...stream.feed(piece).chunks);
  events.push(...stream.finish().chunks);
  return events;
}

test("SSE vectors, whole and byte by byte", () => {
  for (const vector of vectors) {
    const input = vector.input_bytes ? Uint8Array.from(vector.input_bytes) : new TextEncoder().encode(vector.input);
    assert.deepEqual(decode([input]), vector.events, vector.name);
    const bytewise = Array.from(input, (_, i) => input.subarray(i, i + 1));
    assert.deepEqual(decode(bytewise), vector.events, `${vector.name} (bytewise)`);
  }
});

const eventStreamVectors = JSON.parse(
  readFileSync(new URL("../tests/fixtures/eventstream_vectors.json", here), "utf8"),
).vectors;

// The events and the error, if any, of AWS event-stream bytes fed in the given pieces.
function decodeEventStream(pieces) {
  const stream = core.openStream(JSON.stringify({ protocol: "raw_event_stream" }));
  const events = [];
  for (const piece of pieces) {
    const batch = stream.feed(piece);
    events.push(...batch.chunks);
    if (batch.error) return { events, error: batch.error.message };
  }
  return { events, error: null };
}

test("AWS event-stream vectors, whole and split at every byte", () => {
  for (const vector of eventStreamVectors) {
    const input = Uint8Array.from(vector.input_hex.match(/../g), (pair) => parseInt(pair, 16));
    for (let cut = 0; cut <= input.length; cut++) {
      const { events, error } = decodeEventStream([input.subarray(0, cut), input.subarray(cut)]);
      assert.deepEqual(events, vector.events ?? [], `${vector.name}, cut at ${cut}`);
      if (vector.error) assert.ok(error?.includes(vector.error), `${vector.name}: ${error}`);
      else assert.equal(error, null, vector.name);
    }
  }
});

test("a mock call end to end", () => {
  const [head, body] = core.prepare({
    model: "mock/echo",
    messages: [{ role: "user", content: "hello from node" }],
    stream: true,
  });
  assert.equal(head.url, "mock://ritellm/v1/chat/completions");
  const reply = core.mock(body);
  assert.equal(reply.contentType, "text/event-stream");
  const stream = core.openStream(head.context);
  const batch = stream.feed(reply.body);
  assert.equal(batch.done, true);
  const text = batch.chunks.map((c) => c.choices[0].delta.content ?? "").join("");
  assert.equal(text, "hello from node");
  stream.close();
});

test("errors cross as data with a kind", () => {
  assert.throws(
    () => core.prepare({ model: "nope/x", messages: [] }),
    (error) => error instanceof CoreError && error.kind === "unsupported_provider" && /"nope"/.test(error.message),
  );
  assert.deepEqual(core.describe().error_kinds.includes("limit_exceeded"), true);
});
