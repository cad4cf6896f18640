# ritellm's one entry point. `just` lists the recipes.

# Debian's offline Rust-to-wasm toolchain, and Chromium for the browser tests.
apt_packages := "rustc cargo libstd-rust-dev-wasm32 lld-14 librust-serde-dev librust-serde-derive-dev librust-serde-json-dev binaryen wabt chromium redis-server"

# List the recipes.
default:
    @just --list

# Install everything: the Rust-to-wasm toolchain, Chromium, Pyodide and Playwright from npm, and the
# Python package with its dev tools.
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! dpkg -s {{apt_packages}} >/dev/null 2>&1; then
        sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends {{apt_packages}}
    fi
    if ! command -v node >/dev/null; then
        sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends nodejs npm
    fi
    python3 -m pip install -q -e '.[dev]'
    npm ci --no-audit --no-fund --loglevel=error

# Rebuild wasm/ritellm_core.wasm from core-rs/.
wasm:
    ./wasm/build.sh

# Rebuild the model table (wasm/ritellm_models.json) from LiteLLM's price map and wasm/models/corrections.json
models:
    python3 wasm/models/build.py

# Rebuild the module and fail if it differs from the committed one.
wasm-check: wasm
    git diff --exit-code --stat -- wasm/ritellm_core.wasm

# The whole suite: the committed module is a fresh build, the Rust, JavaScript and Python tests, `just clients`.
test: setup wasm-check && clients
    PATH=/usr/bin:/bin RUSTC=/usr/bin/rustc /usr/bin/cargo test --locked --quiet
    node --test wasm/
    python3 -m pytest

# The clients (tests/clients/requirements.txt) are installed in a venv of their own, target/clients-venv.
# Real clients built on LiteLLM, on LiteLLM and on ritellm.install_as_litellm(): same steps pass, same requests.
clients:
    #!/usr/bin/env bash
    set -euo pipefail
    venv=target/clients-venv
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -e . -r tests/clients/requirements.txt -c tests/clients/constraints.txt
    "$venv/bin/python" -m pytest tests/clients -q

# Formatting, lints and types, Rust and Python.
lint:
    cargo fmt --check
    cargo clippy --all-targets --locked -- -D warnings
    ruff check .
    ruff format --check .
    mypy

# ritellm beside raw httpx, raw aiohttp and its peers on a local server (bench/README.md says what is measured):
# chat calls and streams, then embeddings.
bench:
    python3 bench/run.py
    python3 bench/embeddings.py

# ritellm under Pyodide (Node, Chromium) beside CPython: per-call costs and their ratios.
bench-pyodide:
    python3 bench/pyodide.py

# Serve the browser chat page (wasm/chat.html) with Pyodide and ritellm from this checkout, offline.
chat port="8000":
    #!/usr/bin/env bash
    set -euo pipefail
    site=target/chat
    rm -rf "$site" && mkdir -p "$site"
    python3 -m pip wheel -q --no-deps --no-build-isolation -w "$site" .
    mv "$site"/ritellm-*.whl "$site/ritellm.whl"
    ln -s "$PWD/wasm/chat.html" "$site/index.html"
    ln -s "$PWD/node_modules/pyodide" "$site/pyodide"
    echo "Open http://127.0.0.1:{{port}}/?pyodide=./pyodide/"
    python3 -m http.server --bind 127.0.0.1 --directory "$site" {{port}}

# Run the CLI on the embedded mock provider.
demo prompt="Hello from ritellm":
    ritellm -m mock/echo "{{prompt}}"
