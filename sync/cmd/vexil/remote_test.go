package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vexil-flags/vexil/internal/redistest"
)

const adminToken = "cli-test-token-0123456789"

// serveForTest runs `vexil serve` (its main logic, in this process) against a real Redis and
// points the client verbs at it through VEXIL_* variables. stop sends SIGTERM and returns
// serve's exit code and stderr.
func serveForTest(t *testing.T) (stop func() (int, string)) {
	t.Helper()
	r := redistest.Start(t)
	addr := make(chan net.Addr, 1)
	serveReady = func(a net.Addr) { addr <- a }
	t.Cleanup(func() { serveReady = nil })
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"serve", "--redis", r.URL(), "--listen", "127.0.0.1:0", "--admin-token", "ci=" + adminToken}, os.Stdout, &stderr)
	}()
	var a net.Addr
	select {
	case a = <-addr:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start listening")
	}
	t.Setenv("VEXIL_URL", "http://"+a.String())
	t.Setenv("VEXIL_ADMIN_TOKEN", adminToken)
	t.Setenv("VEXIL_ENV", "production")
	t.Setenv("VEXIL_ACTOR", "cli-tester")
	stopped := false
	stop = func() (int, string) {
		stopped = true
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
		select {
		case code := <-done:
			return code, stderr.String()
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop on SIGTERM")
		}
		return -1, ""
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	return stop
}

