package core_test

import (
	"strings"
	"testing"

	"github.com/vexil-flags/vexil/core"
)

const ctxSnap = `{"environment":"t","version":1,"flags":[
 {"key":"pro","enabled":true,"variations":[false,true],"fallthrough":{"variation":0},
  "rules":[{"id":"p","clauses":[{"attribute":"plan","op":"in","values":["pro"]}],"variation":1}]},
 {"key":"static","enabled":true,"variations":["a","b"],"fallthrough":{"variation":1}},
 {"key":"off","enabled":false,"variations":["a","b"],"offVariation":0,"fallthrough":{"variation":1}}]}`

func load(t *testing.T, doc string) *core.Evaluator {
	t.Helper()
	ev, err := core.Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestSetJSONErrorsLeaveContextEmpty(t *testing.T) {
	ev := load(t, ctxSnap)
	ctx := ev.NewContext()
	pro := ev.FlagIndex("pro")
	for _, bad := range []struct{ doc, want string }{
		{`{"plan":"pro","x":{"a":1}}`, "context.x: unsupported type object"},
		{`{"plan":"pro","x":null}`, "context.x: unsupported type null"},
		{`{"plan":"pro","x":["a",1]}`, "context.x: arrays must hold only strings"},
		{`{"plan":"pro","targetingKey":7}`, "context.targetingKey: must be a string"},
		{`{"plan":"pro"`, "context: not valid JSON"},
		{`["pro"]`, "context: must be a JSON object"},
	} {
		if err := ctx.SetJSON([]byte(`{"plan":"pro"}`)); err != nil {
			t.Fatal(err)
		}
		if r := ev.Evaluate(pro, ctx); r.Variation != 1 {
			t.Fatalf("good context: %+v", r)
		}
		err := ctx.SetJSON([]byte(bad.doc))
		if err == nil || err.Error() != bad.want {
			t.Errorf("SetJSON(%s) = %v, want %q", bad.doc, err, bad.want)
		}
		if r := ev.Evaluate(pro, ctx); r.Variation != 0 || r.Reason() != core.ReasonDefault {
			t.Errorf("after SetJSON(%s) failed the context still matched: %+v", bad.doc, r)
		}
	}
}

func TestContextKeepsNowAndRandom(t *testing.T) {
	ev := load(t, ctxSnap)
	ctx := ev.NewContext()
	ctx.Now, ctx.Random = 5, 7
	if err := ctx.SetJSON([]byte(`{"targetingKey":"u"}`)); err != nil || ctx.Now != 5 || ctx.Random != 7 {
		t.Fatalf("SetJSON changed Now/Random: %v %d %d", err, ctx.Now, ctx.Random)
	}
	ctx.Reset()
	if ctx.Now != 0 || ctx.Random != 0 {
		t.Fatal("Reset kept Now/Random")
	}
}

func TestUnusedAttributesAreDropped(t *testing.T) {
	ev := load(t, ctxSnap)
	ctx := ev.NewContext()
	if ctx.SetString("unused", "x") || !ctx.SetString("plan", "pro") || ctx.AttributeID("plan") < 0 {
		t.Fatal("only attributes the snapshot uses are kept")
	}
}

func TestContextOfAnotherSnapshot(t *testing.T) {
	a, b := load(t, ctxSnap), load(t, ctxSnap)
	ctx := b.NewContext()
	if r := a.Evaluate(0, ctx); r.ErrorCode() != core.ErrorInvalidContext || r.Variation != -1 {
		t.Fatalf("Evaluate with a foreign context: %+v", r)
	}
	if r := a.Evaluate(0, nil); r.ErrorCode() != core.ErrorInvalidContext {
		t.Fatalf("Evaluate with nil context: %+v", r)
	}
	for _, r := range a.EvaluateAll(ctx, nil) {
		if r.ErrorCode() != core.ErrorInvalidContext {
			t.Fatalf("EvaluateAll with a foreign context: %+v", r)
		}
	}
}

func TestStaticResult(t *testing.T) {
	ev := load(t, ctxSnap)
	if _, ok := ev.StaticResult(ev.FlagIndex("pro")); ok {
		t.Fatal("a flag with rules is not static")
	}
	r, ok := ev.StaticResult(ev.FlagIndex("static"))
	if !ok || r.Variation != 1 || r.Reason() != core.ReasonStatic {
		t.Fatalf("static: %+v %v", r, ok)
	}
	r, ok = ev.StaticResult(ev.FlagIndex("off"))
	if !ok || r.Variation != 0 || r.Reason() != core.ReasonDisabled {
		t.Fatalf("disabled: %+v %v", r, ok)
	}
	if _, ok := ev.StaticResult(99); ok {
		t.Fatal("out of range")
	}
}

func TestAppendJSONEscapes(t *testing.T) {
	ev := load(t, ctxSnap)
	got := string(ev.AppendJSON(nil, "a\"b\\c\n\x01é", core.Result{Flag: -1, Variation: -1, Rule: -1}, "null"))
	if !strings.HasPrefix(got, `{"flag":"a\"b\\c\n\u0001é","value":null,"variation":-1`) {
		t.Fatalf("AppendJSON = %s", got)
	}
}
