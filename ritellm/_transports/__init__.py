"""HTTP stacks behind one small interface (:mod:`.base`): httpx for sync calls, aiohttp or httpx
for async ones, the JavaScript host's fetch under Pyodide (``fetch.py``), and the in-process
mock provider. Policy (retries, deadlines, redirects, limits, decoding, redaction) lives above
them, in ``ritellm._transport``; a stack imports only :mod:`.base` and its own library."""
