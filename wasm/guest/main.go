// Command guest is Vexil's evaluation engine as a WebAssembly module: thin exports around
// package core implementing the WIT contract in ../wit/engine.wit, with the memory rules,
// context encoding and result layout of ../ABI.md.
//
// It builds with TinyGo (the shipped dist/vexil.wasm, -target=wasm-unknown) and with standard
// Go (dist/vexil-go.wasm, GOOS=wasip1 -buildmode=c-shared); see build.sh. Both are reactors:
// the host calls _initialize once after instantiation, then the exports.
//
// The files: state.go holds the guest state (the loaded evaluator, the context, the buffers);
// exports.go has one function per WIT function.
package main

// main is never called in a reactor; package main needs it.
func main() {}
