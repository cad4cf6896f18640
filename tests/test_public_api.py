"""The published surface of the package."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

import ritellm


def test_all_is_sorted_and_complete() -> None:
    # Names loaded on first use (ritellm._LAZY) are public too, loaded or not yet.
    public = (
        {name for name in vars(ritellm) if not name.startswith("_")} | set(ritellm._LAZY) | {"__version__"}
    )
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
        if isinstance(public, type):
            assert public.__module__ == "ritellm", name
            assert getattr(ritellm, public.__name__) is public, name
    with pytest.raises(ritellm.UnsupportedProviderError) as info:
        ritellm.completion("nope/x", [])
    shown = traceback.format_exception_only(info.type, info.value)[-1]
    assert shown.startswith("ritellm.UnsupportedProviderError: ")
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is ritellm.UnsupportedProviderError and again.args == info.value.args


#: A parameter as written: (name, kind, default, annotation), the last two as source text.
Parameter = tuple[str, str, Optional[str], Optional[str]]


def _definitions(function: Callable[..., Any]) -> list[tuple[list[Parameter], str]]:
    """Every module-level definition of ``function``'s name in the file that defines it (its
    ``@overload`` stubs, then itself), as (parameters, return annotation) in source text. Read
    from the source: ``typing.get_overloads`` finds nothing once ``__module__`` says ``ritellm``."""
    tree = ast.parse(Path(inspect.getsourcefile(function) or "").read_text("utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function.__name__:
            args = node.args
            positional = args.posonlyargs + args.args
            defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
            kinds = ["positional-only"] * len(args.posonlyargs) + ["positional"] * len(args.args)
            parameters = [
                (arg.arg, kind, _text(default), _text(arg.annotation))
                for arg, kind, default in zip(positional, kinds, defaults)
            ]
            if args.vararg:
                parameters.append((args.vararg.arg, "*args", None, _text(args.vararg.annotation)))
            parameters += [
                (arg.arg, "keyword-only", _text(default), _text(arg.annotation))
                for arg, default in zip(args.kwonlyargs, args.kw_defaults)
            ]
            if args.kwarg:
                parameters.append((args.kwarg.arg, "**kwargs", None, _text(args.kwarg.annotation)))
            found.append((parameters, _text(node.returns) or ""))
    return found


def _text(node: ast.AST | None) -> str | None:
    return None if node is None else ast.unparse(node)


def test_the_overloads_and_implementations_of_completion_and_acompletion_agree() -> None:
    """The eight signatures (three overloads and the implementation of each call) have the same
    parameters, in the same order, of the same kind, default and type, but for ``stream``: it
    picks the overload, and where it has no default (``Literal[True]``) it and the parameters
    after it are keyword-only."""
    expected_streams = {  # per function: (stream's annotation, kind, default, return) per definition
        "completion": [
            ("Literal[False]", "positional", "False", "ChatCompletion"),
            ("Literal[True]", "keyword-only", None, "Stream"),
            ("bool", "positional", "False", "ChatCompletion | Stream"),
            ("bool", "positional", "False", "ChatCompletion | Stream"),
        ],
        "acompletion": [
            ("Literal[False]", "positional", "False", "ChatCompletion"),
            ("Literal[True]", "keyword-only", None, "AsyncStream"),
            ("bool", "positional", "False", "ChatCompletion | AsyncStream"),
            ("bool", "positional", "False", "ChatCompletion | AsyncStream"),
        ],
    }
    reference, _ = _definitions(ritellm.completion)[-1]
    names = [name for name, *_ in reference]
    after_stream = names[names.index("stream") + 1 :]
    for function in (ritellm.completion, ritellm.acompletion):
        definitions = _definitions(function)
        streams = []
        for parameters, returns in definitions:
            assert [name for name, *_ in parameters] == names, function.__name__
            by_name = {name: (kind, default, annotation) for name, kind, default, annotation in parameters}
            kind, default, annotation = by_name.pop("stream")
            streams.append((annotation, kind, default, returns))
            for name, ref_kind, ref_default, ref_annotation in reference:
                if name == "stream":
                    continue
                if default is None and name in after_stream and ref_kind == "positional":
                    ref_kind = "keyword-only"  # after a stream with no default
                assert by_name[name] == (ref_kind, ref_default, ref_annotation), (function.__name__, name)
        assert streams == expected_streams[function.__name__]