// ok runs a verb that must succeed and returns its stdout.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := vexil(t, args...)
	if code != 0 {
		t.Fatalf("vexil %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// fails runs a verb that must exit with code and mention want on stderr.
func fails(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	got, _, errOut := vexil(t, args...)
	if got != code || !strings.Contains(errOut, want) {
		t.Errorf("vexil %s: exit %d, stderr %q; want exit %d mentioning %q", strings.Join(args, " "), got, errOut, code, want)
	}
}

func jsonOf(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
}

func TestCLIAgainstDaemon(t *testing.T) {
	stop := serveForTest(t)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Environments.
	out := ok(t, "env", "create", "production", "--description", "live")
	if !strings.Contains(out, "server key") || !strings.Contains(out, "vx_server_") {
		t.Fatalf("env create: %s", out)
	}
	fails(t, exitConflict, "already exists", "env", "create", "production")
	fails(t, exitInvalid, "key", "env", "create", "Bad{Name}")
	ok(t, "env", "create", "staging")
	var envs struct {
		Environments []struct{ Key string } `json:"environments"`
	}
	jsonOf(t, ok(t, "env", "list", "--json"), &envs)
	if len(envs.Environments) != 2 || envs.Environments[0].Key != "production" {
		t.Fatalf("env list: %+v", envs)
	}
	var keys struct {
		SDKKeys struct{ Server, Client string } `json:"sdkKeys"`
	}
	jsonOf(t, ok(t, "env", "keys", "production", "--json"), &keys)
	var rotated struct {
		SDKKeys struct{ Server, Client string } `json:"sdkKeys"`
	}
	jsonOf(t, ok(t, "env", "rotate", "production", "client", "--json"), &rotated)
	if rotated.SDKKeys.Client == keys.SDKKeys.Client || rotated.SDKKeys.Server != keys.SDKKeys.Server {
		t.Fatalf("rotate: %+v → %+v", keys, rotated)
	}
	fails(t, exitUsage, "want server or client", "env", "rotate", "production", "admin")
	if out := ok(t, "env", "import", "production", example); !strings.Contains(out, "imported 11 flags and 3 segments") {
		t.Fatalf("import: %s", out)
	}
	if out := ok(t, "env", "get", "production"); !regexp.MustCompile(`flags +11\n`).MatchString(out) {
		t.Fatalf("env get: %s", out)
	}
	if out := ok(t, "env", "snapshot", "production"); !strings.Contains(out, `"environment":"production","version":1`) {
		t.Fatalf("snapshot: %.100s", out)
	}
	fails(t, exitUsage, "add --yes", "env", "delete", "staging")
	ok(t, "env", "delete", "staging", "--yes")
	fails(t, exitNotFound, "not found", "env", "get", "staging")

	// Flags: table and JSON.
	out = ok(t, "flag", "list", "--tag", "checkout")
	if !strings.Contains(out, "KEY") || !strings.Contains(out, "new-checkout") || strings.Contains(out, "search-page-size") {
		t.Fatalf("flag list --tag: %s", out)
	}
	var list struct {
		Flags []struct{ Key string } `json:"flags"`
	}
	jsonOf(t, ok(t, "flag", "list", "--type", "ops", "--json"), &list)
	if len(list.Flags) != 3 {
		t.Fatalf("flag list --type ops: %+v", list)
	}
	ok(t, "flag", "create", "dark-mode", "--description", "Dark theme", "--tags", "web,ui")
	var st struct {
		Version uint64 `json:"version"`
		Flag    struct {
			Key         string   `json:"key"`
			Enabled     bool     `json:"enabled"`
			Tags        []string `json:"tags"`
			Description string   `json:"description"`
			Fallthrough struct {
				Variation *int `json:"variation"`
				Rollout   *struct {
					Variations []struct{ Variation, Weight int } `json:"variations"`
				} `json:"rollout"`
			} `json:"fallthrough"`
			Targets []struct {
				Variation int      `json:"variation"`
				Values    []string `json:"values"`
			} `json:"targets"`
			Schedule *struct{ NotBefore string } `json:"schedule"`
		} `json:"flag"`
		Archived bool                 `json:"archived"`
		Plan     *struct{ Stage int } `json:"plan"`
	}
	get := func(args ...string) {
		t.Helper()
		st.Plan = nil
		st.Flag.Schedule = nil
		st.Flag.Targets = nil
		st.Flag.Fallthrough.Rollout = nil
		jsonOf(t, ok(t, append(args, "--json")...), &st)
	}
	get("flag", "get", "dark-mode")
	if st.Flag.Enabled || st.Flag.Description != "Dark theme" || len(st.Flag.Tags) != 2 {
		t.Fatalf("created flag: %+v", st.Flag)
	}
	fails(t, exitConflict, "already exists", "flag", "create", "dark-mode")
	get("flag", "enable", "dark-mode")
	if !st.Flag.Enabled {
		t.Fatal("enable")
	}
	get("flag", "disable", "dark-mode")
	if st.Flag.Enabled {
		t.Fatal("disable")
	}
	get("flag", "toggle", "dark-mode")
	if !st.Flag.Enabled {
		t.Fatal("toggle")
	}
	get("flag", "rollout", "dark-mode", "20")
	if ro := st.Flag.Fallthrough.Rollout; ro == nil || ro.Variations[0].Weight != 20000 {
		t.Fatalf("rollout 20: %+v", ro)
	}
	get("flag", "rollout", "dark-mode", "+5")
	if ro := st.Flag.Fallthrough.Rollout; ro.Variations[0].Weight != 25000 {
		t.Fatalf("rollout +5: %+v", ro)
	}
	get("flag", "rollout", "dark-mode", "-2.5%")
	if ro := st.Flag.Fallthrough.Rollout; ro.Variations[0].Weight != 22500 {
		t.Fatalf("rollout -2.5: %+v", ro)
	}
	fails(t, exitInvalid, "percent", "flag", "rollout", "dark-mode", "120")
	fails(t, exitUsage, "PERCENT", "flag", "rollout", "dark-mode", "lots")
	get("flag", "pin", "dark-mode", "ana", "bo")
	if len(st.Flag.Targets) != 1 || st.Flag.Targets[0].Variation != 1 || len(st.Flag.Targets[0].Values) != 2 {
		t.Fatalf("pin: %+v", st.Flag.Targets)
	}
	get("flag", "block", "dark-mode", "bo")
	if len(st.Flag.Targets) != 2 || st.Flag.Targets[1].Variation != 0 || st.Flag.Targets[1].Values[0] != "bo" {
		t.Fatalf("block: %+v", st.Flag.Targets)
	}
	get("flag", "unpin", "dark-mode", "ana", "bo")
	if len(st.Flag.Targets) != 0 {
		t.Fatalf("unpin: %+v", st.Flag.Targets)
	}
	get("flag", "schedule", "dark-mode", "--not-before", "2026-12-01T00:00:00Z")
	if st.Flag.Schedule == nil || st.Flag.Schedule.NotBefore != "2026-12-01T00:00:00Z" {
		t.Fatalf("schedule: %+v", st.Flag.Schedule)
	}
	fails(t, exitInvalid, "schedule.notAfter", "flag", "schedule", "dark-mode", "--not-after", "someday")
	get("flag", "schedule", "dark-mode")
	if st.Flag.Schedule != nil {
		t.Fatal("schedule not cleared")
	}
	get("flag", "plan", "dark-mode", "set", "1,10,50,100")
	if st.Plan == nil || st.Plan.Stage != -1 {
		t.Fatalf("plan set: %+v", st.Plan)
	}
	get("flag", "plan", "dark-mode", "advance")
	get("flag", "plan", "dark-mode", "advance")
	if st.Plan.Stage != 1 || st.Flag.Fallthrough.Rollout.Variations[0].Weight != 10000 {
		t.Fatalf("plan advance: %+v %+v", st.Plan, st.Flag.Fallthrough.Rollout)
	}
	get("flag", "plan", "dark-mode", "rollback")
	if st.Plan.Stage != 0 || st.Flag.Fallthrough.Rollout.Variations[0].Weight != 1000 {
		t.Fatalf("plan rollback: %+v", st.Plan)
	}
	if out := ok(t, "flag", "plan", "dark-mode", "show"); !strings.Contains(out, "at stage 1 of 4") {
		t.Fatalf("plan show: %s", out)
	}
	ok(t, "flag", "plan", "dark-mode", "delete")
	fails(t, exitUsage, "unknown plan step", "flag", "plan", "dark-mode", "jump")

	// Update from a file, with a stale --if-match and a fresh one.
	doc := `{"key":"dark-mode","enabled":true,"variations":[false,true],"offVariation":0,"fallthrough":{"variation":1},"description":"v2","tags":["web"]}`
	fails(t, exitConflict, "stale", "flag", "update", "--file", file("f.json", doc), "--if-match", "1")
	get("flag", "get", "dark-mode")
	get("flag", "update", "--file", file("f.json", doc), "--if-match", jsonNumber(st.Version))
	if st.Flag.Description != "v2" {
		t.Fatalf("update: %+v", st.Flag)
	}
	fails(t, exitInvalid, "rules[0].clauses[0].op", "flag", "update", "--file",
		file("bad.json", `{"key":"dark-mode","variations":[true],"fallthrough":{"variation":0},"rules":[{"clauses":[{"attribute":"a","op":"betwen","values":[1]}],"variation":0}]}`))
	fails(t, exitInvalid, "enabeld: unknown field", "flag", "create", "--file", file("typo.json", `{"key":"x","enabeld":true,"variations":[true],"fallthrough":{"variation":0}}`))
	ok(t, "flag", "create", "--file", file("new.json", `{"key":"from-file","tags":["web"],"enabled":true,"variations":["a","b"],"fallthrough":{"variation":1}}`))

	// Archive, kill, delete.
	get("flag", "archive", "from-file")
	if !st.Archived {
		t.Fatal("archive")
	}
	jsonOf(t, ok(t, "flag", "list", "--archived", "--json"), &list)
	if len(list.Flags) != 1 || list.Flags[0].Key != "from-file" {
		t.Fatalf("archived list: %+v", list)
	}
	get("flag", "unarchive", "from-file")
	if st.Archived {
		t.Fatal("unarchive")
	}
	var killed struct {
		Version uint64   `json:"version"`
		Flags   []string `json:"flags"`
	}
	jsonOf(t, ok(t, "flag", "kill", "--tag", "web", "--json"), &killed)
	if strings.Join(killed.Flags, " ") != "black-friday-banner dark-mode from-file new-checkout" {
		t.Fatalf("kill: %+v", killed)
	}
	fails(t, exitNotFound, "no active flag matches", "flag", "kill", "--prefix", "zzz")
	fails(t, exitUsage, "exactly one", "flag", "kill")
	ok(t, "flag", "delete", "from-file")
	fails(t, exitNotFound, "not found", "flag", "get", "from-file")
	fails(t, exitNotFound, "not found", "flag", "enable", "from-file")
	fails(t, exitInvalid, `flags["express-pay"].prerequisites[1].flag`, "flag", "delete", "payments-provider")

	// Segments.
	ok(t, "segment", "create", "vip", "--description", "VIPs")
	out = ok(t, "segment", "add", "vip", "u1", "u2")
	if !strings.Contains(out, "u1, u2") {
		t.Fatalf("segment add: %s", out)
	}
	out = ok(t, "segment", "add", "vip", "u2", "--excluded")
	if !regexp.MustCompile(`excluded +u2\n`).MatchString(out) {
		t.Fatalf("segment add --excluded: %s", out)
	}
	ok(t, "segment", "remove", "vip", "u2", "--excluded")
	ok(t, "segment", "update", "--file", file("s.json", `{"key":"vip","included":["z"]}`))
	if out := ok(t, "segment", "get", "vip"); !regexp.MustCompile(`included +z\n`).MatchString(out) {
		t.Fatalf("segment get: %s", out)
	}
	if out := ok(t, "segment", "list"); !strings.Contains(out, "vip") || !strings.Contains(out, "beta-testers") {
		t.Fatalf("segment list: %s", out)
	}
	fails(t, exitInvalid, "unknown segment", "segment", "delete", "beta-testers")
	ok(t, "segment", "delete", "vip")
	fails(t, exitNotFound, "not found", "segment", "get", "vip")

	// Audit and explain.
	var audit struct {
		Entries []struct {
			Version uint64 `json:"version"`
			Actor   string `json:"actor"`
			Action  string `json:"action"`
		} `json:"entries"`
	}
	jsonOf(t, ok(t, "audit", "--flag", "dark-mode", "--limit", "3", "--json"), &audit)
	if len(audit.Entries) != 3 || audit.Entries[0].Action != "flag.kill" || audit.Entries[0].Actor != "ci/cli-tester" {
		t.Fatalf("audit: %+v", audit)
	}
	jsonOf(t, ok(t, "audit", "--actor", "ci/cli-tester", "--since", "1h", "--oldest", "--json"), &audit)
	if len(audit.Entries) < 20 || audit.Entries[0].Action != "env.import" {
		t.Fatalf("audit by actor: %d entries, first %+v", len(audit.Entries), audit.Entries[0])
	}
	if out := ok(t, "audit", "--limit", "1"); !strings.Contains(out, "segment.delete") {
		t.Fatalf("audit table: %s", out)
	}
	fails(t, exitUsage, "--since", "audit", "--since", "last week")
	out = ok(t, "explain", "--flag", "checkout-button-color", "--context", `{"targetingKey":"u1","email":"qa+x@example.com"}`)
	if !strings.Contains(out, `checkout-button-color = "orange" (variation 2, TARGETING_MATCH, rule qa-accounts)`) || !strings.Contains(out, "yes  clause") {
		t.Fatalf("explain: %s", out)
	}
	var all struct {
		Results []json.RawMessage `json:"results"`
	}
	jsonOf(t, ok(t, "explain", "--context", "@"+file("ctx.json", `{"targetingKey":"u1"}`), "--now", "2026-11-23T00:00:00Z", "--random", "1", "--json"), &all)
	if len(all.Results) != 12 { // the example's 11 and dark-mode
		t.Fatalf("explain all: %d results", len(all.Results))
	}
	fails(t, exitInvalid, "context.plan", "explain", "--flag", "new-checkout", "--context", `{"plan":{}}`)

	// Auth and transport failures have their own exit codes.
	fails(t, exitUnauthorized, "admin token", "flag", "list", "--token", "wrong-token-0123456789")
	fails(t, exitFailure, "connection refused", "flag", "list", "--server", "http://127.0.0.1:1")
	fails(t, exitUsage, "unknown verb", "flag", "frobnicate")

	// SIGTERM stops serve gracefully.
	code, log := stop()
	if code != 0 || !strings.Contains(log, "shutting down") || !strings.Contains(log, "stopped") {
		t.Fatalf("serve after SIGTERM: exit %d\n%s", code, log)
	}
	if _, err := http.Get(os.Getenv("VEXIL_URL") + "/healthz"); err == nil {
		t.Fatal("daemon still answers after SIGTERM")
	}
}

func jsonNumber(v uint64) string { b, _ := json.Marshal(v); return string(b) }

func TestServeConfigErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--admin-token", "short"}, "shorter than 16 bytes"},
		{[]string{"serve", "--admin-token", ""}, "no admin token"},
		{[]string{"serve", "--admin-token", "0123456789abcdef0", "--redis", "http://x"}, `unknown scheme "http"`},
		{[]string{"serve", "--admin-token", "0123456789abcdef0", "--redis", "redis-sentinel://h:1"}, "master_name"},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
	} {
		t.Setenv("VEXIL_ADMIN_TOKEN", "")
		code, _, errOut := vexil(t, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.want)
		}
	}
	// A port in use is a failure to serve, not a usage error.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	code, _, errOut := vexil(t, "serve", "--admin-token", "0123456789abcdef0", "--listen", l.Addr().String())
	if code != exitFailure || !strings.Contains(errOut, "address already in use") {
		t.Errorf("port in use: exit %d, %q", code, errOut)
	}
}

