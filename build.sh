#!/usr/bin/env bash
# Builds everything Vexil ships into dist/. Idempotent; safe to run again.
#   dist/vexil   the command line (validate, eval; the daemon joins it later)
# The wasm modules (dist/vexil.wasm with TinyGo, dist/vexil-go.wasm with Go) arrive with the
# wasm engine.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p dist
step() { printf '==> %s\n' "$*" >&2; }

step "go build dist/vexil"
go build -trimpath -o dist/vexil ./sync/cmd/vexil
