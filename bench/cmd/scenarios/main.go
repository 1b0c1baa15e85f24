// Command scenarios writes the benchmark matrix (package bench/scenarios) as JSON, for
// benchmark runners outside Go such as the JS host's in Node and Chromium:
//
//	go run ./bench/cmd/scenarios -o bench/scenarios.json
//
// bench/README.md describes the format and what a runner must print.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vexil-flags/vexil/bench/scenarios"
)

func main() {
	out := flag.String("o", "bench/scenarios.json", "output file (- for standard output)")
	flag.Parse()
	data, err := scenarios.Export()
	if err != nil {
		fmt.Fprintln(os.Stderr, "scenarios:", err)
		os.Exit(1)
	}
	if *out == "-" {
		_, err = os.Stdout.Write(append(data, '\n'))
	} else {
		err = os.WriteFile(*out, append(data, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scenarios:", err)
		os.Exit(1)
	}
}
