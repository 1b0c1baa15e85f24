package model

import (
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []string{
	`{}`, `[]`, ` {"a" : [1, -0.5e+3, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9"]} `, `"s"`, `0`, `-0`,
	`1E9`, `[[[[]]]]`, `{"a":{"b":{}}}`, `"0123456789abcdef0123456789abcdef"`, `"ünïcødé and more than eight bytes"`,
	`{"":""}`, "\t\r\n[1]\n", `"\uABCD\uabcd"`, `[1,{"a":[2,{"b":3}]}]`,
	// not JSON
	``, ` `, `{`, `}`, `[`, `]`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1]`, `[1}`, `[1 2]`,
	`"unterminated`, `"bad \x escape"`, `"bad \u12G4"`, `"\u12"`, "\"raw\ncontrol\"", "\"raw\x1fcontrol in a long string\"",
	`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `tru`, `nulll`, `True`, `[1] [2]`, `{"a":1}}`, `NaN`, `1.5.2`,
	"\v[]", `"\`, `"abcdefgh\`, `["a","b"`, `{"a":1 "b":2}`, "[\"\x7f\x80\xff\"]",
}

// validJSON agrees with encoding/json.Valid (which shares its leniency about UTF-8).
func TestValidJSON(t *testing.T) {
	for _, c := range validCases {
		if got, want := validJSON(c), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%q) = %v, want %v", c, got, want)
		}
	}
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	if !validJSON(deep) || validJSON(deep[:len(deep)-1]) {
		t.Error("deep nesting")
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, c := range validCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validJSON(s), json.Valid([]byte(s)); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", s, got, want)
		}
	})
}
