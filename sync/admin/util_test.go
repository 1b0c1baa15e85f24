package admin_test

import (
	"encoding/json"

	"github.com/vexil-flags/vexil/sync/flagdoc"
	"github.com/vexil-flags/vexil/sync/store"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func wv(v, w int) flagdoc.WeightedVariation {
	return flagdoc.WeightedVariation{Variation: v, Weight: w}
}

// allChanges pages through the whole change log (oldest first) and keeps entries after base.
func allChanges(h *harness, base uint64) ([]store.Entry, error) {
	var out []store.Entry
	after := ""
	for {
		page, err := h.store.Changes(h.ctx, "test", store.Query{After: after, Limit: 1000})
		if err != nil || len(page) == 0 {
			return out, err
		}
		for _, e := range page {
			if e.Version > base {
				out = append(out, e)
			}
		}
		after = page[len(page)-1].ID
	}
}
