// Package core is Vexil's evaluation engine: the one implementation of flag semantics that
// every host runs, natively in Go or compiled to WebAssembly with TinyGo.
//
// A host loads a snapshot once ([Load], or [model.Parse] and [New]), resolves flag keys to
// indices once per snapshot ([Evaluator.FlagIndex]), prepares a [Context] once per request, and
// then evaluates as many flags as it likes: [Evaluator.Evaluate] neither allocates nor parses,
// and never panics. Results are small values ([Result]); the served JSON, the rule id and the
// reason text are fetched only when asked for.
//
// The semantics — evaluation order, operators, bucketing — are specified in SNAPSHOT.md and
// pinned by the golden vectors in testdata/vectors.json, which every host runs. Time and
// randomness come from the host through the Context, so evaluation is deterministic.
//
// The package uses no reflection, encoding/json or fmt, so it compiles under TinyGo.
package core
