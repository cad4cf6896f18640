// The ritellm core for JavaScript hosts (Node, browsers, and Pyodide, whose engine is this file:
// ritellm/_engines/javascript.py). It imports nothing, so plain WebAssembly runs the module; the
// boundary is documented in core-rs/src/abi.rs. Network I/O, keys and retries stay with the
// host, as in the Python package.
//
// Two layers: `Sandbox` is the one driver of the boundary in JavaScript (the input buffer, the
// packed answers, the allocation-failure flag); `Core` is the API over it, answers as values.
//
// Pyodide evaluates this file as a script, with the `export ` at the start of its lines taken
// out: keep every import out and every export a declaration at the start of a line.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** The least the input buffer grows to, in bytes. */
const MIN_INPUT_CAPACITY = 64 * 1024;

/** Where each compiled module keeps its allocation-failure flag (see Sandbox#allocationFailed). */
const flagAddresses = new WeakMap();

/** An error the core reported as data; `kind` is one of `describe().error_kinds`. */
export class CoreError extends Error {
  constructor(data) {
    super(data.message);
    this.name = "CoreError";
    Object.assign(this, data);
  }
}

/**
 * Compiles the module synchronously (browsers allow that for modules up to a few megabytes off
 * the main thread, and this one on it) and checks that it exports `memory` and exactly the
 * functions of `expected`, an object of export name to parameter count, if given.
 */
export function compileModule(bytes, expected) {
  const module = new WebAssembly.Module(bytes);
  if (expected) {
    const names = WebAssembly.Module.exports(module).map((item) => item.name);
    const wanted = ["memory", ...Object.keys(expected)];
    if (names.length !== wanted.length || !wanted.every((name) => names.includes(name))) {
      throw new Error(`the module exports ${names.sort()}, expected ${wanted.sort()}`);
    }
  }
  return module;
}

/** A new instance of a compiled module, with its driver; checks parameter counts if given. */
export function instantiate(module, expected) {
  const sandbox = new Sandbox(new WebAssembly.Instance(module, {}), module);
  if (expected) {
    for (const [name, params] of Object.entries(expected)) sandbox.checkSignature(name, params);
  }
  return sandbox;
}

/**
 * One instance of the module, driven: an operation writes its input into the module's input
 * buffer, calls an export, and copies out the answer that the packed result
 * (`address << 32 | length`) points at. Not reentrant; an instance that threw must be dropped.
 */
export class Sandbox {
  #exports;
  #module;
  #input = 0;
  #capacity = 0;
  #view;

  constructor(instance, module) {
    this.#exports = instance.exports;
    this.#module = module;
    this.#view = new Uint8Array(this.#exports.memory.buffer);
  }

  checkSignature(name, params) {
    const func = this.#exports[name];
    if (typeof func !== "function" || func.length !== params) {
      throw new Error(`the module's export ${name} has the wrong signature`);
    }
  }

  /** Calls an export that answers with a number or nothing (0), with no input. */
  call(name, ...args) {
    const result = this.#exports[name](...args);
    return typeof result === "bigint" ? BigInt.asUintN(64, result) : (result ?? 0) >>> 0;
  }

  /**
   * One operation: `data` then `rest` (Uint8Arrays; no input when `data` is null) into the
   * input buffer, their total length passed after `args`; returns a copy of the answer.
   */
  run(name, data = null, rest = null, ...args) {
    const [address, length] = this.#enter(name, data, rest, args);
    return this.#memory(address + length).slice(address, address + length);
  }

  /** `run`, with the answer as a string when it is UTF-8 (a string crosses into Pyodide in one
   * step, bytes in two), else as bytes. */
  runText(name, data = null, rest = null, ...args) {
    const [address, length] = this.#enter(name, data, rest, args);
    const answer = this.#memory(address + length).subarray(address, address + length);
    try {
      return strictDecoder.decode(answer);
    } catch {
      return answer.slice();
    }
  }

