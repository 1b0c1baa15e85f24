package model

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func problems(t *testing.T, doc string) []string {
	t.Helper()
	s, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var out []string
	for _, p := range s.Problems {
		out = append(out, p.String())
	}
	return out
}

func wrap(flags string) string {
	return `{"environment":"test","version":1,"segments":[{"key":"seg","included":["a"]}],"flags":[` + flags + `]}`
}

const okFlag = `{"key":"ok","enabled":true,"variations":[false,true],"fallthrough":{"variation":1}}`

// TestProblemPaths pins the path and wording of each kind of problem, and that a bad flag is
// rejected alone while the good flag beside it loads.
func TestProblemPaths(t *testing.T) {
	cases := []struct{ flag, want string }{
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[{"attribute":"a","op":"betwen","values":[1]}],"variation":0}]}`,
			`flags[1].rules[0].clauses[0].op: unknown operator "betwen"`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[{"attribute":"a","op":"matches","values":["("]}],"variation":0}]}`,
			`flags[1].rules[0].clauses[0].values[0]: invalid regex "(": error parsing regexp: missing closing ): ` + "`(`"},
		{`{"key":"x","variations":[true,false],"fallthrough":{"rollout":{"variations":[{"variation":0,"weight":50000},{"variation":1,"weight":40000}]}}}`,
			`flags[1].fallthrough.rollout.variations: weights add up to 90000, want 100000`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":3}}`,
			`flags[1].fallthrough.variation: variation 3 out of range (the flag has 1)`},
		{`{"key":"x","variations":[true,"a"],"fallthrough":{"variation":0}}`,
			`flags[1].variations[1]: a string among boolean variations; all variations must be of one kind`},
		{`{"key":"x","variations":[true],"fallthrough":{}}`,
			`flags[1].fallthrough: needs a variation or a rollout`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[]}]}`,
			`flags[1].rules[0]: rule needs a variation or a rollout`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0,"rollout":{"variations":[{"variation":0,"weight":100000}]}}}`,
			`flags[1].fallthrough: has both variation and rollout; serve one`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[{"op":"in","values":["a"]}],"variation":0}]}`,
			`flags[1].rules[0].clauses[0].attribute: required`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[{"attribute":"a","op":"equals","values":["a","b"]}],"variation":0}]}`,
			`flags[1].rules[0].clauses[0].values: equals takes exactly one value`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[{"attribute":"a","op":"lt","values":["3"]}],"variation":0}]}`,
			`flags[1].rules[0].clauses[0].values[0]: must be a number`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[{"attribute":"a","op":"semverGt","values":["1.x"]}],"variation":0}]}`,
			`flags[1].rules[0].clauses[0].values[0]: invalid semantic version "1.x"`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[{"attribute":"a","op":"before","values":["2026-02-30T00:00:00Z"]}],"variation":0}]}`,
			`flags[1].rules[0].clauses[0].values[0]: invalid RFC 3339 timestamp "2026-02-30T00:00:00Z"`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[{"op":"inSegment","values":["nope"]}],"variation":0}]}`,
			`flags[1].rules[0].clauses[0].values[0]: unknown segment "nope"`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"prerequisites":[{"flag":"ghost","variations":[0]}]}`,
			`flags[1].prerequisites[0].flag: unknown flag "ghost"`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"prerequisites":[{"flag":"ok","variations":[2]}]}`,
			`flags[1].prerequisites[0].variations[0]: variation 2 out of range (flag "ok" has 2)`},
		{`{"key":"ok","variations":[true],"fallthrough":{"variation":0}}`,
			`flags[1].key: duplicate key "ok", first at flags[0]`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"percentageOfTime":100001}`,
			`flags[1].percentageOfTime: must be an integer from 0 to 100000`},
		{`{"key":"x","type":"feature","variations":[true],"fallthrough":{"variation":0}}`,
			`flags[1].type: unknown flag type "feature"`},
		{`{"key":"","variations":[true],"fallthrough":{"variation":0}}`,
			`flags[1].key: must not be empty`},
		{`{"variations":[true],"fallthrough":{"variation":0}}`,
			`flags[1].key: required`},
		{`{"key":"x","fallthrough":{"variation":0}}`,
			`flags[1].variations: required`},
		{`{"key":"x","variations":[true]}`,
			`flags[1].fallthrough: required`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"match":"some","variation":0}]}`,
			`flags[1].rules[0].match: must be "all" or "any", not "some"`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"schedule":{"notBefore":"soon"}}`,
			`flags[1].schedule.notBefore: invalid RFC 3339 timestamp "soon"`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"targets":[{"variation":0,"values":["a",1]}]}`,
			`flags[1].targets[0].values[1]: must be a string`},
		{`{"key":"x","variations":[true],"fallthrough":{"variation":0},"rules":[{"id":"r","variation":0},{"id":"r","variation":0}]}`,
			`flags[1].rules[1].id: duplicate rule id "r"`},
		{`"just a string"`, `flags[1]: must be an object`},
	}
	for _, c := range cases {
		s, err := Parse([]byte(wrap(okFlag + "," + c.flag)))
		if err != nil {
			t.Fatalf("%s: %v", c.flag, err)
		}
		if len(s.Problems) == 0 || s.Problems[0].String() != c.want {
			t.Errorf("flag %s\n got %v\nwant [%s]", c.flag, s.Problems, c.want)
			continue
		}
		if s.Flags[0].Rejected || !s.Flags[1].Rejected {
			t.Errorf("%s: rejected = %v, %v; want only the bad flag", c.want, s.Flags[0].Rejected, s.Flags[1].Rejected)
		}
	}
}

