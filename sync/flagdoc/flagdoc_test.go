package flagdoc

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDecodeNamesTheField(t *testing.T) {
	for _, c := range []struct{ body, field, msg string }{
		{`{"key":"k",`, "body", "malformed JSON"},
		{``, "body", "empty body"},
		{`{"key":"k"} {}`, "body", "more than one value"},
		{`[]`, "", "must be an object, not an array"},
		{`{"key":1}`, "key", "must be a string, not a number"},
		{`{"enabled":"yes"}`, "enabled", "must be a boolean"},
		{`{"offVariation":1.5}`, "offVariation", "must be an integer that fits in 32 bits"},
		{`{"offVariation":99999999999}`, "offVariation", "fits in 32 bits"},
		{`{"tags":["a",2]}`, "tags[1]", "must be a string"},
		{`{"rules":[{},{"clauses":[{"op":"in","attribute":"a","vals":[]}]}]}`, "rules[1].clauses[0].vals", "unknown field"},
		{`{"fallthrough":{"rollout":{"variations":[{"variation":0,"weight":"x"}]}}}`, "fallthrough.rollout.variations[0].weight", "must be an integer"},
		{`{"prerequisites":{"flag":"a"}}`, "prerequisites", "must be an array, not an object"},
	} {
		var f Flag
		err := Decode([]byte(c.body), &f, "")
		var fe *Error
		if !errors.As(err, &fe) || fe.Fields[0].Field != c.field || !contains(fe.Fields[0].Message, c.msg) {
			t.Errorf("%s: %v, want %s: …%s…", c.body, err, c.field, c.msg)
		}
	}
	var f Flag
	if err := Decode([]byte(`{"key":"k","variations":[1,"x",{"a":null}],"offVariation":null,"fallthrough":{"variation":0}}`), &f, ""); err != nil || len(f.Variations) != 3 || f.OffVariation != nil {
		t.Fatalf("valid document: %v %+v", err, f)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestWeight(t *testing.T) {
	for p, w := range map[float64]int{0: 0, 100: 100000, 25: 25000, 0.001: 1, 33.333: 33333} {
		if got, err := Weight("p", p); err != nil || got != w {
			t.Errorf("Weight(%v) = %d, %v; want %d", p, got, err, w)
		}
	}
	for _, p := range []float64{-1, 100.001, 0.0001, 12.3456} {
		if _, err := Weight("p", p); err == nil {
			t.Errorf("Weight(%v) accepted", p)
		}
	}
}

func TestValidateRelocatesPaths(t *testing.T) {
	flags := []Doc{
		{Key: "a", JSON: []byte(`{"key":"a","variations":[true],"fallthrough":{"variation":0}}`)},
		{Key: "b", JSON: []byte(`{"key":"b","variations":[true],"fallthrough":{"variation":0},"prerequisites":[{"flag":"gone","variations":[0]}]}`)},
	}
	snap := Assemble("e", 1, flags, nil)
	err := Validate(snap, flags, nil, Subject{Collection: "flags", Key: "a"})
	var fe *Error
	if !errors.As(err, &fe) || len(fe.Fields) != 1 || fe.Fields[0].Field != `flags["b"].prerequisites[0].flag` {
		t.Fatalf("other document: %v", err)
	}
	if err := Validate(snap, flags, nil, Subject{Collection: "flags", Key: "b"}); !errors.As(err, &fe) || fe.Fields[0].Field != "prerequisites[0].flag" {
		t.Fatalf("subject: %v", err)
	}
	if err := Validate(Assemble("e", 1, flags[:1], nil), flags[:1], nil, Subject{}); err != nil {
		t.Fatalf("valid: %v", err)
	}
}

func TestFlagVerbs(t *testing.T) {
	zero := 0
	f := &Flag{Key: "f", Variations: raw("false", "true"), OffVariation: &zero, Fallthrough: &Serve{Variation: &zero}}
	if w, _ := f.RolloutWeight("", 1); w != 0 {
		t.Fatalf("fixed false: weight of true %d", w)
	}
	if w, _ := f.RolloutWeight("", 0); w != Full {
		t.Fatalf("fixed false: weight of false %d", w)
	}
	f.Fallthrough.Rollout = &Rollout{BucketBy: "accountId", Salt: "s", Variations: []WeightedVariation{{1, 5000}, {0, 95000}}}
	f.Fallthrough.Variation = nil
	if err := f.SetRollout("", 1, 0, 7000); err != nil || f.Fallthrough.Rollout.BucketBy != "accountId" || f.Fallthrough.Rollout.Salt != "s" || f.Fallthrough.Rollout.Variations[0].Weight != 7000 {
		t.Fatalf("SetRollout must keep bucketBy and salt: %+v %v", f.Fallthrough.Rollout, err)
	}
	if err := f.Pin([]string{"a", "b"}, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Pin([]string{"b"}, 0); err != nil || len(f.Targets) != 2 || f.Targets[0].Values[0] != "a" || len(f.Targets[0].Values) != 1 {
		t.Fatalf("re-pin moves the user: %+v %v", f.Targets, err)
	}
	f.Unpin([]string{"a", "b"})
	if f.Targets != nil {
		t.Fatalf("unpin all: %+v", f.Targets)
	}
	s := &Segment{Key: "s"}
	_ = s.AddMembers("included", []string{"u1", "u2"})
	_ = s.AddMembers("excluded", []string{"u2"})
	if len(s.Included) != 1 || len(s.Excluded) != 1 {
		t.Fatalf("excluding moves the user: %+v", s)
	}
	if err := s.AddMembers("both", []string{"u"}); err == nil {
		t.Fatal("unknown list accepted")
	}
}

func raw(vs ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(vs))
	for i, v := range vs {
		out[i] = json.RawMessage(v)
	}
	return out
}
