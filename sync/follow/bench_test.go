package follow

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/vexil-flags/vexil/internal/gen"
)

// BenchmarkSnapshotBuild measures what the daemon does once per version of an environment of
// N flags (internal/gen's mix): assemble the snapshot from its stored documents, gzip it, and
// the same for the browser-safe view (filter, hash the keys, assemble, gzip). One op is one
// version's build; the views share the document maps, as follow's views do.
func BenchmarkSnapshotBuild(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("flags=%d", n), func(b *testing.B) {
			base := viewOf(b, gen.Snapshot(n, 1))
			if len(base.Flags) != n {
				b.Fatalf("%d flags, want %d", len(base.Flags), n)
			}
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				v := &View{Env: base.Env, Version: base.Version, Salt: base.Salt, Flags: base.Flags, Segments: base.Segments}
				size = len(v.Gzip()) + len(v.ClientView().Gzip())
			}
			if size == 0 {
				b.Fatal("nothing built")
			}
			b.ReportMetric(float64(len(base.JSON())), "snapshot-B")
		})
	}
}

// viewOf makes a view holding a snapshot's documents, as the follower keeps them.
func viewOf(tb testing.TB, snapshot []byte) *View {
	var doc struct {
		Environment string            `json:"environment"`
		Version     uint64            `json:"version"`
		Flags       []json.RawMessage `json:"flags"`
		Segments    []json.RawMessage `json:"segments"`
	}
	if err := json.Unmarshal(snapshot, &doc); err != nil {
		tb.Fatal(err)
	}
	v := &View{Env: doc.Environment, Version: doc.Version, Salt: "bench-salt", Flags: map[string][]byte{}, Segments: map[string][]byte{}}
	for _, list := range []struct {
		docs []json.RawMessage
		into map[string][]byte
	}{{doc.Flags, v.Flags}, {doc.Segments, v.Segments}} {
		for _, d := range list.docs {
			var k struct{ Key string }
			if err := json.Unmarshal(d, &k); err != nil || k.Key == "" {
				tb.Fatalf("document without a key: %.80s", d)
			}
			list.into[k.Key] = d
		}
	}
	return v
}
