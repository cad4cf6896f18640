// The ritellm core for JavaScript hosts (Node and browsers). It imports nothing, so plain
// WebAssembly.instantiate runs it; the boundary is documented in core-rs/src/abi.rs. Network
// I/O, keys and retries stay with the host, as in the Python package.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An error the core reported as data; `kind` is one of `describe().error_kinds`. */
export class CoreError extends Error {
  constructor(data) {
    super(data.message);
    this.name = "CoreError";
    Object.assign(this, data);
  }
}

/** Instantiates the core from its bytes (a BufferSource) or a compiled WebAssembly.Module. */
export async function load(source) {
  const instance =
    source instanceof WebAssembly.Module
      ? await WebAssembly.instantiate(source, {})
      : (await WebAssembly.instantiate(source, {})).instance;
  return new Core(instance.exports);
}

export class Core {
  #exports;
  #inputAddress = 0;
  #inputCapacity = 0;

  constructor(exports) {
    this.#exports = exports;
  }

  /** The core's version, error kinds, providers and default limits. */
  describe() {
    return this.#answer(this.#exports.ritellm_describe());
  }

  /** Validates a call; returns the request head and its body (bytes). */
  prepare(call) {
    const length = this.#write(encoder.encode(JSON.stringify(call)));
    return this.#answerWithPayload(this.#exports.ritellm_prepare(length));
  }

  /** Translates a complete answer into a chat.completion, or throws the provider's error. */
  parse(context, status, body) {
    const contextBytes = encoder.encode(context);
    const length = this.#write(contextBytes, body);
    return this.#answer(this.#exports.ritellm_parse(status, contextBytes.length, length));
  }

  /** A stream decoder: feed it the body as it arrives, then finish (or close) it. */
  openStream(context) {
    const handle = this.#answer(this.#exports.ritellm_stream_open(this.#write(encoder.encode(context))));
    const core = this;
    let open = true;
    return {
      feed(bytes) {
        return core.#answer(core.#exports.ritellm_stream_feed(handle, core.#write(bytes)));
      },
      finish() {
        open = false;
        return core.#answer(core.#exports.ritellm_stream_finish(handle));
      },
      close() {
        if (open) core.#exports.ritellm_stream_close(handle);
        open = false;
      },
    };
  }

  /** The mock provider's answer to a request body: its content type and body. */
  mock(body) {
    const [head, payload] = this.#answerWithPayload(this.#exports.ritellm_mock(this.#write(body)));
    return { contentType: head.content_type, body: payload };
  }

  #write(...parts) {
    const total = parts.reduce((sum, part) => sum + part.length, 0);
    if (total > this.#inputCapacity) {
      const capacity = Math.max(total, 2 * this.#inputCapacity, 64 * 1024);
      this.#inputAddress = this.#exports.ritellm_input(capacity) >>> 0;
      this.#inputCapacity = capacity;
    }
    // A view made after the call above: memory may have grown and moved.
    let offset = this.#inputAddress;
    for (const part of parts) {
      new Uint8Array(this.#exports.memory.buffer, offset, part.length).set(part);
      offset += part.length;
    }
    return total;
  }

  #read(packed) {
    const address = Number(BigInt.asUintN(64, packed) >> 32n);
    const length = Number(BigInt.asUintN(64, packed) & 0xffffffffn);
    return new Uint8Array(this.#exports.memory.buffer, address, length).slice();
  }

  #answer(packed) {
    return unwrap(decoder.decode(this.#read(packed)));
  }

  #answerWithPayload(packed) {
    const raw = this.#read(packed);
    const newline = raw.indexOf(10);
    const head = newline < 0 ? raw : raw.subarray(0, newline);
    const payload = newline < 0 ? new Uint8Array(0) : raw.subarray(newline + 1);
    return [unwrap(decoder.decode(head)), payload];
  }
}

function unwrap(text) {
  const answer = JSON.parse(text);
  if ("ok" in answer) return answer.ok;
  throw new CoreError(answer.error);
}
