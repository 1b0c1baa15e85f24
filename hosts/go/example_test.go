package vexil_test

import (
	"context"
	"fmt"
	"log"

	vexil "github.com/vexil-flags/vexil/hosts/go"
)

const flags = `{"environment": "demo", "version": 3, "flags": [
  {"key": "new-checkout", "enabled": true, "variations": [false, true], "offVariation": 0,
   "rules": [{"id": "pro", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}], "variation": 1}],
   "fallthrough": {"variation": 0}},
  {"key": "theme", "enabled": true, "variations": ["light", "dark"], "fallthrough": {"variation": 1}}]}`

// A Handle binds one request's context and checks many flags with it.
func ExampleClient_For() {
	client, err := vexil.New(context.Background(), vexil.WithSnapshot([]byte(flags)))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	req := client.For(vexil.Context{TargetingKey: "user-42", Attributes: map[string]any{"plan": "pro"}})
	fmt.Println(req.Bool("new-checkout", false), req.String("theme", "light"))

	on, d := req.BoolDetail("no-such-flag", false)
	fmt.Println(on, d.Reason, d.ErrorCode)
	// Output:
	// true dark
	// false ERROR FLAG_NOT_FOUND
}

// Detail says why a value was served.
func ExampleHandle_BoolDetail() {
	client, err := vexil.New(context.Background(), vexil.WithSnapshot([]byte(flags)), vexil.WithEngine(vexil.EngineNative))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	on, d := client.For(vexil.Context{TargetingKey: "user-42", Attributes: map[string]any{"plan": "pro"}}).BoolDetail("new-checkout", false)
	fmt.Println(on, d.Reason, d.RuleID, d.Variation, d.Version)
	// Output: true TARGETING_MATCH pro 1 3
}
