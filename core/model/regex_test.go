package model

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
)

var regexCases = []struct{ pattern, text string }{
	{`^user-\d+$`, "user-42"}, {`^user-\d+$`, "user-42x"}, {`^user-\d+$`, "xuser-42"},
	{`@example\.com$`, "ann@example.com"}, {`@example\.com$`, "ann@example.com.evil"},
	{`(?i)^ADMIN`, "admin-1"}, {`(?i)ß`, "ẞ"}, {`(?i)k`, "\u212a"},
	{`\bbeta\b`, "a beta b"}, {`\bbeta\b`, "alphabeta"}, {`\Bbeta`, "alphabeta"},
	{`(?m)^b$`, "a\nb\nc"}, {`^b$`, "a\nb\nc"}, {`(?s)a.c`, "a\nc"}, {`a.c`, "a\nc"},
	{`\Ax\z`, "x"}, {`x\z`, "x\n"}, {`$`, ""}, {`^`, ""}, {``, "anything"}, {`a|`, "b"},
	{`(a|ab)(c|bcd)(d*)`, "abcd"}, {`a{3,5}`, "aa"}, {`a{3,5}`, "xaaax"}, {`[^a-z]`, "abc"},
	{`[^a-z]`, "abcD"}, {`é+`, "caféé"}, {`\x{FFFD}`, "a\xffb"}, {`^.$`, "\xff"}, {`^..$`, "é"},
	{`[[:alpha:]]+\d`, "--ab7"}, {`\pL`, "日本"}, {`(?U)a+?b`, "aaab"}, {`x*`, ""},
	{`(foo|bar)+baz`, "foobarfoobaz"}, {`(foo|bar)+baz`, "foobarfoo"}, {`^$`, "\n"},
}

// MatchString answers as package regexp does.
func TestRegexMatchesLikeRegexp(t *testing.T) {
	for _, c := range regexCases {
		re, err := CompileRegex(c.pattern)
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		if got, want := re.MatchString(c.text), regexp.MustCompile(c.pattern).MatchString(c.text); got != want {
			t.Errorf("%q on %q: %v, want %v", c.pattern, c.text, got, want)
		}
	}
}

func TestRegexRejects(t *testing.T) {
	for pattern, want := range map[string]string{
		`a(b`:                      "missing closing )",
		`[a-z]{1,1001}`:            "invalid repeat count",
		`[a-z]{1,900}`:             "compiles to more than 1024 instructions",
		`(x{1,30}){1,30}`:          "compiles to more than 1024 instructions",
		`\8`:                       "invalid escape",
		strings.Repeat("(a)", 101): "has more than 100 groups",
	} {
		if _, err := CompileRegex(pattern); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: error %v, want one containing %q", pattern, err, want)
		}
	}
	// Escaped parentheses are no groups.
	for _, ok := range []string{`[a-z]{1,500}`, strings.Repeat("(a)", 100), strings.Repeat(`\(`, 200)} {
		if _, err := CompileRegex(ok); err != nil {
			t.Errorf("%.40q, under the bounds, was rejected: %v", ok, err)
		}
	}
}

func TestRegexMatchDoesNotAllocate(t *testing.T) {
	re, _ := CompileRegex(`(?i)^[a-z0-9._%+-]+@(example|acme)\.(com|org)$`)
	if n := testing.AllocsPerRun(100, func() { re.MatchString("Ann.Lee@Example.org") }); n != 0 {
		t.Fatalf("%v allocations per match", n)
	}
}

func FuzzRegex(f *testing.F) {
	for _, c := range regexCases {
		f.Add(c.pattern, c.text)
	}
	f.Fuzz(func(t *testing.T, pattern, text string) {
		want, err := regexp.Compile(pattern)
		re, err2 := CompileRegex(pattern)
		if err != nil {
			if err2 == nil {
				t.Fatalf("%q compiles here but not in package regexp: %v", pattern, err)
			}
			return
		}
		if err2 != nil {
			if err2 == errRegexTooLarge || strings.Contains(err2.Error(), "groups") {
				return
			}
			t.Fatalf("%q compiles in package regexp but not here: %v", pattern, err2)
		}
		// progSize, which refuses large patterns before they are built, bounds the real size.
		parsed, _ := syntax.Parse(pattern, syntax.Perl)
		estimate := progSize(parsed)
		flattenRepeats(parsed)
		if prog, err := syntax.Compile(parsed.Simplify()); err == nil && estimate < min(len(prog.Inst), MaxRegexInsts+1) {
			t.Fatalf("%q: estimated %d instructions, compiled to %d", pattern, estimate, len(prog.Inst))
		}
		if got := re.MatchString(text); got != want.MatchString(text) {
			t.Fatalf("%q on %q: %v, want %v", pattern, text, got, !got)
		}
	})
}
