package report

import (
	"strings"
	"testing"
)

// jsLifeSample is what bench/js/lifecycle.mjs prints (two runs of some benchmarks), next to one
// wazero lifecycle line.
const jsLifeSample = `node: v20.20.2
BenchmarkCompile/node/tinygo/cold-1 1 2000000 ns/op
BenchmarkCompile/node/tinygo/cold-1 1 4000000 ns/op
BenchmarkCompile/node/tinygo/warm-1 1 1500000 ns/op
BenchmarkCompile/node/tinygo/warm-new-bytes-1 1 1400000 ns/op
BenchmarkCompile/node/go/cold-1 1 20000000 ns/op
BenchmarkInstantiate/node/go-1 20 12000000 ns/op
BenchmarkInstanceMemory/node/tinygo-1 20 20000000 ns/op 6291456 linear-B/op 114688 heap-B/op 6316460 external-B/op 5000000 rss-B/op
chromium: 156.0.8078.79
BenchmarkCompile/chromium/go/streaming-cold-1 1 100000000 ns/op
BenchmarkCompile/chromium/go/code-cache-1 1 90000000 ns/op
BenchmarkInstanceMemory/chromium/go-1 20 22000000 ns/op 7602176 linear-B/op 245760 heap-B/op
BenchmarkInstantiate/tinygo-2 100 300000 ns/op
`

func TestRenderJSLifecycle(t *testing.T) {
	s := NewSet()
	if err := s.Parse("jslife", strings.NewReader(jsLifeSample)); err != nil {
		t.Fatal(err)
	}
	out, err := Render(&Input{Set: s, Command: "make bench", Settings: "2 runs", ChartDir: "charts"})
	if err != nil {
		t.Fatal(err)
	}
	md := string(out.Markdown)
	for _, want := range []string{
		"| what | TinyGo · Node | Go · Node | TinyGo · Chromium | Go · Chromium |",
		// The median of 2 ms and 4 ms, and the range.
		"| compile, cold (first in a fresh process or browser context) | 3 ms (2 ms – 4 ms) | 20 ms (20 ms – 20 ms) | – | – |",
		"| compile, warm (the same bytes again, first module alive) | 1.5 ms (1.5 ms – 1.5 ms) | – | – | – |",
		"| compile, warm, other bytes of the same code | 1.4 ms (1.4 ms – 1.4 ms) | – | – | – |",
		"| compileStreaming + fetch, first visit (fresh browser, empty profile) | – | – | – | 100 ms (100 ms – 100 ms) |",
		"| compileStreaming + fetch, from the code cache (browser restarted on that profile) | – | – | – | 90 ms (90 ms – 90 ms) |",
		"| instantiate (+ _initialize, ABI check) | – | 12 ms (12 ms – 12 ms) | – | – |",
		"| instantiate + load 1,000 flags | 20 ms (20 ms – 20 ms) | – | – | 22 ms (22 ms – 22 ms) |",
		"| linear memory per instance (1,000 flags loaded) | 6.0 MiB (6.0 MiB – 6.0 MiB) | – | – | 7.2 MiB (7.2 MiB – 7.2 MiB) |",
		"| JS heap per instance (linear memory not included) | 112.0 KiB (112.0 KiB – 112.0 KiB) | – | – | 240.0 KiB (240.0 KiB – 240.0 KiB) |",
		"| Node RSS per instance | 4.8 MiB (4.8 MiB – 4.8 MiB) | – | – | – |",
		// The wazero table is still there, before the JS one.
		"| Vexil TinyGo module · wazero: instantiate (+ _initialize, ABI check) and close | 300 µs |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Index(md, "### In Node and Chromium") < strings.Index(md, "## Lifecycle") {
		t.Error("the JS lifecycle table is not in the Lifecycle section")
	}
	// A run without lifecycle.mjs output has no JS lifecycle table.
	plain := NewSet()
	if err := plain.Parse("plain", strings.NewReader("BenchmarkInstantiate/tinygo-2 100 300000 ns/op\n")); err != nil {
		t.Fatal(err)
	}
	out, err = Render(&Input{Set: plain, Command: "make bench", Settings: "1 run", ChartDir: "charts"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out.Markdown), "### In Node and Chromium") {
		t.Error("a run without JS lifecycle results has a JS lifecycle table")
	}
}
