package admin_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/vexil-flags/vexil/sync/admin"
)

// Every schema of the OpenAPI document compiles (so every $ref resolves), and the worked
// example's flags and segments are valid request bodies by it.
func TestOpenAPISchemas(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(admin.OpenAPI()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	const id = "https://vexil.invalid/openapi.json"
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(admin.OpenAPI(), &parsed); err != nil {
		t.Fatal(err)
	}
	schemas := map[string]*jsonschema.Schema{}
	for name := range parsed.Components.Schemas {
		s, err := c.Compile(id + "#/components/schemas/" + name)
		if err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		schemas[name] = s
	}
	data, err := os.ReadFile("../../core/testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	var example struct {
		Flags, Segments []json.RawMessage
	}
	_ = json.Unmarshal(data, &example)
	for name, docs := range map[string][]json.RawMessage{"flag": example.Flags, "segment": example.Segments} {
		for _, d := range docs {
			v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(d))
			if err := schemas[name].Validate(v); err != nil {
				t.Errorf("%s %.40s: %v", name, d, err)
			}
		}
	}
	// Every route the API serves is documented.
	for _, route := range []string{"/environments/{env}/flags/{key}/{verb}", "/environments/{env}/kill", "/environments/{env}/audit",
		"/environments/{env}/explain", "/environments/{env}/flags/{key}/plan/{step}", "/environments/{env}/keys/{kind}/rotate"} {
		if parsed.Paths[route] == nil {
			t.Errorf("route %s undocumented", route)
		}
	}
	if !strings.Contains(string(admin.OpenAPI()), `"bearer"`) {
		t.Error("no bearer security scheme")
	}
}
