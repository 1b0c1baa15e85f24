// Command gen prints the benchmark input of bench.mjs as one JSON object: the generated
// snapshot of internal/gen (the one the Go benchmarks use) and its typical context,
// {"snapshot": "<JSON text>", "context": {...}, "now": <epoch ms>}.
package main

import (
	"encoding/json"
	"flag"
	"os"

	"github.com/vexil-flags/vexil/internal/gen"
)

func main() {
	n := flag.Int("flags", 1000, "number of flags")
	flag.Parse()
	ctx := map[string]any{"targetingKey": "user-4711"}
	for k, v := range gen.Attributes {
		ctx[k] = v
	}
	out := map[string]any{"snapshot": string(gen.Snapshot(*n, 1)), "context": ctx, "now": gen.Now}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
