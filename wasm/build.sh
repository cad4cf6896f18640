#!/usr/bin/env bash
# Builds wasm/ritellm_core.wasm from core-rs/ with Debian's offline toolchain (see README).
# The result is byte-for-byte reproducible; CI rebuilds it and fails if it differs.
set -euo pipefail
cd "$(dirname "$0")/.."

PATH=/usr/bin:/bin RUSTC=/usr/bin/rustc /usr/bin/cargo build --release --locked \
    --target wasm32-unknown-unknown --manifest-path core-rs/Cargo.toml
built=target/wasm32-unknown-unknown/release/ritellm_core.wasm

# Keep only `memory` and the functions core-rs/src/abi.rs exports: the linker also exports
# `__data_end` and `__heap_base`, which no host needs.
graph=$(mktemp)
trap 'rm -f "$graph"' EXIT
{
    echo '[{"name": "memory", "export": "memory", "root": true}'
    sed -n 's/^pub extern "C" fn \(ritellm_[a-z_]*\).*/,{"name": "\1", "export": "\1", "root": true}/p' \
        core-rs/src/abi.rs
    echo ']'
} >"$graph"
wasm-metadce --enable-bulk-memory "$built" --graph-file "$graph" -o wasm/ritellm_core.wasm >/dev/null
# -O3 rather than -Oz: on top of opt-level "s" (Cargo.toml), -Oz saves under 1 KB gzipped and
# slows the stream path. Twice: the second pass finds about 1 KB gzipped more to fold away.
wasm-opt --enable-bulk-memory -O3 -O3 wasm/ritellm_core.wasm -o wasm/ritellm_core.wasm
sha256sum wasm/ritellm_core.wasm
