"""The ``ritellm`` command: ``ritellm -m MODEL "prompt"`` streams the answer to the terminal;
``ritellm embed -m MODEL "text"`` prints the embedding as JSON."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from ._api import completion, embedding, providers
from ._exceptions import RitellmError
from ._streaming import Stream
from ._version import __version__

DEFAULT_MODEL = "mock/echo"
DEFAULT_EMBEDDING_MODEL = "mock/embedding"

#: How the library's messages name an argument, and what the command calls it instead. The
#: command has no option for a key (one on a command line shows in `ps`): the variable is the way.
_IN_CLI_TERMS = (
    (re.compile(r",? or pass api_key=|pass api_key=, "), ""),
    (re.compile(r"\bbase_url\b=?"), "--base-url"),
    (re.compile(r"\bmax_tokens\b=?"), "--max-tokens"),
)


def _one_line(error: Exception) -> str:
    """An error as the command prints it: one line, naming the command's own options."""
    text = " ".join(str(error).split())
    for pattern, replacement in _IN_CLI_TERMS:
        text = pattern.sub(replacement, text)
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ritellm",
        description="Send one prompt to any LLM provider and print the answer.",
        epilog=f"Without -m, the model is $RITELLM_MODEL or {DEFAULT_MODEL} (no network, no key). "
        "Embeddings: ritellm embed --help.",
    )
    parser.add_argument("prompt", nargs="?", help="the prompt; read from standard input when absent")
    parser.add_argument(
        "-m",
        "--model",
        default=os.environ.get("RITELLM_MODEL", DEFAULT_MODEL),
        help="provider/model, e.g. openai/gpt-4o-mini (--providers lists the prefixes)",
    )
    parser.add_argument("-s", "--system", help="a system prompt")
    parser.add_argument("-t", "--temperature", type=float, help="sampling temperature, e.g. 0.2")
    parser.add_argument("--max-tokens", type=int, help="the most tokens the answer may have")
    parser.add_argument("--base-url", help="the API base, e.g. http://localhost:11434/v1")
    parser.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
    parser.add_argument(
        "--json", action="store_true", help="print the chat.completion (or one chunk a line) as JSON"
    )
    parser.add_argument(
        "--providers", action="store_true", help="list the providers: prefix, protocol, key variable"
    )
    parser.add_argument(
        "--warm-cache",
        action="store_true",
        help="compile the core into the cache ($RITELLM_CACHE_DIR) and exit, e.g. in a Dockerfile",
    )
    parser.add_argument("--version", action="version", version=f"ritellm {__version__}")
    return parser


def _embed_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ritellm embed",
        description="Embed text with any provider and print the answer as JSON.",
        epilog=f"Without -m, the model is $RITELLM_EMBEDDING_MODEL or {DEFAULT_EMBEDDING_MODEL} (no network, no key).",
    )
    parser.add_argument("text", nargs="?", help="the text; else each line of standard input is one input")
    parser.add_argument(
        "-m",
        "--model",
        default=os.environ.get("RITELLM_EMBEDDING_MODEL", DEFAULT_EMBEDDING_MODEL),
        help="provider/model, e.g. openai/text-embedding-3-small",
    )
    parser.add_argument(
        "--dimensions", type=int, help="the length of each vector, where the model can shorten them"
    )
    parser.add_argument("--input-type", help="query or document (or the provider's own value)")
    parser.add_argument("--base-url", help="the API base, e.g. http://localhost:11434/v1")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["embed"]:
            return _embed(_embed_parser().parse_args(args[1:]))
        return _run(_parser().parse_args(args))
    except KeyboardInterrupt:  # at any point, reading stdin included: no traceback
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`ritellm ... | head`): stop quietly. Later writes at exit
        # would fail again, so standard output now goes nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _read_prompt() -> str:
    if sys.stdin.isatty():
        print(
            "ritellm: type the prompt, then Ctrl-D on a new line (Ctrl-Z Enter on Windows); "
            'or pass it as an argument: ritellm "Hello"',
            file=sys.stderr,
        )
    # A piped prompt ends with a newline that is not part of it.
    return sys.stdin.read().rstrip("\r\n")


def _print_providers() -> None:
    for provider in providers():
        where = provider.base_url or f"(set {' or '.join(provider.base_url_env)})"
        key = provider.key_env if provider.key_required else f"{provider.key_env or '-'} (optional)"
        print(f"{provider.prefix:14} {provider.protocol:10} {key:32} {where}")


def _embed(args: argparse.Namespace) -> int:
    inputs: Any = args.text
    if inputs is None:
        if sys.stdin.isatty():
            print(
                "ritellm embed: type one text a line, then Ctrl-D (Ctrl-Z Enter on Windows)", file=sys.stderr
            )
        inputs = [line for line in sys.stdin.read().splitlines() if line.strip()]
    try:
        result = embedding(
            args.model, inputs, dimensions=args.dimensions, input_type=args.input_type, base_url=args.base_url
        )
    except RitellmError as exc:
        print(f"ritellm: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.warm_cache:
        from ._core import cache_dir, load

        load()
        print(f"ritellm: the compiled core is cached in {cache_dir()}")
        return 0
    if args.providers:
        _print_providers()
        return 0
    prompt = args.prompt if args.prompt is not None else _read_prompt()
    messages: list[dict[str, Any]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": prompt})
    try:
        result = completion(
            args.model,
            messages,
            temperature=args.temperature,
            max_tokens=args.max_tokens,
            base_url=args.base_url,
            stream=not args.no_stream,
        )
        if isinstance(result, Stream):
            with result:
                for chunk in result:
                    if args.json:
                        print(json.dumps(chunk), flush=True)
                    else:
                        for choice in chunk.choices or ():  # a usage chunk has none
                            print(choice.delta.content or "", end="", flush=True)
            if not args.json:
                print()
        elif args.json:
            print(json.dumps(result, indent=2))
        else:
            print(result.choices[0].message.content or "" if result.choices else "")
    except RitellmError as exc:
        print(f"ritellm: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    return 0
