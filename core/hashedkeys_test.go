package core_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/vexil-flags/vexil/core"
)

// The browser-safe example (hashed keys, client-side flags and what they need) decides every
// one of its flags exactly as the server example does, for targeted, segment-listed and
// ordinary users alike, and holds none of the server example's raw keys.
func TestBrowserSafeExampleAgrees(t *testing.T) {
	read := func(name string) ([]byte, *core.Evaluator) {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := core.Load(data)
		if err != nil || len(ev.Snapshot().Problems) != 0 {
			t.Fatalf("%s: %v %v", name, err, ev.Snapshot().Problems)
		}
		return data, ev
	}
	serverJSON, server := read("example.json")
	browserJSON, browser := read("example-browser.json")
	if !browser.Snapshot().HashedKeys || server.Snapshot().HashedKeys {
		t.Fatal("hashedKeys not as declared")
	}

	// Every key the server example lists: targets and segment members.
	var doc struct {
		Flags []struct {
			Targets []struct{ Values []string }
		}
		Segments []struct{ Included, Excluded []string }
	}
	if err := json.Unmarshal(serverJSON, &doc); err != nil {
		t.Fatal(err)
	}
	keys := []string{"someone-else", "user-1000", ""}
	for _, f := range doc.Flags {
		for _, tg := range f.Targets {
			keys = append(keys, tg.Values...)
		}
	}
	for _, s := range doc.Segments {
		keys = append(keys, s.Included...)
		keys = append(keys, s.Excluded...)
	}
	for _, k := range keys {
		if k != "" && strings.Contains(string(browserJSON), `"`+k+`"`) {
			t.Errorf("browser example leaks the raw key %q", k)
		}
	}

	sctx, bctx := server.NewContext(), browser.NewContext()
	compared := 0
	for _, key := range keys {
		for _, attrs := range []string{
			`"plan":"pro","email":"ana@example.com","country":"DE"`,
			`"plan":"free","email":"qa+one@example.com","country":"US","appVersion":"5.1.0","beta":true`,
		} {
			ctx := `{"targetingKey":"` + key + `",` + attrs + `}`
			if err := sctx.SetJSON([]byte(ctx)); err != nil {
				t.Fatal(err)
			}
			if err := bctx.SetJSON([]byte(ctx)); err != nil {
				t.Fatal(err)
			}
			sctx.Now, bctx.Now = 1795435200000, 1795435200000
			for i, f := range browser.Snapshot().Flags {
				got := browser.Evaluate(i, bctx)
				want := server.EvaluateKey(f.Key, sctx)
				if got.Variation != want.Variation || got.Reason() != want.Reason() || browser.RuleID(got) != server.RuleID(want) {
					t.Errorf("flag %q, context %s: browser %+v, server %+v", f.Key, ctx, got, want)
				}
				compared++
			}
		}
	}
	t.Logf("%d evaluations compared over %d keys", compared, len(keys))
}

// Hashing the targeting key reuses the context's buffers: setting a key and evaluating
// targeted flags does not allocate once the context has been used.
func TestHashedKeysDoNotAllocate(t *testing.T) {
	data, err := os.ReadFile("testdata/example-browser.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := core.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx, flag := ev.NewContext(), ev.FlagIndex("new-checkout")
	keys := []string{"user-42", "user-17", "user-99", "someone-with-a-much-longer-key@example.com"}
	run := func() {
		for _, k := range keys {
			ctx.SetTargetingKey(k)
			sink = ev.Evaluate(flag, ctx)
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
	ctx.SetTargetingKey("user-42")
	if r := ev.Evaluate(flag, ctx); r.Reason() != core.ReasonTargetingMatch || r.Variation != 1 {
		t.Fatalf("user-42 is pinned to variation 1: %+v", r)
	}
}
