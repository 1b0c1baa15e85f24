package report

import (
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/vexil-flags/vexil/bench/scenarios"
)

// Engine is one column of the matrix: a Vexil engine or a peer. ID is the engine's segment in
// benchmark names (Evaluate/<ID>/<scenario>).
type Engine struct {
	ID, Label string
	Peer      bool
}

// Engines lists every engine the report knows, in display order. A runner whose results name
// another engine is reported under its ID.
var Engines = []Engine{
	{ID: "native", Label: "Vexil native core (Go)"},
	{ID: "tinygo", Label: "Vexil TinyGo module · wazero"},
	{ID: "go", Label: "Vexil Go module · wazero"},
	{ID: "node", Label: "Vexil TinyGo module · Node"},
	{ID: "chromium", Label: "Vexil TinyGo module · Chromium"},
	{ID: "node-go", Label: "Vexil Go module · Node"},
	{ID: "chromium-go", Label: "Vexil Go module · Chromium"},
	{ID: "launchdarkly", Label: "LaunchDarkly evaluation", Peer: true},
	{ID: "flagd", Label: "flagd core", Peer: true},
	{ID: "unleash", Label: "Unleash Go client", Peer: true},
	{ID: "growthbook", Label: "GrowthBook Go SDK", Peer: true},
}

func engine(id string) Engine {
	for _, e := range Engines {
		if e.ID == id {
			return e
		}
	}
	return Engine{ID: id, Label: id}
}

// Input is everything a report is made of.
type Input struct {
	Set *Set
	// Machine and Versions are "what: value" rows for the machine and versions table, in
	// order, gathered by the caller from the machine itself.
	Machine  [][2]string
	Versions [][2]string
	// Sizes are the module files measured: name, raw bytes, gzip -9 bytes.
	Sizes []ModuleSize
	// Command is the command that reproduces the run; Settings says how it ran (benchtime,
	// count).
	Command, Settings string
	// ChartDir is where charts go, relative to the report (e.g. "charts").
	ChartDir string
	// Pending lists sections not measured yet: title and what will fill them.
	Pending [][2]string
}

// ModuleSize is one module file's size.
type ModuleSize struct {
	Name      string
	Raw, Gzip int64
}

// Output is the report and its charts (file name relative to the report → SVG).
type Output struct {
	Markdown []byte
	Charts   map[string][]byte
}

type row struct {
	eng  Engine
	name string // benchmark name
	st   Stat
}

// rows returns one row per engine that ran the benchmark name(engine): the known engines in
// display order, then engines the report does not know (found by match), by id.
func (in *Input) rows(name func(id string) string, match func(bench string) (id string, ok bool)) []row {
	seen := map[string]bool{}
	var out []row
	for _, e := range Engines {
		n := name(e.ID)
		if st, ok := in.Set.Stat(n, "ns/op"); ok {
			out = append(out, row{e, n, st})
			seen[e.ID] = true
		}
	}
	var extra []string
	for n := range in.Set.Runs {
		if id, ok := match(n); ok && !seen[id] {
			extra = append(extra, id)
			seen[id] = true
		}
	}
	sort.Strings(extra)
	for _, id := range extra {
		n := name(id)
		st, _ := in.Set.Stat(n, "ns/op")
		out = append(out, row{engine(id), n, st})
	}
	return out
}

func scenarioRows(in *Input, group, scenario string) []row {
	return in.rows(func(id string) string { return group + "/" + id + "/" + scenario },
		func(b string) (string, bool) {
			rest, ok := strings.CutPrefix(b, group+"/")
			if !ok {
				return "", false
			}
			id, sc, ok := strings.Cut(rest, "/")
			return id, ok && sc == scenario
		})
}

func loadRows(in *Input, flags int) []row {
	prefix := fmt.Sprintf("Load/%d/", flags)
	return in.rows(func(id string) string { return prefix + id },
		func(b string) (string, bool) {
			id, ok := strings.CutPrefix(b, prefix)
			return id, ok && !strings.Contains(id, "/")
		})
}

