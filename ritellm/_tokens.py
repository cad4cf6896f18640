"""Counting tokens: :func:`token_counter` here, without I/O (exact for OpenAI's models when
``tiktoken`` is installed, ``pip install 'ritellm[tokens]'``; otherwise an estimate), and
:func:`count_tokens` at the provider's own counting endpoint where it has one.

OpenAI's counts follow its documentation (the "How to count tokens with tiktoken" guide and the
vision guide): 3 tokens a message and 1 for a name, 3 to prime the reply, the documented
function-definition overhead, and images by their size in 512-pixel tiles. The estimate
elsewhere is a documented rule: a token per 4 characters of text (rounded up), the same
per-message overhead, 85 tokens an image.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import struct
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

#: Models whose tokenizer is o200k_base, by the start of their names; other OpenAI chat models
#: (gpt-4, gpt-3.5) use cl100k_base.
_O200K = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o", "gpt-oss", "codex")
_OPENAI_PROVIDERS = ("openai", "azure")
#: What OpenAI documents for a tool list (for gpt-4o and later; gpt-4 and gpt-3.5 differ).
_FUNCTION_START, _FUNCTION_START_OLD, _PROPERTIES_START, _PROPERTY = 7, 10, 3, 3
_ENUM_START, _ENUM_ITEM, _FUNCTIONS_END = -3, 3, 12
#: An image whose size is not known here (a URL ritellm does not fetch) counts as 1024x1024.
_UNKNOWN_IMAGE = (1024, 1024)


class TokenCount(NamedTuple):
    """A token count, and how it was made: ``"provider"`` (the provider's counting endpoint),
    ``"tiktoken"`` (OpenAI's tokenizer, as OpenAI documents) or ``"estimate"``."""

    tokens: int
    exact: bool
    method: str


def _name_of(model: str) -> tuple[str, str]:
    """The provider prefix (empty for a bare name) and the model name."""
    prefix, _, name = model.partition("/") if "/" in model else ("", "", model)
    return prefix, name.removeprefix("responses/")


@functools.lru_cache(maxsize=8)
def _encoding(name: str) -> Any | None:
    """tiktoken's encoding ``name``, or None (remembered, so an offline machine tries once):
    tiktoken not installed, or its encoding file neither cached nor downloadable."""
    try:
        import tiktoken

        return tiktoken.get_encoding(name)
    except Exception:
        return None


def openai_encoding(model: str) -> Any | None:
    """tiktoken's encoding for an OpenAI model, or None: not an OpenAI model, or no encoding."""
    prefix, name = _name_of(model)
    if prefix not in ("", *_OPENAI_PROVIDERS) or not name.startswith(
        ("gpt-", "o1", "o3", "o4", "chatgpt", "codex")
    ):
        return None
    return _encoding("o200k_base" if name.startswith(_O200K) else "cl100k_base")


def token_counter(
    model: str = "",
    messages: Iterable[Mapping[str, Any]] | None = None,
    text: str | list[str] | None = None,
    tools: Iterable[Mapping[str, Any]] | None = None,
    custom_llm_provider: str | None = None,
) -> int:
    """The tokens of ``messages`` (and ``tools``) or of ``text`` for ``model``: exact for
    OpenAI's models when tiktoken is installed, otherwise an estimate (see the module's rule;
    :func:`count_tokens` says which)."""
    return counted(model, messages, text, tools, custom_llm_provider).tokens


def counted(
    model: str,
    messages: Iterable[Mapping[str, Any]] | None,
    text: str | list[str] | None,
    tools: Iterable[Mapping[str, Any]] | None,
    custom_llm_provider: str | None = None,
) -> TokenCount:
    """:func:`token_counter`'s count, saying whether it is exact."""
    if custom_llm_provider and not model.startswith(f"{custom_llm_provider}/"):
        model = f"{custom_llm_provider}/{model}"
    encoding = openai_encoding(model)
    _, name = _name_of(model)

    def tokens_of(value: str) -> int:
        return (
            len(encoding.encode(value, disallowed_special=()))
            if encoding is not None
            else math.ceil(len(value) / 4)
        )

    total = 0
    if text is not None:
        total += sum(tokens_of(piece) for piece in ([text] if isinstance(text, str) else text))
    if messages is not None:
        for message in messages:
            total += 3
            for key, value in message.items():
                if key == "name":
                    total += 1
                total += _value_tokens(value, tokens_of, name, exact=encoding is not None)
        total += 3  # every reply is primed with <|start|>assistant<|message|>
    if tools:
        total += _tools_tokens(
            list(tools), tokens_of, old=name.startswith(("gpt-4-", "gpt-3.5")) or name == "gpt-4"
        )
    method = "tiktoken" if encoding is not None else "estimate"
    return TokenCount(total, encoding is not None, method)


def _value_tokens(value: Any, tokens_of: Any, model: str, exact: bool) -> int:
    if isinstance(value, str):
        return int(tokens_of(value))
    if isinstance(value, list):  # content parts
        total = 0
        for part in value:
            if not isinstance(part, Mapping):
                continue
            if part.get("type") == "text":
                total += tokens_of(part.get("text") or "")
            elif part.get("type") == "image_url":
                image = part.get("image_url") or {}
                total += (
                    image_tokens(image.get("url", ""), image.get("detail", "auto"), model) if exact else 85
                )
        return total
    if isinstance(value, (dict, Mapping)) or value is None or isinstance(value, (int, float)):
        return 0 if value is None else int(tokens_of(json.dumps(value)))
    return 0


def _tools_tokens(tools: list[Mapping[str, Any]], tokens_of: Any, old: bool) -> int:
    """OpenAI's documented overhead of function definitions, plus their text."""
    total = 0
    for tool in tools:
        function = tool.get("function") or tool
        total += _FUNCTION_START_OLD if old else _FUNCTION_START
        description = (function.get("description") or "").rstrip(".")
        total += tokens_of(f"{function.get('name', '')}:{description}")
        properties = (function.get("parameters") or {}).get("properties") or {}
        if properties:
            total += _PROPERTIES_START
            for key, spec in properties.items():
                total += _PROPERTY
                if spec.get("enum"):
                    total += _ENUM_START
                    for item in spec["enum"]:
                        total += _ENUM_ITEM + tokens_of(str(item))
                described = (spec.get("description") or "").rstrip(".")
                total += tokens_of(f"{key}:{spec.get('type', '')}:{described}")
    return total + _FUNCTIONS_END


def image_tokens(url: str, detail: str, model: str) -> int:
    """OpenAI's count for an image: 85 at low detail; otherwise the image scaled to fit 2048
    pixels, then its short side to 768, 170 tokens a 512-pixel tile plus 85 (gpt-4o-mini:
    5,667 a tile plus 2,833). Sizes come from a data URL's header; a URL is not fetched."""
    base, per_tile = (2833, 5667) if model.startswith("gpt-4o-mini") else (85, 170)
    if detail == "low":
        return base
    size = image_size(url) or _UNKNOWN_IMAGE
    width, height = float(size[0]), float(size[1])
    if max(width, height) > 2048:
        scale = 2048 / max(width, height)
        width, height = width * scale, height * scale
    if min(width, height) > 768:
        scale = 768 / min(width, height)
        width, height = width * scale, height * scale
    return base + per_tile * math.ceil(width / 512) * math.ceil(height / 512)


def image_size(url: str) -> tuple[int, int] | None:
    """The width and height in a data URL's PNG, GIF, JPEG or WebP header, or None."""
    if not url.startswith("data:") or ";base64," not in url:
        return None
    try:
        head = base64.b64decode(url.partition(";base64,")[2][:65536], validate=False)
    except ValueError:
        return None
    if head.startswith(b"\x89PNG") and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return int(width), int(height)
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return int(width), int(height)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP" and head[12:16] == b"VP8X" and len(head) >= 30:
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if head.startswith(b"\xff\xd8"):
        at = 2
        while at + 9 < len(head):
            if head[at] != 0xFF:
                return None
            marker, length = head[at + 1], struct.unpack(">H", head[at + 2 : at + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", head[at + 5 : at + 9])
                return int(width), int(height)
            at += 2 + length
    return None
