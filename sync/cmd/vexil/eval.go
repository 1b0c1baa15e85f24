package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/model"
)

func runEval(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	snapshot := fs.String("snapshot", "", "snapshot `FILE` (required)")
	key := fs.String("flag", "", "flag `KEY` to evaluate")
	all := fs.Bool("all", false, "evaluate every flag")
	ctxJSON := fs.String("context", "{}", "context as a JSON object, or @FILE")
	typ := fs.String("type", "", "typed check: boolean, string, number, integer or json")
	def := fs.String("default", "null", "caller's default as JSON")
	now := fs.String("now", "", "evaluation time, RFC 3339 or epoch ms (default: the clock)")
	random := fs.String("random", "", "32-bit random number for percentage-of-time gates (default: drawn)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vexil eval --snapshot FILE (--flag KEY | --all) [--context JSON|@FILE] [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "vexil eval: "+format+"\n", a...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case *snapshot == "":
		return fail("--snapshot is required")
	case (*key == "") == !*all:
		return fail("give exactly one of --flag KEY and --all")
	}
	want, ok := core.ParseType(*typ)
	if !ok {
		return fail("--type: unknown type %q (boolean, string, number, integer, json)", *typ)
	}
	var defBuf bytes.Buffer
	if err := json.Compact(&defBuf, []byte(*def)); err != nil {
		return fail("--default: not valid JSON: %s", *def)
	}

	data, err := os.ReadFile(*snapshot)
	if err != nil {
		fmt.Fprintf(stderr, "vexil eval: %v\n", err)
		return 1
	}
	ev, err := core.Load(data)
	if err != nil {
		fmt.Fprintf(stderr, "vexil eval: %s: %v\n", *snapshot, err)
		return 1
	}
	for _, p := range ev.Snapshot().Problems {
		fmt.Fprintf(stderr, "warning: %s\n", p)
	}

	ctx := ev.NewContext()
	raw := []byte(*ctxJSON)
	if strings.HasPrefix(*ctxJSON, "@") {
		if raw, err = os.ReadFile((*ctxJSON)[1:]); err != nil {
			fmt.Fprintf(stderr, "vexil eval: --context: %v\n", err)
			return 1
		}
	}
	if err := ctx.SetJSON(raw); err != nil {
		return fail("--context: %v", err)
	}
	if ctx.Now, err = parseNow(*now); err != nil {
		return fail("--now: %v", err)
	}
	if *random == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		ctx.Random = binary.LittleEndian.Uint32(b[:])
	} else {
		n, err := strconv.ParseUint(*random, 10, 32)
		if err != nil {
			return fail("--random: want an integer from 0 to 4294967295, got %q", *random)
		}
		ctx.Random = uint32(n)
	}

	out := []byte{}
	if *all {
		out = append(out, '[')
		for i, f := range ev.Snapshot().Flags {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, "\n  "...)
			out = ev.AppendJSON(out, f.Key, ev.EvaluateTyped(i, ctx, want), defBuf.String())
		}
		out = append(out, "\n]"...)
	} else {
		out = ev.AppendJSON(out, *key, ev.EvaluateTyped(ev.FlagIndex(*key), ctx, want), defBuf.String())
	}
	out = append(out, '\n')
	_, _ = stdout.Write(out)
	return 0
}

// parseNow reads --now: empty for the clock, RFC 3339, or epoch milliseconds.
func parseNow(s string) (int64, error) {
	if s == "" {
		return time.Now().UnixMilli(), nil
	}
	if ms, ok := model.ParseTime(s); ok {
		return ms, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	return 0, fmt.Errorf("want RFC 3339 or epoch milliseconds, got %q", s)
}