// SIGTERM lets a request in flight finish: its body arrives after the signal, and it is still
// answered (and applied) before serve exits.
func TestServeDrainsRequestsInFlight(t *testing.T) {
	stop := serveForTest(t)
	ok(t, "env", "create", "production")
	body, bodyW := io.Pipe()
	req, _ := http.NewRequest("POST", os.Getenv("VEXIL_URL")+"/api/v1/environments/production/flags", body)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	type result struct {
		status int
		err    error
	}
	answered := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- result{0, err}
			return
		}
		resp.Body.Close()
		answered <- result{resp.StatusCode, nil}
	}()
	if _, err := bodyW.Write([]byte(`{"key":"late","variations":[true],`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server has the headers and half the body
	stopped := make(chan int, 1)
	go func() { code, _ := stop(); stopped <- code }()
	time.Sleep(300 * time.Millisecond)
	select {
	case code := <-stopped:
		t.Fatalf("serve exited (%d) with a request in flight", code)
	default:
	}
	if _, err := bodyW.Write([]byte(`"fallthrough":{"variation":0}}`)); err != nil {
		t.Fatal(err)
	}
	bodyW.Close()
	if res := <-answered; res.err != nil || res.status != http.StatusCreated {
		t.Fatalf("request in flight: %d %v", res.status, res.err)
	}
	if code := <-stopped; code != 0 {
		t.Fatalf("serve exit %d", code)
	}
}
