package report

import (
	"strings"
	"testing"
)

// TestPeerRows checks that the peers' evaluate-all and load rows land in their tables with
// ratios over time per flag, and the note of how many flags each peer translated.
func TestPeerRows(t *testing.T) {
	s := NewSet()
	const runs = `BenchmarkEvaluateAll/native/1000-flags-2 2000 200000 ns/op 200.0 ns/flag 0 B/op 0 allocs/op
BenchmarkEvaluateAll/tinygo/1000-flags-2 2000 400000 ns/op 400.0 ns/flag 0 B/op 0 allocs/op
BenchmarkEvaluateAll/launchdarkly/1000-flags-2 3 480000 ns/op 960.0 flags 500.0 ns/flag 0 B/op 0 allocs/op
BenchmarkEvaluateAll/flagd/1000-flags-2 3 30000000 ns/op 900.0 flags 33333 ns/flag 7896557 B/op 137047 allocs/op
BenchmarkLoad/1000/native-2 3 1000000 ns/op
BenchmarkLoad/1000/launchdarkly-2 3 9000000 ns/op 49.60 MB/s 961.0 flags
`
	if err := s.Parse("peers", strings.NewReader(runs)); err != nil {
		t.Fatal(err)
	}
	out, err := Render(&Input{Set: s, Command: "make bench", Settings: "1 run", ChartDir: "charts"})
	if err != nil {
		t.Fatal(err)
	}
	md := string(out.Markdown)
	for _, want := range []string{
		// Per flag: TinyGo 400 ns ÷ the fastest peer (LaunchDarkly, 500 ns per flag of 960).
		"| evaluate all of 1,000 generated flags (per flag) | 200 ns | 400 ns | 2.00× | – | – | LaunchDarkly evaluation, 500 ns | 0.80× |",
		"| flagd core | 33.3 µs | 33.3 µs – 33.3 µs | 1 | 30 ms | 7896557 | 137047 | 167× | 66.7× |",
		"of 1,000 (the rest use a construct the peer cannot express; bench/README.md, \"The peers\"): LaunchDarkly evaluation 960, flagd core 900.",
		"| LaunchDarkly evaluation | 9 ms | 9 ms – 9 ms | 1 | – | – | 9.00× | 1.00× |",
		"LaunchDarkly evaluation 961.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}
