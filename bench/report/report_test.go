package report

import (
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/vexil-flags/vexil/hosts/go/internal/wasmengine
cpu: AMD EPYC
BenchmarkEvaluate/native/static-2         	    2000	         5.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkEvaluate/native/static-2         	    2000	         7.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkEvaluate/native/static-2         	    2000	         6.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkEvaluate/tinygo/static-2         	    2000	        60.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkEvaluate/launchdarkly/static-2   	    2000	       120 ns/op	       0 B/op	       0 allocs/op
BenchmarkEvaluate/growthbook/static-2     	    2000	       240 ns/op	     256 B/op	       3 allocs/op
BenchmarkEvaluate/zz-engine/static-2      	    2000	        30 ns/op
BenchmarkEvaluate/node/static-1 1000000 12.00 ns/op
BenchmarkEvaluate/node/prerequisite-chain-3-1 1000000 40 ns/op
BenchmarkEvaluateAll/native/1000-flags-2  	    2000	    215982 ns/op	       216.0 ns/flag	       0 B/op	       0 allocs/op
BenchmarkInstanceMemory/tinygo-2          	       3	   5000000 ns/op	   4194304 guest-B/instance	   5000000 host-B/instance
BenchmarkPropagation/subscribers=1000-2  	       5	  41000000 ns/op	        12.5 p50-ms	        40.0 p99-ms	        45.0 max-ms
BenchmarkPropagation/subscribers=100-2   	       5	   9000000 ns/op	         3.0 p50-ms	         8.0 p99-ms	         9.0 max-ms
BenchmarkPropagation/subscribers=10000-2 	       5	 170000000 ns/op	        22.5 daemon-cpu-µs/patch	     18432 daemon-mem-B/conn	       170.0 max-ms	        90.0 p50-ms	       160.0 p99-ms
BenchmarkSnapshotBuild/flags=1000-2      	       3	  33000000 ns/op	    555920 snapshot-B
    bench_test.go:12: a log line that is not a result
PASS
ok  	github.com/vexil-flags/vexil/hosts/go/internal/wasmengine	12.3s
`

func TestParseAndStat(t *testing.T) {
	s := NewSet()
	if err := s.Parse("sample", strings.NewReader(sample)); err != nil {
		t.Fatal(err)
	}
	st, ok := s.Stat("Evaluate/native/static", "ns/op")
	if !ok || st.Median != 6 || st.Min != 5 || st.Max != 7 || st.N != 3 {
		t.Errorf("native static: %+v %v", st, ok)
	}
	if st, ok := s.Stat("EvaluateAll/native/1000-flags", "ns/flag"); !ok || st.Median != 216 {
		t.Errorf("ns/flag: %+v %v", st, ok)
	}
	if _, ok := s.Stat("Evaluate/native/static", "furlongs/op"); ok {
		t.Error("a unit no run reported has a stat")
	}
	if _, ok := s.Stat("Evaluate/node/prerequisite-chain-3", "ns/op"); !ok {
		t.Errorf("a name ending in a number lost it: %v", s.Runs)
	}
	if s.Config["cpu"] != "AMD EPYC" {
		t.Errorf("config %v", s.Config)
	}
	if err := NewSet().Parse("bad", strings.NewReader("BenchmarkX-2 10 abc ns/op\n")); err == nil || !strings.Contains(err.Error(), "bad:1") {
		t.Errorf("a malformed value: %v", err)
	}
}

func TestRender(t *testing.T) {
	s := NewSet()
	if err := s.Parse("sample", strings.NewReader(sample)); err != nil {
		t.Fatal(err)
	}
	out, err := Render(&Input{Set: s, Command: "make bench", Settings: "3 runs", ChartDir: "charts",
		Sizes:   []ModuleSize{{"vexil.wasm", 275919, 125000}},
		Pending: [][2]string{{"The daemon under load", "later"}}})
	if err != nil {
		t.Fatal(err)
	}
	md := string(out.Markdown)
	for _, want := range []string{
		// static: TinyGo 60 ns ÷ native median 6 ns, ÷ fastest peer (LaunchDarkly, 120 ns).
		"| static flag | 6 ns | 60 ns | 10.0× | – | – | LaunchDarkly evaluation, 120 ns | 0.50× |",
		"![static flag](charts/evaluate-static.svg)",
		"| GrowthBook Go SDK | 240 ns | 240 ns – 240 ns | 1 | 256 | 3 | 40.0× | 2.00× |",
		"| zz-engine | 30 ns |", // an engine the report does not know, shown by its id
		"| Vexil TinyGo module · wazero: linear memory per instance (1,000 flags loaded) | 4.0 MiB |",
		"| vexil.wasm | 269.5 KiB (275919 B) | 122.1 KiB (125000 B) |",
		"### The daemon under load\n\nlater",
		"| static flag | 6 ns | 12 ns | 2.00× | – | – |", // the JS table: Node ÷ native
		"Reproduce: `make bench`",
		"| 100 | 3 ms (3 ms – 3 ms) | 8 ms (8 ms – 8 ms) | 9 ms (9 ms – 9 ms) | 9 ms | – (subscribers in process) | – | 1 |\n| 1000 | 12.5 ms",
		"| 10000 | 90 ms (90 ms – 90 ms) | 160 ms (160 ms – 160 ms) | 170 ms (170 ms – 170 ms) | 170 ms | 18.0 KiB (18.0 KiB – 18.0 KiB) | 22.5 µs (22.5 µs – 22.5 µs) | 1 |",
		"| 1000 | 542.9 KiB | 33 ms | 33 ms – 33 ms | 1 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	svg := string(out.Charts["charts/evaluate-static.svg"])
	if strings.Count(svg, `class="bar"`) != 6 || !strings.Contains(svg, "log scale") {
		t.Errorf("static chart: want 6 bars on a log scale (5 ns to 240 ns):\n%s", svg)
	}
	if _, err := Render(&Input{Set: NewSet()}); err == nil {
		t.Error("an empty run renders")
	}
}
