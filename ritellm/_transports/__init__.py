"""HTTP stacks behind one small interface (:mod:`.base`): httpx for sync calls, aiohttp or httpx
for async ones, and the in-process mock provider. Policy (retries, deadlines, redirects, limits,
decoding, redaction) lives above them, in ``ritellm._transport``."""
