// Command vexil is Vexil's command line: it validates snapshots and evaluates flags locally,
// runs the sync daemon (serve), and manages flags, segments and environments through the
// daemon's admin API (flag, segment, env, audit, explain; see sync/README.md).
//
// Exit codes: 0 success, 1 the input has problems (validate) or could not be used, 2 usage;
// the client verbs add 3 not found, 4 conflict (exists, or a stale --if-match), 5 refused as
// invalid (the daemon names the field), 6 missing or wrong admin token.
package main

import (
	"fmt"
	"io"
	"os"
)

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"eval", "evaluate flags of a snapshot for a context", runEval},
	{"validate", "check a snapshot and print every problem with its path", runValidate},
	{"serve", "run the sync daemon (Redis store, admin API, ops endpoints)", runServe},
	{"flag", "manage flags through the daemon: list, get, create, enable, rollout, kill, ...", runFlag},
	{"segment", "manage segments through the daemon", runSegment},
	{"env", "manage environments and their SDK keys", runEnv},
	{"audit", "read an environment's change log", runAudit},
	{"explain", "show why a context gets a flag's value", runExplain},
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "vexil: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vexil <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'vexil <command> -h' for a command's flags.")
}
