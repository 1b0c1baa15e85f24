package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func vexil(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "snap.json")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const example = "../../../core/testdata/example.json"

const snap = `{"environment":"test","version":7,"flags":[
 {"key":"beta","enabled":true,"variations":[false,true],"offVariation":0,"fallthrough":{"variation":0},
  "rules":[{"id":"pros","clauses":[{"attribute":"plan","op":"in","values":["pro"]}],"variation":1}]},
 {"key":"limit","enabled":true,"variations":[10,20.5],"fallthrough":{"variation":1}},
 {"key":"broken","enabled":true,"variations":[true],"fallthrough":{"variation":0},
  "rules":[{"clauses":[{"attribute":"a","op":"betwen","values":[1]}],"variation":0}]}]}`

func TestValidate(t *testing.T) {
	if code, out, errOut := vexil(t, "validate", example); code != 0 || out != "" {
		t.Fatalf("example: code %d, out %q, err %q", code, out, errOut)
	}
	code, out, errOut := vexil(t, "validate", writeFile(t, snap))
	if code != 1 || out != "flags[2].rules[0].clauses[0].op: unknown operator \"betwen\"\n" {
		t.Fatalf("code %d, out %q", code, out)
	}
	if !strings.Contains(errOut, "3 flags (1 rejected)") {
		t.Fatalf("summary %q", errOut)
	}
	if code, out, _ := vexil(t, "validate", writeFile(t, `{"environment":"e"}`)); code != 1 || out != "version: required\n" {
		t.Fatalf("whole-snapshot error: code %d, out %q", code, out)
	}
	if code, _, _ := vexil(t, "validate"); code != 2 {
		t.Fatalf("no file: code %d", code)
	}
	if code, _, _ := vexil(t, "validate", "/does/not/exist"); code != 1 {
		t.Fatalf("missing file: code %d", code)
	}
}

func TestEval(t *testing.T) {
	file := writeFile(t, snap)
	code, out, _ := vexil(t, "eval", "--snapshot", file, "--flag", "beta", "--context", `{"targetingKey":"u1","plan":"pro"}`)
	want := `{"flag":"beta","value":true,"variation":1,"reason":"TARGETING_MATCH","ruleId":"pros","inExperiment":false}` + "\n"
	if code != 0 || out != want {
		t.Fatalf("code %d\n got %s\nwant %s", code, out, want)
	}
	// Typed check with a default: integer of 20.5 is a mismatch.
	_, out, _ = vexil(t, "eval", "--snapshot", file, "--flag", "limit", "--type", "integer", "--default", " 5 ")
	if out != `{"flag":"limit","value":5,"variation":-1,"reason":"ERROR","errorCode":"TYPE_MISMATCH","inExperiment":false}`+"\n" {
		t.Fatalf("typed: %s", out)
	}
	_, out, _ = vexil(t, "eval", "--snapshot", file, "--flag", "nope", "--default", "false")
	if !strings.Contains(out, `"errorCode":"FLAG_NOT_FOUND"`) || !strings.Contains(out, `"value":false`) {
		t.Fatalf("not found: %s", out)
	}
	code, out, errOut := vexil(t, "eval", "--snapshot", file, "--all", "--now", "2026-11-23T00:00:00Z", "--random", "7")
	var results []map[string]any
	if err := json.Unmarshal([]byte(out), &results); err != nil || code != 0 || len(results) != 3 {
		t.Fatalf("--all: code %d, %v: %s", code, err, out)
	}
	if results[2]["errorCode"] != "PARSE_ERROR" || !strings.Contains(errOut, "warning: flags[2]") {
		t.Fatalf("--all rejected flag: %v / %s", results[2], errOut)
	}
}

func TestEvalUsageErrors(t *testing.T) {
	file := writeFile(t, snap)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--flag", "x"}, "--snapshot is required"},
		{[]string{"eval", "--snapshot", file}, "give exactly one of --flag KEY and --all"},
		{[]string{"eval", "--snapshot", file, "--flag", "beta", "--context", `{"plan":{"a":1}}`}, "context.plan: unsupported type object"},
		{[]string{"eval", "--snapshot", file, "--flag", "beta", "--context", `{"targetingKey":3}`}, "context.targetingKey: must be a string"},
		{[]string{"eval", "--snapshot", file, "--flag", "beta", "--type", "bool"}, `--type: unknown type "bool"`},
		{[]string{"eval", "--snapshot", file, "--flag", "beta", "--default", "{"}, "--default: not valid JSON"},
		{[]string{"eval", "--snapshot", file, "--flag", "beta", "--now", "tomorrow"}, "--now: want RFC 3339"},
		{[]string{"eval", "--snapshot", file, "--flag", "beta", "--random", "-1"}, "--random: want an integer"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		code, _, errOut := vexil(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: code %d, stderr %q, want %q", c.args, code, errOut, c.want)
		}
	}
}
