// Command native prints the native core's rendering (core.AppendResultJSON, via
// vectors.Case.EvaluateNative) of every golden vector case, one JSON line per case:
// {"suite","case","native"}. The JS host's tests compare their own rendering with it byte for
// byte. Each suite starts with {"suite","snapshot","problems"} (its snapshot's raw text, so the
// JS side loads the very bytes the core loaded); a suite whose snapshot the core refuses
// also carries "loadError".
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/vectors"
)

func main() {
	f, err := vectors.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	for _, s := range f.Suites {
		ev, err := core.Load(s.Snapshot)
		head := map[string]any{"suite": s.Name, "snapshot": string(s.Snapshot), "problems": s.Problems}
		if err != nil {
			head["loadError"] = err.Error()
		}
		_ = enc.Encode(head)
		if err != nil {
			continue
		}
		ctx := ev.NewContext()
		for i := range s.Cases {
			c := &s.Cases[i]
			line := map[string]string{"suite": s.Name, "case": c.Name}
			n, err := c.EvaluateNative(ev, ctx)
			if err != nil {
				line["error"] = err.Error()
			} else {
				line["native"] = string(n.JSON)
			}
			_ = enc.Encode(line)
		}
	}
}
