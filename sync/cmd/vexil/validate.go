package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/vexil-flags/vexil/core/model"
)

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vexil validate FILE\n\nPrints each problem as 'path: message' and exits 1 when there is one.")
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	file := fs.Arg(0)
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "vexil validate: %v\n", err)
		return 1
	}
	snap, err := model.Parse(data)
	if err != nil {
		fmt.Fprintf(stdout, "%s\n", err)
		return 1
	}
	for _, p := range snap.Problems {
		fmt.Fprintln(stdout, p.String())
	}
	rejected := 0
	for _, f := range snap.Flags {
		if f.Rejected {
			rejected++
		}
	}
	fmt.Fprintf(stderr, "%s: environment %q version %d: %d flags (%d rejected), %d segments, %d problems\n",
		file, snap.Environment, snap.Version, len(snap.Flags), rejected, len(snap.Segments), len(snap.Problems))
	if len(snap.Problems) > 0 {
		return 1
	}
	return 0
}
