"""Request templates: calls alike (everything but the messages the same) of a provider whose
body holds the messages as given reuse the core's head and the body around the messages. This
saves the core a crossing per call; the core says when a body allows it (its
``messages_slot``)."""

from __future__ import annotations

import json
from collections.abc import Hashable
from typing import Any

from ._limits import Limits

#: Shape of a call -> the core's head, and the body before and after the messages.
_templates: dict[Hashable, tuple[dict[str, Any], bytes, bytes]] = {}
KEPT = 256
#: Made once: ``json.dumps`` with any non-default option makes a new encoder on every call.
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))
#: The messages in a template's slot: as the core would write them (UTF-8, no NaN).
_MESSAGES_ENCODER = json.JSONEncoder(allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def shape(
    model: Any,
    stream: bool,
    base_url: Any,
    additional_params: Any,
    api_version: Any,
    params: dict[str, Any],
    limits: Limits,
    env: dict[str, str],
    drop_params: bool,
) -> Hashable | None:
    """What makes two calls alike, as a key; None when it cannot be told cheaply (the core then
    prepares the call)."""
    try:
        extra = (
            additional_params
            if isinstance(additional_params, str) or additional_params is None
            else _ENCODER.encode(additional_params)
        )
        key = (
            model,
            stream,
            base_url,
            extra,
            api_version,
            _ENCODER.encode(params) if params else "",
            limits,
            tuple(env.items()),
            drop_params,
        )
        hash(key)
    except (TypeError, ValueError):
        return None
    return key


def fill(key: Hashable, messages: Any) -> tuple[dict[str, Any], bytes] | None:
    """The head and body of a call of shape ``key`` with ``messages``; None when there is no
    template for it, or the core must check the messages itself (they are not a list of
    objects, or not JSON)."""
    template = _templates.get(key)
    if template is None or type(messages) is not list or not all(type(m) is dict for m in messages):
        return None
    head, before, after = template
    try:
        return head, before + _MESSAGES_ENCODER.encode(messages).encode() + after
    except (TypeError, ValueError):
        return None


def keep(key: Hashable, head: dict[str, Any], body: bytes) -> None:
    """Keeps a prepared call as the template of its shape, when the core marked its messages."""
    slot = head.get("messages_slot")
    if slot is None:
        return
    if len(_templates) >= KEPT:
        _templates.clear()
    _templates[key] = (head, body[: slot[0]], body[slot[1] :])
