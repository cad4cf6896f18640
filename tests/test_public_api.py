"""The published surface of the package."""

from __future__ import annotations

import inspect

import pytest

import ritellm


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(ritellm) if not name.startswith("_")} | {"__version__"}
    assert ritellm.__all__ == sorted(ritellm.__all__)
    assert set(ritellm.__all__) == public


def test_signatures_keep_the_published_positional_order() -> None:
    published = ["model", "messages", "temperature", "max_tokens", "base_url", "stream", "additional_params"]
    for function in (ritellm.completion, ritellm.acompletion):
        parameters = inspect.signature(function).parameters
        positional = [n for n, p in parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert positional == published
        assert {"api_key", "timeout", "extra_headers"} <= set(parameters)
    assert inspect.iscoroutinefunction(ritellm.acompletion)


def test_value_errors_stay_value_errors() -> None:
    for cls in (ritellm.UnsupportedProviderError, ritellm.InvalidRequestError, ritellm.MissingAPIKeyError):
        assert issubclass(cls, ValueError) and issubclass(cls, ritellm.RitellmError)
    for status_class in (ritellm.OverloadedError, ritellm.GatewayTimeoutError):
        assert issubclass(status_class, ritellm.InternalServerError)


def test_public_names_show_as_ritellm_names() -> None:
    import pickle
    import traceback

    for name in ritellm.__all__:
        public = getattr(ritellm, name)
        if isinstance(public, type) or callable(public):
            assert public.__module__ == "ritellm", name
            assert getattr(ritellm, public.__name__) is public, name
    with pytest.raises(ritellm.UnsupportedProviderError) as info:
        ritellm.completion("nope/x", [])
    shown = traceback.format_exception_only(info.type, info.value)[-1]
    assert shown.startswith("ritellm.UnsupportedProviderError: ")
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is ritellm.UnsupportedProviderError and again.args == info.value.args