func find(rows []row, id string) (row, bool) {
	for _, r := range rows {
		if r.eng.ID == id {
			return r, true
		}
	}
	return row{}, false
}

func fastestPeer(rows []row) (row, bool) {
	var best row
	ok := false
	for _, r := range rows {
		if r.eng.Peer && (!ok || r.st.Median < best.st.Median) {
			best, ok = r, true
		}
	}
	return best, ok
}

func ratio(a, b float64) string {
	if b <= 0 || math.IsNaN(a/b) {
		return "–"
	}
	r := a / b
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	default:
		return fmt.Sprintf("%.2f×", r)
	}
}

func rangeText(st Stat) string {
	return FormatNs(st.Min) + " – " + FormatNs(st.Max)
}

func (in *Input) value(name, unit string) string {
	st, ok := in.Set.Stat(name, unit)
	if !ok {
		return "–"
	}
	if unit == "allocs/op" || unit == "B/op" {
		return fmt.Sprintf("%.0f", st.Median)
	}
	if unit == "ns/op" {
		return FormatNs(st.Median)
	}
	return fmt.Sprintf("%.4g", st.Median)
}

// Render writes the report.
func Render(in *Input) (*Output, error) {
	if len(in.Set.Runs) == 0 {
		return nil, fmt.Errorf("report: no benchmark results in the input")
	}
	out := &Output{Charts: map[string][]byte{}}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	chart := func(name, title, unit string, rows []row) {
		bars := make([]Bar, 0, len(rows))
		for _, r := range rows {
			bars = append(bars, Bar{Label: r.eng.Label, Median: r.st.Median, Min: r.st.Min, Max: r.st.Max, Peer: r.eng.Peer})
		}
		file := path.Join(in.ChartDir, name+".svg")
		out.Charts[file] = Chart(title, unit, bars)
		w("![%s](%s)\n\n", title, file)
	}

	w("# Vexil benchmark results\n\n")
	w("Written by `bench/cmd/benchreport` from one run of `make bench`: every number below was measured in that run (medians of %s; ranges are min – max over the runs). Regenerate it rather than editing it.\n\n", in.Settings)
	w("Reproduce: `%s`\n\n", in.Command)

	w("## Machine and versions\n\n| | |\n|---|---|\n")
	for _, kv := range append(append([][2]string{}, in.Machine...), in.Versions...) {
		w("| %s | %s |\n", kv[0], kv[1])
	}
	w("\n")

	evals := scenarios.Of(scenarios.KindEvaluate)
	// Headline: the ratios the issue asks for.
	w("## Headline ratios\n\n")
	w("| scenario | native | TinyGo·wazero | TinyGo ÷ native | Go·wazero | Go ÷ native | fastest peer | TinyGo ÷ fastest peer |\n|---|---:|---:|---:|---:|---:|---|---:|\n")
	for _, sc := range evals {
		rows := scenarioRows(in, "Evaluate", sc.Name)
		headline(w, sc.Title, rows)
	}
	for _, sc := range scenarios.Of(scenarios.KindEvaluateAll) {
		headline(w, sc.Title+" (per flag)", perFlag(in, scenarioRows(in, "EvaluateAll", sc.Name), sc.Want.Flags))
	}
	for _, sc := range scenarios.Of(scenarios.KindLoad) {
		headline(w, sc.Title, loadRows(in, sc.Want.Flags))
	}
	w("\nRatios divide medians measured in the same run. Peers run only the scenarios they can express (see bench/README.md).\n\n")
	jsHeadline(w, in)

	w("## One flag, one context\n\nThe context is set once per request; each timed call evaluates one flag. Every engine returned the scenario's expected answer before it was timed.\n\n")
	for _, sc := range evals {
		rows := scenarioRows(in, "Evaluate", sc.Name)
		w("### %s (`%s`)\n\n", sc.Title, sc.Name)
		if len(rows) == 0 {
			w("No engine ran this scenario in this run.\n\n")
			continue
		}
		chart("evaluate-"+sc.Name, sc.Title, "ns per evaluation", rows)
		detail(w, in, rows, "")
	}

	w("## Evaluate all flags\n\n")
	for _, sc := range scenarios.Of(scenarios.KindEvaluateAll) {
		rows := perFlag(in, scenarioRows(in, "EvaluateAll", sc.Name), sc.Want.Flags)
		w("### %s (`%s`)\n\n", sc.Title, sc.Name)
		if len(rows) == 0 {
			w("No engine ran this scenario in this run.\n\n")
			continue
		}
		w("Time per flag evaluated; ns/op is the whole call.\n\n")
		chart("evaluate-all-"+sc.Name, sc.Title, "ns per flag", rows)
		detail(w, in, rows, "ns/op")
		translated(w, in, rows, sc.Want.Flags)
	}

	w("## Snapshot load\n\nParse and compile a generated snapshot into a fresh engine (instantiating a module is not timed here; see Lifecycle).\n\n")
	for _, sc := range scenarios.Of(scenarios.KindLoad) {
		rows := loadRows(in, sc.Want.Flags)
		w("### %s (`%s`)\n\n", sc.Title, sc.Name)
		if len(rows) == 0 {
			w("No engine ran this scenario in this run.\n\n")
			continue
		}
		chart(sc.Name, sc.Title, "time per load", rows)
		detail(w, in, rows, "")
		translated(w, in, rows, sc.Want.Flags)
	}

	lifecycle(w, in)
	daemon(w, in)

	if len(in.Pending) > 0 {
		w("## Not measured yet\n\n")
		for _, p := range in.Pending {
			w("### %s\n\n%s\n\n", p[0], p[1])
		}
	}
	out.Markdown = []byte(b.String())
	return out, nil
}

