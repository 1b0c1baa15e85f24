package report

import (
	"fmt"
	"strings"
)

// jsLifeColumns are the lifecycle table's columns: runtime and module segments of the names
// bench/js/lifecycle.mjs prints (Compile/<runtime>/<module>/…, Instantiate/<runtime>/<module>,
// InstanceMemory/<runtime>/<module>).
var jsLifeColumns = []struct{ runtime, module, title string }{
	{"node", "tinygo", "TinyGo · Node"},
	{"node", "go", "Go · Node"},
	{"chromium", "tinygo", "TinyGo · Chromium"},
	{"chromium", "go", "Go · Chromium"},
}

// jsLifeRows are the lifecycle table's rows: what, the benchmark name with %s for
// "<runtime>/<module>", and the unit.
var jsLifeRows = []struct{ title, name, unit string }{
	{"compile, cold (first in a fresh process or browser context)", "Compile/%s/cold", "ns/op"},
	{"compile, warm (the same bytes again, first module alive)", "Compile/%s/warm", "ns/op"},
	{"compile, warm, other bytes of the same code", "Compile/%s/warm-new-bytes", "ns/op"},
	{"compileStreaming + fetch, first visit (fresh browser, empty profile)", "Compile/%s/streaming-cold", "ns/op"},
	{"compileStreaming + fetch, from the code cache (browser restarted on that profile)", "Compile/%s/code-cache", "ns/op"},
	{"instantiate (+ _initialize, ABI check)", "Instantiate/%s", "ns/op"},
	{"instantiate + load 1,000 flags", "InstanceMemory/%s", "ns/op"},
	{"linear memory per instance (1,000 flags loaded)", "InstanceMemory/%s", "linear-B/op"},
	{"JS heap per instance (linear memory not included)", "InstanceMemory/%s", "heap-B/op"},
	{"Node external memory per instance (linear memory included)", "InstanceMemory/%s", "external-B/op"},
	{"Node RSS per instance", "InstanceMemory/%s", "rss-B/op"},
}

// jsLifecycle writes the lifecycle of both modules in Node and Chromium (bench/js/lifecycle.mjs)
// when the run has it: one row per measurement, one column per runtime and module, each cell
// the median and the range of the runs.
func jsLifecycle(w func(string, ...any), in *Input) {
	cells := make([][]string, len(jsLifeRows))
	found := false
	for i, r := range jsLifeRows {
		has := false
		for _, c := range jsLifeColumns {
			st, ok := in.Set.Stat(fmt.Sprintf(r.name, c.runtime+"/"+c.module), r.unit)
			if !ok {
				cells[i] = append(cells[i], "–")
				continue
			}
			has = true
			if r.unit == "ns/op" {
				cells[i] = append(cells[i], fmt.Sprintf("%s (%s)", FormatNs(st.Median), rangeText(st)))
			} else {
				cells[i] = append(cells[i], fmt.Sprintf("%s (%s – %s)", bytesText(st.Median), bytesText(st.Min), bytesText(st.Max)))
			}
		}
		if !has {
			cells[i] = nil
		}
		found = found || has
	}
	if !found {
		return
	}
	w("### In Node and Chromium\n\n")
	w("`bench/js/lifecycle.mjs`, through the JS host's engine; the standard-Go module gets WASI from a minimal shim (`bench/js/wasi.mjs`), the same in both runtimes. Each module loaded the 1,000-flag snapshot and answered the `rule-match` scenario correctly in each runtime before anything was timed. Median (min – max) over the runs.\n\n")
	w("| what |")
	for _, c := range jsLifeColumns {
		w(" %s |", c.title)
	}
	w("\n|---|%s\n", strings.Repeat("---:|", len(jsLifeColumns)))
	for i, r := range jsLifeRows {
		if cells[i] == nil {
			continue
		}
		w("| %s | %s |\n", r.title, strings.Join(cells[i], " | "))
	}
	w("\nCold: Node runs each sample in a new `node` process; Chromium in a new browser context (its own renderer process, empty HTTP and code caches). Both V8s compile lazily (a function is compiled at its first call), so compile is decoding and validating, and instantiating, `_initialize` and the first load include compiling what they run. Warm, other bytes: the module with a custom section added, so nothing keyed by its bytes can be reused; when it takes as long as warm, the second compile of the same bytes was not answered from memory. Code cache: Chromium keeps a streamed module's optimized code beside its HTTP cache entry once V8 has optimized enough of it; the first visit runs the engine until V8 wrote it (`--js-flags=--wasm-caching-timeout-ms=0` on both launches, as the default 2 s timeout never fired headless), the second visit counts only when its trace shows `v8.wasm.moduleCacheHit` and no `moduleCacheInvalid`. Both streaming rows include fetching the module (from a local server, then from the HTTP cache) in a browser just started. Memory: over the instances created in one run (default 20); the JS heap is measured after a full collection (Node: `heapUsed`; Chromium: CDP `Runtime.getHeapUsage` `usedSize`).\n\n")
}