func TestPrerequisiteCyclesAndCascade(t *testing.T) {
	got := problems(t, wrap(`
		{"key":"a","variations":[true],"fallthrough":{"variation":0},"prerequisites":[{"flag":"b","variations":[0]}]},
		{"key":"b","variations":[true],"fallthrough":{"variation":0},"prerequisites":[{"flag":"a","variations":[0]}]},
		{"key":"c","variations":[true],"fallthrough":{"variation":0},"prerequisites":[{"flag":"a","variations":[0]}]},
		{"key":"d","variations":[true],"fallthrough":{"variation":0},"prerequisites":[{"flag":"d","variations":[0]}]},
		{"key":"e","variations":[true],"fallthrough":{"variation":9}},
		{"key":"f","variations":[true],"fallthrough":{"variation":0},"prerequisites":[{"flag":"e","variations":[0]}]},
		{"key":"g","variations":[true],"fallthrough":{"variation":0},"prerequisites":[{"flag":"f","variations":[0]}]}`))
	want := []string{
		`flags[0].prerequisites[0].flag: prerequisite cycle: a -> b -> a`,
		`flags[1].prerequisites[0].flag: prerequisite cycle: b -> a -> b`,
		`flags[2].prerequisites[0].flag: prerequisite "a" was rejected`,
		`flags[3].prerequisites[0].flag: prerequisite cycle: d -> d`,
		`flags[4].fallthrough.variation: variation 9 out of range (the flag has 1)`,
		`flags[5].prerequisites[0].flag: prerequisite "e" was rejected`,
		`flags[6].prerequisites[0].flag: prerequisite "f" was rejected`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPrerequisiteDepthLimit(t *testing.T) {
	var b strings.Builder
	n := MaxPrerequisiteDepth + 2
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"key":"f` + itoa(i) + `","variations":[true],"fallthrough":{"variation":0}`)
		if i > 0 {
			b.WriteString(`,"prerequisites":[{"flag":"f` + itoa(i-1) + `","variations":[0]}]`)
		}
		b.WriteString("}")
	}
	s, err := Parse([]byte(wrap(b.String())))
	if err != nil {
		t.Fatal(err)
	}
	if s.Flags[MaxPrerequisiteDepth].Rejected || !s.Flags[MaxPrerequisiteDepth+1].Rejected {
		t.Fatalf("depth %d should load and %d be rejected: %v", MaxPrerequisiteDepth, MaxPrerequisiteDepth+1, s.Problems)
	}
	want := "flags[33].prerequisites[0].flag: prerequisite chain deeper than 32 flags"
	if s.Problems[0].String() != want {
		t.Fatalf("got %v, want %s", s.Problems[0], want)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestSegmentProblems(t *testing.T) {
	got := problems(t, `{"environment":"e","version":1,
		"segments":[{"key":"s","included":["a",2]},{"key":"t","rules":[{"clauses":[{"op":"inSegment","values":["s"]}]}]}],
		"flags":[{"key":"f","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[{"op":"inSegment","values":["s"]}],"variation":0}]}]}`)
	want := []string{
		`flags[0].rules[0].clauses[0].values[0]: segment "s" was rejected`,
		`segments[0].included[1]: must be a string`,
		`segments[1].rules[0].clauses[0].op: segment rules cannot use inSegment`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWholeSnapshotErrors(t *testing.T) {
	for doc, want := range map[string]string{
		`not json`:                         "snapshot is not valid JSON",
		`[1,2]`:                            "snapshot must be a JSON object",
		`{"version":1}`:                    "environment: required",
		`{"environment":"e"}`:              "version: required",
		`{"environment":"e","version":-1}`: "version: must be an integer ≥ 0",
		`{"environment":"e","version":1,"flags":{}}`:        "flags: must be an array",
		`{"schemaVersion":2,"environment":"e","version":1}`: "schemaVersion: unsupported version 2, this engine reads 1",
	} {
		_, err := Parse([]byte(doc))
		if err == nil || err.Error() != want {
			t.Errorf("Parse(%s) error = %v, want %q", doc, err, want)
		}
	}
}

func TestCompiledIndex(t *testing.T) {
	s, err := Parse([]byte(wrap(okFlag + `,{"key":"r","enabled":true,"variations":["a","b"],"fallthrough":{"variation":0},
		"rules":[{"clauses":[{"attribute":"plan","op":"in","values":["a","b","c","d","e","f","g","h"]},{"attribute":"age","op":"gt","values":[18]}],"variation":1}]}`)))
	if err != nil || len(s.Problems) != 0 {
		t.Fatal(err, s.Problems)
	}
	if s.FlagIndex("r") != 1 || s.FlagIndex("nope") != -1 || s.SegmentIndex("seg") != 0 {
		t.Fatal("flag or segment index wrong")
	}
	if s.AttributeID("targetingKey") != 0 || s.AttributeID("plan") != 1 || s.AttributeID("age") != 2 || s.AttributeID("unused") != -1 {
		t.Fatalf("attributes = %v", s.Attributes)
	}
	c := s.Flags[1].Rules[0].Clauses
	if c[0].Set.IndexOf("h") != 7 || c[0].Set.IndexOf("i") != -1 || len(c[1].Numbers) != 1 || c[1].Numbers[0] != 18 || c[1].Bound != 18 {
		t.Fatalf("clause values not pre-parsed: %+v", c)
	}
	if !s.Flags[0].Static || s.Flags[1].Static {
		t.Fatal("static detection wrong")
	}
	if s.Flags[1].Variations[1].JSON != `"b"` {
		t.Fatalf("variation JSON = %s", s.Flags[1].Variations[1].JSON)
	}
}

func TestCompactJSON(t *testing.T) {
	in := "{ \"a\" : [ 1, 2 ],\n \"b\": \"x y\\\" z\" }"
	if got, want := compactJSON(in), `{"a":[1,2],"b":"x y\" z"}`; got != want {
		t.Fatalf("compactJSON = %s, want %s", got, want)
	}
}

// Variation and rule counts stop where the packed result's 13-bit fields do: the largest flag
// that fits loads, one more of either is rejected by name.
func TestPackedIndexLimits(t *testing.T) {
	flag := func(variations, rules int) string {
		var b strings.Builder
		b.WriteString(`{"key":"big","enabled":true,"variations":[`)
		for i := 0; i < variations; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(i))
		}
		b.WriteString(`],"rules":[`)
		for i := 0; i < rules; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"clauses":[{"attribute":"n","op":"equals","values":[%d]}],"variation":%d}`, i, variations-1)
		}
		b.WriteString(`],"fallthrough":{"variation":0}}`)
		return b.String()
	}
	for _, c := range []struct {
		variations, rules int
		want              string
	}{
		{MaxVariations, MaxRules, ""},
		{MaxVariations + 1, 1, "flags[0].variations: at most 8191 variations, found 8192"},
		{2, MaxRules + 1, "flags[0].rules: at most 8191 rules, found 8192"},
	} {
		s, err := Parse([]byte(wrap(flag(c.variations, c.rules))))
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, p := range s.Problems {
			got += p.String()
		}
		if got != c.want || s.Flags[0].Rejected != (c.want != "") {
			t.Errorf("%d variations, %d rules: problems %q (rejected %v), want %q", c.variations, c.rules, got, s.Flags[0].Rejected, c.want)
		}
	}
}

func TestHashedKeys(t *testing.T) {
	// The reference value, computed independently: sha256("s.user-42")[:16] in hex.
	if got := HashKey("s", "user-42"); got != "247509bee5d015829028f4138c08b47c" {
		t.Errorf("HashKey = %s", got)
	}
	s, err := Parse([]byte(`{"environment":"e","version":1,"hashedKeys":{"salt":"pepper"},"flags":[]}`))
	if err != nil || !s.HashedKeys || s.KeySalt != "pepper" {
		t.Fatalf("hashedKeys not read: %v %+v", err, s)
	}
	for doc, want := range map[string]string{
		`{"environment":"e","version":1,"hashedKeys":"pepper"}`:                               "hashedKeys: must be an object",
		`{"environment":"e","version":1,"hashedKeys":{}}`:                                     "hashedKeys.salt: required",
		`{"environment":"e","version":1,"hashedKeys":{"salt":1}}`:                             "hashedKeys.salt: must be a string",
		`{"flags":[],"segments":[],"environment":"e","version":1,"hashedKeys":{"salt":null}}`: "hashedKeys.salt: must be a string",
	} {
		if _, err := Parse([]byte(doc)); err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %q", doc, err, want)
		}
	}
}