func headline(w func(string, ...any), title string, rows []row) {
	nat, okN := find(rows, "native")
	if !okN {
		return
	}
	cell := func(id string) (string, string) {
		r, ok := find(rows, id)
		if !ok {
			return "–", "–"
		}
		return FormatNs(r.st.Median), ratio(r.st.Median, nat.st.Median)
	}
	tg, tgR := cell("tinygo")
	g, gR := cell("go")
	peer, pR := "–", "–"
	if p, ok := fastestPeer(rows); ok {
		peer = fmt.Sprintf("%s, %s", p.eng.Label, FormatNs(p.st.Median))
		if t, ok := find(rows, "tinygo"); ok {
			pR = ratio(t.st.Median, p.st.Median)
		}
	}
	w("| %s | %s | %s | %s | %s | %s | %s | %s |\n", title, FormatNs(nat.st.Median), tg, tgR, g, gR, peer, pR)
}

// jsHeadline compares the TinyGo module in Node and Chromium (a separate process, so the ratio
// crosses runs) with the native core, when the run has them.
func jsHeadline(w func(string, ...any), in *Input) {
	type line struct {
		title string
		rows  []row
	}
	var lines []line
	found := false
	for _, sc := range scenarios.Of(scenarios.KindEvaluate) {
		lines = append(lines, line{sc.Title, scenarioRows(in, "Evaluate", sc.Name)})
	}
	for _, sc := range scenarios.Of(scenarios.KindEvaluateAll) {
		lines = append(lines, line{sc.Title + " (whole call)", scenarioRows(in, "EvaluateAll", sc.Name)})
	}
	for _, l := range lines {
		_, n := find(l.rows, "node")
		_, c := find(l.rows, "chromium")
		found = found || n || c
	}
	if !found {
		return
	}
	w("| scenario | native | TinyGo·Node | Node ÷ native | TinyGo·Chromium | Chromium ÷ native |\n|---|---:|---:|---:|---:|---:|\n")
	for _, l := range lines {
		nat, ok := find(l.rows, "native")
		if !ok {
			continue
		}
		cells := []string{}
		for _, id := range []string{"node", "chromium"} {
			if r, ok := find(l.rows, id); ok {
				cells = append(cells, FormatNs(r.st.Median), ratio(r.st.Median, nat.st.Median))
			} else {
				cells = append(cells, "–", "–")
			}
		}
		w("| %s | %s | %s |\n", l.title, FormatNs(nat.st.Median), strings.Join(cells, " | "))
	}
	w("\nNode and Chromium run in their own process right after the Go benchmarks (bench/js/matrix.mjs), so these ratios cross two processes of the same `make bench`.\n\n")
}

