package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vexil-flags/vexil/sync/client"
	"github.com/vexil-flags/vexil/sync/flagdoc"
)

// Exit codes of the client verbs, so scripts can tell outcomes apart.
const (
	exitOK           = 0
	exitFailure      = 1 // network, server error, anything else
	exitUsage        = 2
	exitNotFound     = 3 // 404
	exitConflict     = 4 // 409 exists / conflicting state, 412 stale If-Match
	exitInvalid      = 5 // 400, 413: the daemon refused the input, naming the field
	exitUnauthorized = 6 // 401: missing or wrong admin token
)

// remote is the shared state of a client verb: its flag set, the connection flags, output.
type remote struct {
	name           string
	fs             *flag.FlagSet
	server, token  *string
	env            *string
	jsonOut        *bool
	stdout, stderr io.Writer
	args           []string // positional arguments
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// newRemote makes the flag set of a client verb with the connection flags. withEnv adds
// --env (verbs about one environment's flags, segments, audit and explain).
func newRemote(name, usage string, withEnv bool, stdout, stderr io.Writer) *remote {
	r := &remote{name: name, fs: flag.NewFlagSet(name, flag.ContinueOnError), stdout: stdout, stderr: stderr}
	r.fs.SetOutput(stderr)
	r.server = r.fs.String("server", getenv("VEXIL_URL", "http://127.0.0.1:8470"), "daemon `URL` (env VEXIL_URL)")
	r.token = r.fs.String("token", os.Getenv("VEXIL_ADMIN_TOKEN"), "admin `TOKEN` (env VEXIL_ADMIN_TOKEN)")
	if withEnv {
		r.env = r.fs.String("env", getenv("VEXIL_ENV", "production"), "`ENVIRONMENT` (env VEXIL_ENV)")
	}
	r.jsonOut = r.fs.Bool("json", false, "print the daemon's JSON instead of a table")
	r.fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: vexil %s\n\nflags:\n", usage)
		r.fs.PrintDefaults()
	}
	return r
}

// parse reads flags anywhere among the arguments (vexil flag pin KEY u1 --variation 1) and
// checks the number of positional arguments: exactly min when max is min, at least min when
// max is -1.
func (r *remote) parse(args []string, min, max int) bool {
	var pos []string
	for {
		// A negative number is an argument (flag rollout KEY -5), not a flag.
		if len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && (args[0][1] >= '0' && args[0][1] <= '9' || args[0][1] == '.') {
			pos = append(pos, args[0])
			args = args[1:]
			continue
		}
		if err := r.fs.Parse(args); err != nil {
			return false
		}
		args = r.fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	r.args = pos
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		r.fs.Usage()
		return false
	}
	return true
}

func (r *remote) client() *client.Client {
	c := client.New(*r.server, *r.token)
	c.Actor = getenv("VEXIL_ACTOR", "")
	if c.Actor == "" {
		if u, err := user.Current(); err == nil {
			c.Actor = u.Username
		}
	}
	return c
}

func (r *remote) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 60*time.Second)
}

// usageError reports a bad argument and returns the usage exit code.
func (r *remote) usageError(format string, a ...any) int {
	fmt.Fprintf(r.stderr, "vexil %s: "+format+"\n", append([]any{r.name}, a...)...)
	return exitUsage
}

// fail prints an error (with the daemon's field errors) and returns its exit code.
func (r *remote) fail(err error) int {
	var e *client.Error
	if !errors.As(err, &e) {
		fmt.Fprintf(r.stderr, "vexil %s: %v\n", r.name, err)
		return exitFailure
	}
	fmt.Fprintf(r.stderr, "vexil %s: %s\n", r.name, e.Error())
	if len(e.Fields) > 1 || (len(e.Fields) == 1 && !strings.Contains(e.Message, e.Fields[0].Field)) {
		for _, f := range e.Fields {
			fmt.Fprintf(r.stderr, "  %s\n", f.String())
		}
	}
	switch {
	case e.Status == 401 || e.Status == 403:
		return exitUnauthorized
	case e.Status == 404:
		return exitNotFound
	case e.Status == 409 || e.Status == 412:
		return exitConflict
	case e.Status == 400 || e.Status == 413 || e.Status == 422:
		return exitInvalid
	}
	return exitFailure
}

// output prints v as indented JSON with --json, else calls table.
func (r *remote) output(v any, table func(w *tabwriter.Writer)) int {
	if *r.jsonOut {
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintf(r.stdout, "%s\n", b)
		return exitOK
	}
	tw := tabwriter.NewWriter(r.stdout, 0, 4, 2, ' ', 0)
	table(tw)
	_ = tw.Flush()
	return exitOK
}

// ifMatchFlag adds --if-match VERSION; the function it returns gives the version, or nil
// when the flag was not set.
func (r *remote) ifMatchFlag() func() *uint64 {
	match := r.fs.Int64("if-match", -1, "apply only if the environment is still at `VERSION`")
	return func() *uint64 {
		if *match < 0 {
			return nil
		}
		v := uint64(*match)
		return &v
	}
}

// readDoc reads a flag or segment document from a file (- for stdin) strictly into v, so a
// typo fails here, with its path, before anything is sent.
func readDoc(name string, v any) error {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return err
	}
	if err := flagdoc.Decode(data, v, ""); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// readJSONArg reads a JSON argument given inline, as @FILE, or - for stdin.
func readJSONArg(s string) ([]byte, error) {
	switch {
	case s == "-":
		return io.ReadAll(os.Stdin)
	case strings.HasPrefix(s, "@"):
		return os.ReadFile(s[1:])
	}
	return []byte(s), nil
}
