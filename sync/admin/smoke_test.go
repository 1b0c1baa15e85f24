package admin_test

import (
	"encoding/json"
	"github.com/vexil-flags/vexil/sync/client"
	"testing"

	"github.com/vexil-flags/vexil/sync/flagdoc"
)

func boolFlag(key string, tags ...string) *flagdoc.Flag {
	zero := 0
	return &flagdoc.Flag{Key: key, Tags: tags, Enabled: true, Variations: []json.RawMessage{json.RawMessage("false"), json.RawMessage("true")},
		OffVariation: &zero, Fallthrough: &flagdoc.Serve{Variation: &zero}}
}

func TestSmoke(t *testing.T) {
	h := start(t)
	fs, err := h.c.CreateFlag(h.ctx, "test", boolFlag("a", "web"))
	if err != nil || fs.Version != 1 || !fs.Changed {
		t.Fatalf("create: %+v %v", fs, err)
	}
	if _, err := h.c.CreateFlag(h.ctx, "test", boolFlag("a")); status(err) != 409 {
		t.Fatalf("duplicate: %v", err)
	}
	p := 25.0
	fs, err = h.c.FlagVerb(h.ctx, "test", "a", "rollout", &client.VerbBody{Percent: &p})
	if err != nil || fs.Flag.Fallthrough.Rollout == nil || fs.Flag.Fallthrough.Rollout.Variations[0].Weight != 25000 {
		t.Fatalf("rollout: %+v %v", fs, err)
	}
	es, err := h.c.Audit(h.ctx, "test", client.AuditQuery{})
	if err != nil || len(es) != 2 || es[0].Version != 2 || es[0].Actor != "ci/tester" {
		t.Fatalf("audit: %+v %v", es, err)
	}
}