func detail(w func(string, ...any), in *Input, rows []row, extraUnit string) {
	nat, okN := find(rows, "native")
	peer, okP := fastestPeer(rows)
	extraHead := ""
	if extraUnit != "" {
		extraHead = " " + extraUnit + " |"
	}
	w("| engine | time (median) | range | runs |%s B/op | allocs/op | ÷ native | ÷ fastest peer |\n", extraHead)
	w("|---|---:|---:|---:|%s---:|---:|---:|---:|\n", strings.Repeat("---:|", len(strings.Fields(extraHead))/2))
	for _, r := range rows {
		rn, rp := "–", "–"
		if okN {
			rn = ratio(r.st.Median, nat.st.Median)
		}
		if okP {
			rp = ratio(r.st.Median, peer.st.Median)
		}
		extra := ""
		if extraUnit != "" {
			extra = " " + in.value(r.name, extraUnit) + " |"
		}
		w("| %s | %s | %s | %d |%s %s | %s | %s | %s |\n", r.eng.Label, FormatNs(r.st.Median), rangeText(r.st), r.st.N, extra,
			in.value(r.name, "B/op"), in.value(r.name, "allocs/op"), rn, rp)
	}
	w("\n")
}

func lifecycle(w func(string, ...any), in *Input) {
	w("## Lifecycle\n\n")
	if len(in.Sizes) > 0 {
		w("| module | raw | gzip -9 |\n|---|---:|---:|\n")
		for _, s := range in.Sizes {
			w("| %s | %s | %s |\n", s.Name, kb(s.Raw), kb(s.Gzip))
		}
		w("\n")
	}
	type item struct{ title, name, unit string }
	var items []item
	for _, m := range []string{"tinygo", "go"} {
		label := engine(m).Label
		items = append(items,
			item{label + ": compile, cold", "Compile/" + m + "/cold", "ns/op"},
			item{label + ": compile, from the file cache", "Compile/" + m + "/cached", "ns/op"},
			item{label + ": instantiate (+ _initialize, ABI check) and close", "Instantiate/" + m, "ns/op"},
			item{label + ": instantiate, load 1,000 flags, close", "InstanceMemory/" + m, "ns/op"},
			item{label + ": linear memory per instance (1,000 flags loaded)", "InstanceMemory/" + m, "guest-B/instance"},
			item{label + ": Go heap per instance (1,000 flags loaded)", "InstanceMemory/" + m, "host-B/instance"},
			item{label + ": empty guest call", "Boundary/" + m, "ns/op"},
			item{label + ": set a 10-attribute context", "SetContext/" + m, "ns/op"},
		)
	}
	w("| what | median | range | runs |\n|---|---:|---:|---:|\n")
	n := 0
	for _, it := range items {
		st, ok := in.Set.Stat(it.name, it.unit)
		if !ok {
			continue
		}
		n++
		if it.unit == "ns/op" {
			w("| %s | %s | %s | %d |\n", it.title, FormatNs(st.Median), rangeText(st), st.N)
		} else {
			w("| %s | %s | %s – %s | %d |\n", it.title, bytesText(st.Median), bytesText(st.Min), bytesText(st.Max), st.N)
		}
	}
	if n == 0 {
		w("| (no lifecycle benchmark in this run) | | | |\n")
	}
	w("\n")
	jsLifecycle(w, in)
}

