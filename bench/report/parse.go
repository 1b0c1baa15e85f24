// Package report turns the output of the benchmark runs (`go test -bench` text, from any
// number of files and runners) into bench/RESULTS.md with SVG charts.
//
// Every number it writes comes from its input files or, for module sizes, from the module
// files themselves: nothing is typed in. Each benchmark ran several times (-count); the report
// shows the median and the range of the runs.
package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Run is one line of benchmark output: the name without the Benchmark prefix and the -N
// GOMAXPROCS suffix, and its values by unit ("ns/op", "B/op", "allocs/op", custom ones).
type Run struct {
	Name   string
	Values map[string]float64
}

// Set is the parsed output of one or more benchmark runs.
type Set struct {
	// Config holds the header lines ("goos", "goarch", "cpu", "pkg" …): the last value of each.
	Config map[string]string
	// Runs holds each benchmark's runs in the order read.
	Runs map[string][]Run
}

// NewSet returns an empty set.
func NewSet() *Set {
	return &Set{Config: map[string]string{}, Runs: map[string][]Run{}}
}

// Parse reads `go test -bench` output (the Go benchmark format) from r into s. Lines that are
// neither results nor "key: value" headers are ignored (PASS, ok, log output). A result line
// that does not parse is an error naming its line.
func (s *Set) Parse(name string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "Benchmark") {
			f := strings.Fields(text)
			if len(f) < 4 || len(f)%2 != 0 {
				// Not a result (a benchmark's log line); results have name, N and pairs.
				continue
			}
			if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
				continue
			}
			run := Run{Name: trimProcs(strings.TrimPrefix(f[0], "Benchmark")), Values: map[string]float64{}}
			for i := 2; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					return fmt.Errorf("%s:%d: value %q of %s: %v", name, line, f[i], f[i+1], err)
				}
				run.Values[f[i+1]] = v
			}
			if _, ok := run.Values["ns/op"]; !ok {
				return fmt.Errorf("%s:%d: %s has no ns/op", name, line, f[0])
			}
			s.Runs[run.Name] = append(s.Runs[run.Name], run)
			continue
		}
		if k, v, ok := strings.Cut(text, ": "); ok && !strings.ContainsAny(k, " \t") && k != "" {
			s.Config[k] = strings.TrimSpace(v)
		}
	}
	return sc.Err()
}

// trimProcs drops the "-N" GOMAXPROCS suffix go test appends to names.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// Stat is the summary of one metric over a benchmark's runs.
type Stat struct {
	Median, Min, Max float64
	N                int
}

// Stat returns the summary of unit over the runs of benchmark name; ok is false when no run
// reported it.
func (s *Set) Stat(name, unit string) (Stat, bool) {
	var vs []float64
	for _, r := range s.Runs[name] {
		if v, ok := r.Values[unit]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return Stat{}, false
	}
	sort.Float64s(vs)
	st := Stat{Min: vs[0], Max: vs[len(vs)-1], N: len(vs)}
	if n := len(vs); n%2 == 1 {
		st.Median = vs[n/2]
	} else {
		st.Median = (vs[n/2-1] + vs[n/2]) / 2
	}
	return st, true
}
