// The JavaScript side of ritellm's engine under Pyodide (javascript.py): the host's own
// WebAssembly runs the module, and each operation is one call from Python into this file.
(wasm, exports) => {
  const module = new WebAssembly.Module(wasm);
  const names = WebAssembly.Module.exports(module).map((item) => item.name);
  const decoder = new TextDecoder("utf-8", { fatal: true });

  function instantiate() {
    const x = new WebAssembly.Instance(module, {}).exports;
    for (const [name, [params]] of Object.entries(exports)) {
      if (x[name].length !== params) throw new Error(`the module's export ${name} has the wrong signature`);
    }
    let view = new Uint8Array(x.memory.buffer);
    // Growing memory detaches the old buffer, so views are remade after calls that grew it.
    const memory = () => (view.byteLength === x.memory.buffer.byteLength ? view : (view = new Uint8Array(x.memory.buffer)));
    const read = (address, length) => {
      const bytes = memory().subarray(address, address + length);
      if (bytes.length !== length) throw new RangeError("the module answered outside its memory");
      // Text crosses into Python as str in one step; bytes would need a second crossing.
      try {
        return decoder.decode(bytes);
      } catch {
        return bytes.slice();
      }
    };
    return {
      call: (name, ...args) => BigInt.asUintN(64, BigInt(x[name](...args) ?? 0)),
      read,
      run(name, address, data, rest, ...args) {
        if (data != null) {
          const into = memory();
          into.set(data, address);
          if (rest != null) into.set(rest, address + data.length);
          args.push(data.length + (rest == null ? 0 : rest.length));
        }
        const packed = BigInt.asUintN(64, BigInt(x[name](...args)));
        return read(Number(packed >> 32n), Number(packed & 0xffffffffn));
      },
    };
  }
  return { names, instantiate };
};