// daemon reports sync/sdkapi's BenchmarkPropagation/subscribers=<N>: one op is an admin API
// write and its delivery to all N SSE subscribers; p50/p99/max are over every (write,
// subscriber) pair, in milliseconds.
func daemon(w func(string, ...any), in *Input) {
	names := byCount(in, "Propagation/subscribers=")
	if len(names) == 0 {
		return
	}
	w("## The daemon under load\n\nFrom an admin API write (HTTP, through Redis and the change-log follower) to its receipt by each of N SSE subscribers over real HTTP connections on this machine (`sync/sdkapi` BenchmarkPropagation). Latencies are over every (write, subscriber) pair of a run; medians of the runs, ranges min – max.\n\n")
	w("| subscribers | p50 | p99 | max | write → all N received | daemon memory per connection | daemon CPU per delivered patch | runs |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	ms := func(name, unit string) string {
		st, ok := in.Set.Stat(name, unit)
		if !ok {
			return "–"
		}
		return fmt.Sprintf("%s (%s – %s)", FormatNs(st.Median*1e6), FormatNs(st.Min*1e6), FormatNs(st.Max*1e6))
	}
	// Memory and CPU are measured where the subscribers run in a child process, so that the
	// benchmark's own process is the daemon alone.
	perConn := func(name string) (string, string) {
		mem, ok := in.Set.Stat(name, "daemon-mem-B/conn")
		cpu, ok2 := in.Set.Stat(name, "daemon-cpu-µs/patch")
		if !ok || !ok2 {
			return "– (subscribers in process)", "–"
		}
		return fmt.Sprintf("%s (%s – %s)", bytesText(mem.Median), bytesText(mem.Min), bytesText(mem.Max)),
			fmt.Sprintf("%s (%s – %s)", FormatNs(cpu.Median*1e3), FormatNs(cpu.Min*1e3), FormatNs(cpu.Max*1e3))
	}
	for _, name := range names {
		st, _ := in.Set.Stat(name, "ns/op")
		mem, cpu := perConn(name)
		w("| %s | %s | %s | %s | %s | %s | %s | %d |\n", strings.TrimPrefix(name, "Propagation/subscribers="),
			ms(name, "p50-ms"), ms(name, "p99-ms"), ms(name, "max-ms"), FormatNs(st.Median), mem, cpu, st.N)
	}
	w("\nMemory per connection is the daemon process's heap and goroutine stacks (after a collection) with the N streams open, less before, over N; CPU per delivered patch is its user and system time over the timed writes, over writes × N. Both are measured where the subscribers run in a child process, so that the measured process is the daemon (and the admin client writing).\n\n")
	snapshotBuild(w, in)
}

// byCount returns the run names that are prefix followed by a number, in numeric order.
func byCount(in *Input, prefix string) []string {
	var names []string
	for name := range in.Set.Runs {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	n := func(name string) int { v, _ := strconv.Atoi(strings.TrimPrefix(name, prefix)); return v }
	sort.Slice(names, func(i, j int) bool { return n(names[i]) < n(names[j]) })
	return names
}

// snapshotBuild reports sync/follow's BenchmarkSnapshotBuild/flags=<N>: what the daemon does
// once per version of an environment — assemble the snapshot from its documents, gzip it, and
// the same for the browser-safe view.
func snapshotBuild(w func(string, ...any), in *Input) {
	names := byCount(in, "SnapshotBuild/flags=")
	if len(names) == 0 {
		return
	}
	w("### Snapshot build\n\nPer version of an environment, the daemon assembles the snapshot from its stored documents and gzips it, and does the same for the browser-safe view (filter client-side flags, hash the keys) — `sync/follow` BenchmarkSnapshotBuild on `internal/gen` snapshots.\n\n")
	w("| flags | snapshot | build (both views, JSON + gzip) | range | runs |\n|---:|---:|---:|---:|---:|\n")
	for _, name := range names {
		st, _ := in.Set.Stat(name, "ns/op")
		size, _ := in.Set.Stat(name, "snapshot-B")
		w("| %s | %s | %s | %s – %s | %d |\n", strings.TrimPrefix(name, "SnapshotBuild/flags="),
			bytesText(size.Median), FormatNs(st.Median), FormatNs(st.Min), FormatNs(st.Max), st.N)
	}
	w("\n")
}

func kb(n int64) string { return fmt.Sprintf("%s (%d B)", bytesText(float64(n)), n) }

func bytesText(n float64) string {
	switch {
	case math.Abs(n) >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case math.Abs(n) >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", n)
	}
}
