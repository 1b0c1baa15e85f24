// Command example checks a flag and checks it again whenever the snapshot file changes.
//
//	go run github.com/vexil-flags/vexil/hosts/go/example -snapshot flags.json
//
// Edit flags.json (say, flip "enabled" of new-checkout and raise "version"): the new answer is
// printed within a second. It is the program of hosts/go/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	vexil "github.com/vexil-flags/vexil/hosts/go"
)

func main() {
	path := flag.String("snapshot", "flags.json", "snapshot file to watch")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	client, err := vexil.New(ctx, vexil.WithSnapshotFile(*path))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	user := vexil.Context{TargetingKey: "user-42", Attributes: map[string]any{"plan": "pro"}}
	check := func() {
		on, d := client.BoolDetail(user, "new-checkout", false)
		fmt.Printf("new-checkout=%v version=%d reason=%s\n", on, d.Version, d.Reason)
	}
	check()
	client.OnChange(func(vexil.Change) { check() })
	<-ctx.Done()
}
