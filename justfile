# ritellm's one entry point. `just` lists the recipes.

apt_packages := "rustc cargo libstd-rust-dev-wasm32 lld-14 librust-serde-dev librust-serde-derive-dev librust-serde-json-dev binaryen wabt"

# List the recipes.
default:
    @just --list

# Install everything: Debian's offline Rust-to-wasm toolchain and the Python package with its dev tools.
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
        $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends nodejs
    fi
    python3 -m pip install -q -e '.[dev]'

# Rebuild wasm/ritellm_core.wasm from core-rs/.
wasm:
    ./wasm/build.sh

# Rebuild the module and fail if it differs from the committed one.
wasm-check: wasm
    git diff --exit-code --stat -- wasm/ritellm_core.wasm

# The whole test suite: the committed module is a fresh build, then the Rust, JavaScript and Python tests.
test: setup wasm-check
    PATH=/usr/bin:/bin RUSTC=/usr/bin/rustc /usr/bin/cargo test --locked --quiet
    node --test wasm/
    python3 -m pytest

# Formatting, lints and types, Rust and Python.
lint:
    cargo fmt --check
    cargo clippy --all-targets --locked -- -D warnings
    ruff check .
    ruff format --check .
    mypy

# ritellm beside raw httpx, raw aiohttp and its peers on a local server (bench/README.md says what is measured).
bench:
    python3 bench/run.py

# Run the CLI on the embedded mock provider.
demo prompt="Hello from ritellm":
    ritellm -m mock/echo "{{prompt}}"
