// Package embedded carries the shipped engine, dist/vexil.wasm, inside the Go host so that
// `go get` is all a user needs. build.sh copies each fresh build here; `make test` fails when
// the committed copy differs from what the sources build, so the two never drift apart.
package embedded

import _ "embed"

// Module is the TinyGo-built engine (wasm/ABI.md). Callers must not modify it.
//
//go:embed vexil.wasm
var Module []byte