  /** After a call threw: whether the module ran out of memory (its declared maximum). */
  allocationFailed() {
    let address = flagAddresses.get(this.#module);
    if (address === undefined) {
      // The flag's address is the same in every instance of the module; this one, after a
      // trap, may not be called again, so a fresh one says where it is.
      const scratch = new Sandbox(new WebAssembly.Instance(this.#module, {}), this.#module);
      address = JSON.parse(decoder.decode(scratch.run("ritellm_describe"))).ok.alloc_failed_at;
      flagAddresses.set(this.#module, address);
    }
    return this.#memory(address + 1)[address] === 1;
  }

  #enter(name, data, rest, args) {
    if (data != null) {
      const total = data.length + (rest == null ? 0 : rest.length);
      if (total > this.#capacity) this.#reserve(total);
      const into = this.#memory(this.#input + total);
      into.set(data, this.#input);
      if (rest != null) into.set(rest, this.#input + data.length);
      args.push(total);
    }
    const packed = BigInt.asUintN(64, BigInt(this.#exports[name](...args)));
    return [Number(packed >> 32n), Number(packed & 0xffffffffn)];
  }

  #reserve(total) {
    const capacity = Math.max(total, 2 * this.#capacity, MIN_INPUT_CAPACITY);
    this.#input = this.#exports.ritellm_input(capacity) >>> 0;
    this.#capacity = capacity;
  }

  // A view of memory reaching `end`: growing memory detaches the old buffer, so the view is
  // remade after calls that grew it.
  #memory(end) {
    if (this.#view.buffer !== this.#exports.memory.buffer) {
      this.#view = new Uint8Array(this.#exports.memory.buffer);
    }
    if (end > this.#view.length) throw new RangeError("the module answered outside its memory");
    return this.#view;
  }
}

/** Instantiates the core from its bytes (a BufferSource) or a compiled WebAssembly.Module. */
export async function load(source) {
  const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  return new Core(new Sandbox(await WebAssembly.instantiate(module, {}), module));
}

/** The core's operations, answers as values and errors as CoreError. */
export class Core {
  #sandbox;

  constructor(sandbox) {
    this.#sandbox = sandbox;
  }

  /** The core's version, error kinds, providers and default limits. */
  describe() {
    return this.#answer("ritellm_describe");
  }

  /** Validates a call; returns the request head and its body (bytes). */
  prepare(call) {
    return this.#answerWithPayload("ritellm_prepare", encoder.encode(JSON.stringify(call)));
  }

  /** What determines a call's answer, as canonical JSON text to hash into a cache key. */
  cacheMaterial(call) {
    return this.#answer("ritellm_cache_material", encoder.encode(JSON.stringify(call)));
  }

  /** Translates a complete answer into a chat.completion, or throws the provider's error. */
  parse(context, status, body) {
    const contextBytes = encoder.encode(context);
    return this.#answer("ritellm_parse", contextBytes, body, status, contextBytes.length);
  }

  /** A stream decoder: feed it the body as it arrives, then finish (or close) it. */
  openStream(context) {
    const handle = this.#answer("ritellm_stream_open", encoder.encode(context));
    const core = this;
    let open = true;
    return {
      feed(bytes) {
        return core.#answer("ritellm_stream_feed", bytes, null, handle);
      },
      finish() {
        open = false;
        return core.#answer("ritellm_stream_finish", null, null, handle);
      },
      close() {
        if (open) core.#sandbox.call("ritellm_stream_close", handle);
        open = false;
      },
    };
  }

  /** The mock provider's answer to a request body: its content type and body. */
  mock(body) {
    const [head, payload] = this.#answerWithPayload("ritellm_mock", body);
    return { contentType: head.content_type, body: payload };
  }

  #answer(name, data = null, rest = null, ...args) {
    return unwrap(decoder.decode(this.#sandbox.run(name, data, rest, ...args)));
  }

  #answerWithPayload(name, data) {
    const raw = this.#sandbox.run(name, data);
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
