package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func snapshot(version string, enabled string) []byte {
	return []byte(`{"environment": "demo", "version": ` + version + `, "flags": [
	  {"key": "new-checkout", "enabled": ` + enabled + `, "variations": [false, true], "offVariation": 0,
	   "rules": [{"id": "pro", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}], "variation": 1}],
	   "fallthrough": {"variation": 0}}]}`)
}

// TestExample builds the README's program, runs it on a snapshot file, flips the flag in the
// file, and expects the new answer printed within 5 s; then stops it with an interrupt.
func TestExample(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "example")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "flags.json")
	if err := os.WriteFile(path, snapshot("1", "false"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-snapshot", path)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "HOME="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got, ok := <-lines:
			if !ok {
				t.Fatalf("program ended before printing %q; stderr: %s", want, stderr.String())
			}
			if got != want {
				t.Fatalf("printed %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("nothing printed within 5s, want %q", want)
		}
	}
	expect("new-checkout=false version=1 reason=DISABLED")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, snapshot("2", "true"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	expect("new-checkout=true version=2 reason=TARGETING_MATCH")
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after interrupt: %v; stderr: %s", err, stderr.String())
	}
}
