package abi

import (
	"strings"
	"testing"

	"github.com/vexil-flags/vexil/core"
)

const snap = `{"environment":"t","version":1,"flags":[
 {"key":"f","enabled":true,"variations":[0,1,2,3,4],"fallthrough":{"variation":0},"rules":[
  {"id":"k","clauses":[{"attribute":"targetingKey","op":"equals","values":["ü-1"]},{"attribute":"plan","op":"equals","values":["pro"]},
   {"attribute":"seats","op":"gt","values":[10]},{"attribute":"beta","op":"equals","values":[true]},
   {"attribute":"groups","op":"in","values":["b"]}],"variation":4}]}]}`

func TestRoundTrip(t *testing.T) {
	ev, err := core.Load([]byte(snap))
	if err != nil {
		t.Fatal(err)
	}
	id := func(name string) uint32 { return uint32(ev.Snapshot().AttributeID(name)) }
	var e Encoder
	e.Reset(1234, 99)
	e.String(0, "ü-1")
	e.String(id("plan"), "pro")
	e.Number(id("seats"), 11)
	e.Bool(id("beta"), true)
	e.Strings(id("groups"), []string{"a", "b"})
	ctx := ev.NewContext()
	var d Decoder
	if err := d.Decode(e.Bytes(), ctx, len(ev.Snapshot().Attributes)); err != nil {
		t.Fatal(err)
	}
	if ctx.Now != 1234 || ctx.Random != 99 {
		t.Fatalf("now/random %d %d", ctx.Now, ctx.Random)
	}
	if r := ev.Evaluate(0, ctx); r.Variation != 4 {
		t.Fatalf("decoded context does not match: %+v", r)
	}
	// Decoding does not allocate once the arena has grown.
	buf := append([]byte(nil), e.Bytes()...)
	if n := testing.AllocsPerRun(100, func() { _ = d.Decode(buf, ctx, len(ev.Snapshot().Attributes)) }); n != 0 {
		t.Fatalf("Decode allocates %v times", n)
	}
}

func TestMalformed(t *testing.T) {
	ev, _ := core.Load([]byte(snap))
	n := len(ev.Snapshot().Attributes)
	good := func() *Encoder { var e Encoder; e.Reset(0, 0); e.String(0, "ü-1"); return &e }
	cases := map[string][]byte{
		"shorter than the 16-byte header":       {1, 2, 3},
		"out of range":                          func() []byte { var e Encoder; e.Reset(0, 0); e.Bool(uint32(n), true); return e.Bytes() }(),
		"targeting key (id 0) must be a string": func() []byte { var e Encoder; e.Reset(0, 0); e.Number(0, 1); return e.Bytes() }(),
		"truncated string":                      func() []byte { b := good().Bytes(); return b[:len(b)-1] }(),
		"trailing bytes":                        append(good().Bytes(), 0),
		// Lengths of 2^31 and more: on wasm32 an int conversion made them negative, which passed
		// the bounds check and trapped (string) or read an empty list.
		"at byte 21: truncated string": func() []byte { b := good().Bytes(); b[24] = 0xd0; return b }(),
		"list longer than the encoding": func() []byte {
			var e Encoder
			e.Reset(0, 0)
			e.Strings(1, []string{"a"})
			b := e.Bytes()
			b[24] = 0x80
			return b
		}(),
		"unknown value type 9": func() []byte {
			var e Encoder
			e.Reset(0, 0)
			e.String(1, "x")
			b := e.Bytes()
			b[20] = 9
			return b
		}(),
	}
	for want, data := range cases {
		ctx := ev.NewContext()
		ctx.SetStringID(0, "x")
		var d Decoder
		err := d.Decode(data, ctx, n)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
		if r := ev.Evaluate(0, ctx); r.Variation != 0 {
			t.Errorf("%s: context not cleared", want)
		}
	}
}

// Bug: an entry count larger than the entries present left the decoded ones set.
func TestCountTooHighClearsContext(t *testing.T) {
	ev, _ := core.Load([]byte(`{"environment":"t","version":1,"flags":[{"key":"f","enabled":true,"variations":[0,1],
		"fallthrough":{"variation":0},"rules":[{"clauses":[{"attribute":"targetingKey","op":"equals","values":["ü-1"]}],"variation":1}]}]}`))
	var e Encoder
	e.Reset(0, 0)
	e.String(0, "ü-1")
	b := e.Bytes()
	b[12] = 2
	ctx := ev.NewContext()
	var d Decoder
	if err := d.Decode(b, ctx, len(ev.Snapshot().Attributes)); err == nil {
		t.Fatal("want an error")
	}
	if r := ev.Evaluate(ev.FlagIndex("f"), ctx); r.Variation != 0 {
		t.Fatalf("context not cleared: %+v", r)
	}
}
