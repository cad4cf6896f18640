// The same module, driven from Node: its contract, the driver (the engine under Pyodide too),
// the shared SSE and event-stream vectors, and a mock call.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { compileModule, CoreError, instantiate, load } from "./ritellm_core.mjs";

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

test("cache material: canonical, without stream, nonce or key", () => {
  const call = { model: "mock/echo", messages: [{ role: "user", content: "hi", name: null }], params: { temperature: 0.5 } };
  const material = core.cacheMaterial(call);
  assert.equal(material, core.cacheMaterial({ ...call, stream: true, nonce: "0123abcd", created: 7 }));
  assert.notEqual(material, core.cacheMaterial({ ...call, params: { temperature: 0.6 } }));
  const parsed = JSON.parse(material);
  assert.deepEqual(Object.keys(parsed), Object.keys(parsed).sort());
  assert.deepEqual(parsed.messages, [{ content: "hi", role: "user" }]);
  assert.equal(parsed.v, 1);
  assert.throws(() => core.cacheMaterial({ model: "nope/x", messages: [] }), CoreError);
});

test("errors cross as data with a kind", () => {
  assert.throws(
    () => core.prepare({ model: "nope/x", messages: [] }),
    (error) => error instanceof CoreError && error.kind === "unsupported_provider" && /"nope"/.test(error.message),
  );
  assert.deepEqual(core.describe().error_kinds.includes("limit_exceeded"), true);
});

test("the driver grows its input buffer and copies answers out", () => {
  const sandbox = instantiate(new WebAssembly.Module(bytes));
  const stream = JSON.parse(new TextDecoder().decode(sandbox.run("ritellm_stream_open", new TextEncoder().encode(RAW_SSE))));
  const big = "x".repeat(200_000); // past the first buffer of 64 KiB
  const event = new TextEncoder().encode(`data: ${big}\n\n`);
  const answer = sandbox.runText("ritellm_stream_feed", event.subarray(0, 10), event.subarray(10), stream.ok);
  assert.equal(typeof answer, "string");
  assert.equal(JSON.parse(answer).ok.chunks[0].data, big);
  assert.equal(sandbox.call("ritellm_stream_close", stream.ok), 0);
});

test("running out of memory is told apart from other traps", () => {
  const module = new WebAssembly.Module(bytes);
  const sandbox = instantiate(module);
  assert.throws(() => sandbox.call("ritellm_input", 0x7fffffff)); // past the declared maximum
  assert.equal(sandbox.allocationFailed(), true);
  const fresh = instantiate(module);
  assert.match(fresh.runText("ritellm_stream_feed", null, null, 0xdead, 0xbeef), /"error"/);
  assert.equal(fresh.allocationFailed(), false);
});

test("the driver checks the exports it is told to expect", () => {
  const expected = { ritellm_describe: 0, ritellm_prepare: 1 };
  assert.throws(() => compileModule(bytes, expected), /the module exports/);
  const abi = readFileSync(new URL("../core-rs/src/abi.rs", here), "utf8");
  const all = Object.fromEntries(
    [...abi.matchAll(/pub extern "C" fn (ritellm_\w+)\(([^)]*)\)/g)].map((m) => [m[1], m[2] ? m[2].split(",").length : 0]),
  );
  const module = compileModule(bytes, all);
  instantiate(module, all);
  assert.throws(() => instantiate(module, { ...all, ritellm_prepare: 2 }), /wrong signature/);
});

test("runs as a script with its exports taken out, as Pyodide runs it", () => {
  // ritellm/_engines/javascript.py does the same with Python's re: keep them alike.
  const source = readFileSync(new URL("ritellm_core.mjs", here), "utf8");
  assert.doesNotMatch(source, /^\s*import\b/m);
  const body = source.replace(/^export /gm, "");
  const driver = new Function(`${body}\nreturn { compileModule, instantiate };`)();
  const sandbox = driver.instantiate(driver.compileModule(bytes));
  assert.match(sandbox.runText("ritellm_describe"), /"error_kinds"/);
});

test("the model table beside the module reads in JavaScript and names only known providers", () => {
  const table = JSON.parse(readFileSync(new URL("ritellm_models.json", here), "utf8"));
  const prefixes = new Set(core.describe().providers.map((p) => p.prefix));
  const models = Object.entries(table.models);
  assert.ok(models.length > 1000);
  for (const [model, entry] of models) {
    assert.ok(prefixes.has(model.split("/")[0]), model);
    assert.ok(["chat", "embedding", "responses"].includes(entry.mode), model);
  }
  // A call's usage priced as ritellm's Python host prices it: the rates are per token.
  const sonnet = table.models["anthropic/claude-sonnet-4-5"];
  assert.equal(sonnet.input_cost_per_token * 1e6, 3);
  assert.equal(sonnet.output_cost_per_token_above_200k_tokens * 1e6, 22.5);
});
