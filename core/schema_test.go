package core_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaID = "https://vexil.dev/schema/snapshot-1.json"

// compileSnapshotSchema compiles snapshot.schema.json (which the compiler also
// checks against the draft 2020-12 meta-schema) with format assertions on, so
// that "date-time" is enforced rather than merely annotated.
func compileSnapshotSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw := readSchemaJSON(t, "snapshot.schema.json")
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaID, raw); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	sch, err := c.Compile(schemaID)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

// readSchemaJSON decodes a file the way the validator wants it (json.Number
// for numbers, so integers stay exact).
func readSchemaJSON(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return v
}

func TestSchemaExampleValidates(t *testing.T) {
	sch := compileSnapshotSchema(t)
	for _, name := range []string{"example.json", "example-browser.json"} {
		if err := sch.Validate(readSchemaJSON(t, filepath.Join("testdata", name))); err != nil {
			t.Fatalf("testdata/%s does not validate:\n%v", name, err)
		}
	}
}

// TestSchemaExampleCoverage checks that the worked example exercises the
// whole format: every operator, every flag type, both match modes, negate,
// and every property the schema describes.
func TestSchemaExampleCoverage(t *testing.T) {
	schema := readSchemaJSON(t, "snapshot.schema.json").(map[string]any)
	defs := schema["$defs"].(map[string]any)

	used := map[string]map[string]bool{} // property name -> values seen (for strings/bools)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if used[k] == nil {
					used[k] = map[string]bool{}
				}
				switch x := x.(type) {
				case string:
					used[k][x] = true
				case bool:
					if x {
						used[k]["true"] = true
					} else {
						used[k]["false"] = true
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	// The browser-safe example carries what only client snapshots have (hashedKeys).
	walk(readSchemaJSON(t, filepath.Join("testdata", "example.json")))
	walk(readSchemaJSON(t, filepath.Join("testdata", "example-browser.json")))

	enumOf := func(def string) []string {
		var out []string
		for _, e := range defs[def].(map[string]any)["enum"].([]any) {
			out = append(out, e.(string))
		}
		return out
	}
	for _, op := range enumOf("operator") {
		if !used["op"][op] {
			t.Errorf("example.json never uses operator %q", op)
		}
	}
	for _, typ := range enumOf("flagType") {
		if !used["type"][typ] {
			t.Errorf("example.json never uses flag type %q", typ)
		}
	}
	for _, m := range []string{"all", "any"} {
		if !used["match"][m] {
			t.Errorf("example.json never uses match %q", m)
		}
	}
	if !used["negate"]["true"] {
		t.Errorf("example.json never uses negate: true")
	}

	var props []string
	for name := range schema["properties"].(map[string]any) {
		props = append(props, name)
	}
	for _, def := range defs {
		if p, ok := def.(map[string]any)["properties"].(map[string]any); ok {
			for name := range p {
				props = append(props, name)
			}
		}
	}
	sort.Strings(props)
	for _, name := range slices.Compact(props) {
		if used[name] == nil {
			t.Errorf("example.json never uses the field %q", name)
		}
	}
}

// TestSchemaDescriptions checks that every property the schema declares
// carries a description, and so does every $defs entry.
func TestSchemaDescriptions(t *testing.T) {
	schema := readSchemaJSON(t, "snapshot.schema.json").(map[string]any)
	for _, k := range []string{"$schema", "$id", "title", "description"} {
		if _, ok := schema[k]; !ok {
			t.Errorf("schema lacks top-level %q", k)
		}
	}
	if schema["$id"] != schemaID {
		t.Errorf("$id = %v, want %s", schema["$id"], schemaID)
	}
	for name, def := range schema["$defs"].(map[string]any) {
		if _, ok := def.(map[string]any)["description"]; !ok {
			t.Errorf("$defs/%s has no description", name)
		}
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok && !strings.Contains(path, "/if") {
				for name, p := range props {
					pm := p.(map[string]any)
					// Properties inside if/then/not only narrow an already described one.
					if _, ok := pm["description"]; !ok && !strings.Contains(path, "/then") {
						t.Errorf("%s/properties/%s has no description", path, name)
					}
				}
			}
			for k, x := range v {
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(path+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("#", schema)
}

// TestSchemaVectors validates every golden-vector suite snapshot that the
// engine loads without problems: the schema must never be stricter than the
// engine.
func TestSchemaVectors(t *testing.T) {
	path := filepath.Join("testdata", "vectors.json")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		t.Skip("testdata/vectors.json does not exist yet")
	}
	sch := compileSnapshotSchema(t)
	doc, ok := readSchemaJSON(t, path).(map[string]any)
	if !ok {
		t.Fatalf("vectors.json is not an object")
	}
	suites, _ := doc["suites"].([]any)
	if len(suites) == 0 {
		t.Fatalf("vectors.json has no suites")
	}
	clean, withProblems, caught := 0, 0, 0
	for i, s := range suites {
		suite := s.(map[string]any)
		name, _ := suite["name"].(string)
		problems, _ := suite["problems"].([]any)
		err := sch.Validate(suite["snapshot"])
		if len(problems) > 0 {
			withProblems++
			if err != nil {
				caught++
			}
			continue
		}
		clean++
		if err != nil {
			t.Errorf("suites[%d] %q has no problems but fails the schema:\n%v", i, name, err)
		}
	}
	t.Logf("%d problem-free suite snapshots checked; the schema also rejects %d of %d snapshots with problems",
		clean, caught, withProblems)
}

// mutate returns a deep copy of the example with f applied to it.
func mutate(t *testing.T, example []byte, f func(doc map[string]any)) any {
	t.Helper()
	var doc map[string]any
	d := json.NewDecoder(bytes.NewReader(example))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	return doc
}

// at walks a path of map keys and array indexes.
func at(v any, path ...any) map[string]any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			v = v.(map[string]any)[p]
		case int:
			v = v.([]any)[p]
		}
	}
	return v.(map[string]any)
}

