package snapdiff

import (
	"slices"
	"testing"
)

const base = `{"environment": "t", "version": 1, "flags": [
 {"key": "a", "enabled": true, "variations": [false, true], "fallthrough": {"variation": 0}},
 {"key": "b", "enabled": true, "variations": [false, true], "fallthrough": {"variation": 0},
  "rules": [{"clauses": [{"op": "inSegment", "values": ["staff"]}], "variation": 1}]},
 {"key": "c", "enabled": true, "variations": [false, true], "fallthrough": {"variation": 0},
  "prerequisites": [{"flag": "a", "variations": [1]}]},
 {"key": "d", "enabled": true, "variations": [false, true], "fallthrough": {"variation": 0},
  "prerequisites": [{"flag": "c", "variations": [1]}]},
 {"key": "e", "enabled": true, "variations": [1, 2], "fallthrough": {"variation": 0}}
], "segments": [{"key": "staff", "included": ["u1"]}, {"key": "other", "included": ["u2"]}]}`

func TestChanged(t *testing.T) {
	old := New([]byte(base))
	for _, c := range []struct {
		name, from, to string
		want           []string
	}{
		{"nothing", `"version": 1`, `"version": 2`, nil},
		{"one flag", `"variations": [1, 2]`, `"variations": [1, 3]`, []string{"e"}},
		{"prerequisite chain", `{"key": "a", "enabled": true`, `{"key": "a", "enabled": false`, []string{"a", "c", "d"}},
		{"segment used", `"included": ["u1"]`, `"included": ["u1", "u3"]`, []string{"b"}},
		{"segment unused", `"included": ["u2"]`, `"included": []`, nil},
		{"flag removed", `,
 {"key": "e", "enabled": true, "variations": [1, 2], "fallthrough": {"variation": 0}}`, ``, []string{"e"}},
		{"top-level field", `"segments"`, `"extra": 1, "segments"`, nil},
		{"flag added", `"flags": [`, `"flags": [{"key": "z", "variations": [1], "fallthrough": {"variation": 0}},`, []string{"z"}},
		{"whitespace in a flag", `{"key": "e", "enabled": true`, `{"key": "e",  "enabled": true`, []string{"e"}},
	} {
		next := replace(t, base, c.from, c.to)
		got := Changed(old, New([]byte(next)))
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("%s: changed %q, want %q", c.name, got, c.want)
		}
	}
	if got := Changed(nil, old); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("from nothing: %q", got)
	}
	if got := Changed(old, New([]byte(`{"environment": "t", "version": 2}`))); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("to nothing: %q", got)
	}
}

func replace(t *testing.T, s, from, to string) string {
	t.Helper()
	for i := 0; i+len(from) <= len(s); i++ {
		if s[i:i+len(from)] == from {
			return s[:i] + to + s[i+len(from):]
		}
	}
	t.Fatalf("%q not in the base snapshot", from)
	return ""
}
