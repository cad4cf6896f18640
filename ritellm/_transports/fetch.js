// The JavaScript side of ritellm's fetch transport (fetch.py). Timeouts live here, as timers
// cleared when their wait ends: a Python-side timer would keep Node alive until it fired.
(() => {
  const timeoutError = (what) => new DOMException(`${what} timed out`, "TimeoutError");

  // Settles like `promise`, unless `ms` passes first: then `controller` aborts the request with
  // a TimeoutError, which rejects the promise. No `ms` waits for ever.
  function within(promise, ms, controller, what) {
    if (ms == null) return promise;
    const timer = setTimeout(() => controller.abort(timeoutError(what)), ms);
    return promise.finally(() => clearTimeout(timer));
  }

  return {
    fetch: (url, options, ms, controller) => within(fetch(url, options), ms, controller, "connecting"),
    read: (reader, ms, controller) => within(reader.read(), ms, controller, "reading the response"),
    // A browser's synchronous request: the whole body at once, and no timeout (pages cannot
    // set one on a synchronous request).
    xhr(method, url, headers, body) {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url, false);
      // A synchronous request in a page cannot ask for bytes; this charset maps each byte to
      // one character, read back below.
      xhr.overrideMimeType("text/plain; charset=x-user-defined");
      for (const [name, value] of headers) xhr.setRequestHeader(name, value);
      xhr.send(body);
      const text = xhr.responseText;
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
      return [xhr.status, xhr.getAllResponseHeaders(), bytes];
    },
  };
})();