// leafLocations lists the instance locations of the innermost errors.
func leafLocations(err *jsonschema.ValidationError) []string {
	if len(err.Causes) == 0 {
		return []string{"/" + strings.Join(err.InstanceLocation, "/")}
	}
	var out []string
	for _, c := range err.Causes {
		out = append(out, leafLocations(c)...)
	}
	return out
}

func TestSchemaRejectsInvalid(t *testing.T) {
	sch := compileSnapshotSchema(t)
	example, err := os.ReadFile(filepath.Join("testdata", "example.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := func(s string) json.Number { return json.Number(s) }

	cases := []struct {
		name string
		edit func(doc map[string]any)
		loc  string // the instance location at or under which an error must be reported
	}{
		{"missing environment", func(d map[string]any) { delete(d, "environment") }, "/"},
		{"missing version", func(d map[string]any) { delete(d, "version") }, "/"},
		{"negative version", func(d map[string]any) { d["version"] = n("-1") }, "/version"},
		{"unknown schemaVersion", func(d map[string]any) { d["schemaVersion"] = n("2") }, "/schemaVersion"},
		{"environment not a string", func(d map[string]any) { d["environment"] = n("7") }, "/environment"},
		{"weight 100001", func(d map[string]any) {
			at(d, "flags", 1, "fallthrough", "rollout", "variations", 0)["weight"] = n("100001")
		}, "/flags/1/fallthrough/rollout/variations/0/weight"},
		{"fractional weight", func(d map[string]any) {
			at(d, "flags", 0, "rules", 1, "rollout", "variations", 0)["weight"] = n("25000.5")
		}, "/flags/0/rules/1/rollout/variations/0/weight"},
		{"unknown operator", func(d map[string]any) {
			at(d, "flags", 2, "rules", 0, "clauses", 0)["op"] = "betwen"
		}, "/flags/2/rules/0/clauses/0/op"},
		{"serve with both variation and rollout", func(d map[string]any) {
			at(d, "flags", 0, "rules", 1)["variation"] = n("1")
		}, "/flags/0/rules/1"},
		{"fallthrough with both variation and rollout", func(d map[string]any) {
			at(d, "flags", 1, "fallthrough")["variation"] = n("0")
		}, "/flags/1/fallthrough"},
		{"rule serving nothing", func(d map[string]any) {
			delete(at(d, "flags", 0, "rules", 0), "variation")
		}, "/flags/0/rules/0"},
		{"clause without attribute", func(d map[string]any) {
			delete(at(d, "flags", 0, "rules", 0, "clauses", 0), "attribute")
		}, "/flags/0/rules/0/clauses/0"},
		{"clause without op", func(d map[string]any) {
			delete(at(d, "flags", 0, "rules", 0, "clauses", 0), "op")
		}, "/flags/0/rules/0/clauses/0"},
		{"equals with two values", func(d map[string]any) {
			at(d, "segments", 0, "rules", 1, "clauses", 0)["values"] = []any{true, false}
		}, "/segments/0/rules/1/clauses/0/values"},
		{"lt with a string value", func(d map[string]any) {
			at(d, "flags", 2, "rules", 1, "clauses", 0)["values"] = []any{"seven"}
		}, "/flags/2/rules/1/clauses/0/values/0"},
		{"inSegment in a segment rule", func(d map[string]any) {
			c := at(d, "segments", 0, "rules", 0, "clauses", 0)
			c["op"], c["values"] = "inSegment", []any{"enterprise-accounts"}
		}, "/segments/0/rules/0/clauses/0/op"},
		{"flag without fallthrough", func(d map[string]any) { delete(at(d, "flags", 3), "fallthrough") }, "/flags/3"},
		{"flag without key", func(d map[string]any) { delete(at(d, "flags", 3), "key") }, "/flags/3"},
		{"empty flag key", func(d map[string]any) { at(d, "flags", 3)["key"] = "" }, "/flags/3/key"},
		{"empty variations", func(d map[string]any) { at(d, "flags", 0)["variations"] = []any{} }, "/flags/0/variations"},
		{"mixed variation kinds", func(d map[string]any) {
			at(d, "flags", 0)["variations"] = []any{false, "true"}
		}, "/flags/0/variations"},
		{"unknown flag type", func(d map[string]any) { at(d, "flags", 0)["type"] = "feature" }, "/flags/0/type"},
		{"negative variation index", func(d map[string]any) {
			at(d, "flags", 0, "targets", 0)["variation"] = n("-1")
		}, "/flags/0/targets/0/variation"},
		{"percentageOfTime 100001", func(d map[string]any) {
			at(d, "flags", 9)["percentageOfTime"] = n("100001")
		}, "/flags/9/percentageOfTime"},
		{"bad timestamp", func(d map[string]any) { at(d, "flags", 0)["createdAt"] = "yesterday" }, "/flags/0/createdAt"},
		{"bad schedule timestamp", func(d map[string]any) {
			at(d, "flags", 5, "schedule")["notAfter"] = "2026-12-01"
		}, "/flags/5/schedule/notAfter"},
		{"unknown match mode", func(d map[string]any) { at(d, "flags", 2, "rules", 2)["match"] = "some" }, "/flags/2/rules/2/match"},
		{"prerequisite without variations", func(d map[string]any) {
			delete(at(d, "flags", 7, "prerequisites", 0), "variations")
		}, "/flags/7/prerequisites/0"},
		{"segment included not a string", func(d map[string]any) {
			at(d, "segments", 0)["included"] = []any{"user-1", "user-2", n("3")}
		}, "/segments/0/included/2"},
		{"segment without key", func(d map[string]any) { delete(at(d, "segments", 1), "key") }, "/segments/1"},
		{"empty environment", func(d map[string]any) { d["environment"] = "" }, "/environment"},
		{"equals with no values", func(d map[string]any) {
			at(d, "segments", 0, "rules", 1, "clauses", 0)["values"] = []any{}
		}, "/segments/0/rules/1/clauses/0/values"},
		{"in without values", func(d map[string]any) {
			delete(at(d, "flags", 0, "rules", 1, "clauses", 0), "values")
		}, "/flags/0/rules/1/clauses/0"},
		{"clause values not an array", func(d map[string]any) {
			at(d, "flags", 0, "rules", 1, "clauses", 0)["values"] = "pro"
		}, "/flags/0/rules/1/clauses/0/values"},
		{"in with a null value", func(d map[string]any) {
			at(d, "flags", 0, "rules", 1, "clauses", 0)["values"] = []any{"pro", nil}
		}, "/flags/0/rules/1/clauses/0/values/1"},
		{"before with a fractional epoch", func(d map[string]any) {
			at(d, "flags", 5, "rules", 1, "clauses", 0)["values"] = []any{n("1793491200000.5")}
		}, "/flags/5/rules/1/clauses/0/values/0"},
		{"empty bucketBy", func(d map[string]any) {
			at(d, "flags", 8, "fallthrough", "rollout")["bucketBy"] = ""
		}, "/flags/8/fallthrough/rollout/bucketBy"},
		{"empty segment key", func(d map[string]any) { at(d, "segments", 1)["key"] = "" }, "/segments/1/key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := sch.Validate(mutate(t, example, tc.edit))
			if err == nil {
				t.Fatalf("schema accepted the document")
			}
			var verr *jsonschema.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			locs := leafLocations(verr)
			for _, l := range locs {
				if l == tc.loc || strings.HasPrefix(l, strings.TrimSuffix(tc.loc, "/")+"/") {
					return
				}
			}
			t.Errorf("no error at or under %s; got %v\n%v", tc.loc, locs, err)
		})
	}
}

// TestSchemaAcceptsValid checks documents that are valid although
// they are not the example: minimal snapshots and unknown fields, which the
// engine ignores.
func TestSchemaAcceptsValid(t *testing.T) {
	sch := compileSnapshotSchema(t)
	example, err := os.ReadFile(filepath.Join("testdata", "example.json"))
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]any{
		"minimal": map[string]any{"environment": "dev", "version": json.Number("0")},
		"unknown fields everywhere": mutate(t, example, func(d map[string]any) {
			d["generatedBy"] = "vexild 2.0"
			at(d, "flags", 0)["lifecycleStage"] = "ga"
			at(d, "flags", 0, "rules", 1)["weightAttribute"] = "seats"
			at(d, "flags", 0, "rules", 1, "clauses", 0)["caseInsensitive"] = true
			at(d, "flags", 0, "rules", 1, "rollout")["hashVersion"] = json.Number("2")
			at(d, "segments", 0)["unbounded"] = false
		}),
		"inSegment clause without attribute": mutate(t, example, func(d map[string]any) {
			delete(at(d, "flags", 10, "rules", 0, "clauses", 0), "attribute")
		}),
		"in with no values (matches nothing)": mutate(t, example, func(d map[string]any) {
			at(d, "flags", 0, "rules", 1, "clauses", 0)["values"] = []any{}
		}),
		"target without values": mutate(t, example, func(d map[string]any) {
			delete(at(d, "flags", 0, "targets", 1), "values")
		}),
		"exists with junk values (ignored)": mutate(t, example, func(d map[string]any) {
			at(d, "segments", 2, "rules", 0, "clauses", 0)["values"] = "ignored"
		}),
		"schemaVersion 1.0 and lowercase t/z timestamps": mutate(t, example, func(d map[string]any) {
			d["schemaVersion"] = json.Number("1.0")
			at(d, "flags", 0)["createdAt"] = "2026-10-01t09:00:00.250z"
		}),
		"exists with no values and JSON null/array variations": map[string]any{
			"environment": "test", "version": json.Number("1"),
			"flags": []any{map[string]any{
				"key":        "f",
				"variations": []any{nil, []any{json.Number("1")}, map[string]any{}},
				"rules": []any{map[string]any{
					"clauses":   []any{map[string]any{"attribute": "a", "op": "exists"}},
					"variation": json.Number("2"),
				}},
				"fallthrough": map[string]any{"variation": json.Number("0")},
			}},
		},
	}
	for name, doc := range docs {
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s: rejected:\n%v", name, err)
		}
	}
}
