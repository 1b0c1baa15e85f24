package admin_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// BenchmarkToggle measures one change end to end: HTTP request, consistent read of the
// environment, validation of the whole candidate environment by the engine, the atomic Lua
// write with its change-log entry, and the response. Environments of 1 and 500 flags show the
// cost of validating everything on every write.
func BenchmarkToggle(b *testing.B) {
	for _, n := range []int{1, 500} {
		b.Run(fmt.Sprintf("flags=%d", n), func(b *testing.B) {
			h := start(b)
			importFlags(b, h, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := h.c.FlagVerb(h.ctx, "test", "f000", "toggle", nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetFlag measures a read: HTTP, the consistent read of the flag (not of the whole
// environment, so it costs the same with 1 and 500 flags), the response.
func BenchmarkGetFlag(b *testing.B) {
	for _, n := range []int{1, 500} {
		b.Run(fmt.Sprintf("flags=%d", n), func(b *testing.B) {
			h := start(b)
			importFlags(b, h, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := h.c.Flag(h.ctx, "test", "f000"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func importFlags(b *testing.B, h *harness, n int) {
	var snap struct {
		Flags []*flagdoc.Flag `json:"flags"`
	}
	for i := 0; i < n; i++ {
		snap.Flags = append(snap.Flags, boolFlag(fmt.Sprintf("f%03d", i), "t"))
	}
	data, _ := json.Marshal(snap)
	if _, err := h.c.Import(h.ctx, "test", data); err != nil {
		b.Fatal(err)
	}
}
