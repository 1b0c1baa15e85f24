// Command benchreport writes bench/RESULTS.md and its SVG charts from benchmark output:
//
//	go run ./bench/cmd/benchreport -o bench/RESULTS.md bench/out/*.txt
//
// Inputs are `go test -bench` output in the Go benchmark format, from Go or from any other
// runner that prints it (bench/README.md). Module sizes are measured from the module files
// (-modules); machine facts are read from the machine; versions from go.mod files and tools.
// `make bench` runs it last.
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vexil-flags/vexil/bench/report"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run() error {
	outPath := flag.String("o", "bench/RESULTS.md", "report file; charts go to charts/ beside it")
	modules := flag.String("modules", "dist/vexil.wasm,dist/vexil-go.wasm", "module files whose sizes the report gives (comma-separated)")
	tinygo := flag.String("tinygo", "", "TinyGo binary, asked for its version")
	settings := flag.String("settings", "", "how the benchmarks ran, e.g. \"5 runs (-count 5) of -benchtime 1s\"")
	command := flag.String("command", "make bench", "the command that reproduces the run")
	flag.Parse()
	if flag.NArg() == 0 {
		return fmt.Errorf("no input files (benchmark output)")
	}
	set := report.NewSet()
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = set.Parse(name, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	in := &report.Input{
		Set:      set,
		Command:  *command,
		Settings: *settings,
		ChartDir: "charts",
		Machine:  machine(set),
		Versions: versions(*tinygo, set),
	}
	if in.Settings == "" {
		in.Settings = "the runs in the input"
	}
	for _, m := range strings.Split(*modules, ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		size, err := moduleSize(m)
		if err != nil {
			return err
		}
		in.Sizes = append(in.Sizes, size)
	}
	if !has(set, "Evaluate/node/") && !has(set, "Evaluate/chromium/") {
		in.Pending = append(in.Pending, [2]string{"TinyGo module in Node and in headless Chromium",
			"Not in this run's input. bench/js/matrix.mjs runs the same matrix from bench/scenarios.json in Node and Chromium and prints " +
				"`BenchmarkEvaluate/node/<scenario>`, `BenchmarkEvaluate/chromium/<scenario>`, … into bench/out/js.txt; " +
				"with it, this report adds Node and Chromium rows to every table and chart. See bench/README.md."})
	}
	if !has(set, "Propagation/") {
		in.Pending = append(in.Pending, [2]string{"The daemon under load",
			"Not in this run's input: propagation time from an admin write to N SSE subscribers (p50/p99/max for N = 100, 1,000, 10,000; " +
				"sync/sdkapi BenchmarkPropagation, which make bench runs)."})
	}
	if !has(set, "SnapshotBuild/") {
		in.Pending = append(in.Pending, [2]string{"The daemon: snapshot build time",
			"Not in this run's input: sync/follow BenchmarkSnapshotBuild (1k/10k/100k flags), which make bench runs."})
	}
	out, err := report.Render(in)
	if err != nil {
		return err
	}
	dir := filepath.Dir(*outPath)
	if err := os.MkdirAll(filepath.Join(dir, in.ChartDir), 0o755); err != nil {
		return err
	}
	for name, svg := range out.Charts {
		if err := os.WriteFile(filepath.Join(dir, name), svg, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(*outPath, out.Markdown, 0o644); err != nil {
		return err
	}
	fmt.Printf("benchreport: wrote %s and %d charts\n", *outPath, len(out.Charts))
	return nil
}

func has(set *report.Set, prefix string) bool {
	for name := range set.Runs {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

func moduleSize(path string) (report.ModuleSize, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return report.ModuleSize{}, fmt.Errorf("module %s: %v (build it with ./build.sh wasm)", path, err)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	return report.ModuleSize{Name: filepath.Base(path), Raw: int64(len(data)), Gzip: int64(buf.Len())}, nil
}

func machine(set *report.Set) [][2]string {
	rows := [][2]string{{"date", time.Now().UTC().Format("2006-01-02 15:04 UTC")}}
	if c := cmdOut("git", "rev-parse", "--short", "HEAD"); c != "" {
		if cmdOut("git", "status", "--porcelain", "--untracked-files=no") != "" {
			c += " (with uncommitted changes)"
		}
		rows = append(rows, [2]string{"commit", c})
	}
	cpu := set.Config["cpu"]
	if cpu == "" {
		cpu = field("/proc/cpuinfo", "model name", ":")
	}
	rows = append(rows, [2]string{"CPU", cpu}, [2]string{"cores", fmt.Sprint(runtime.NumCPU())})
	if m := strings.TrimSuffix(field("/proc/meminfo", "MemTotal", ":"), " kB"); m != "" {
		if kb, err := strconv.ParseFloat(m, 64); err == nil {
			rows = append(rows, [2]string{"memory", fmt.Sprintf("%.1f GiB", kb/(1<<20))})
		}
	}
	osName := strings.Trim(field("/etc/os-release", "PRETTY_NAME", "="), `"`)
	if k, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		osName += ", Linux " + strings.TrimSpace(string(k))
	}
	rows = append(rows, [2]string{"OS", osName})
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		rows = append(rows, [2]string{"load average when written", strings.Join(strings.Fields(string(la))[:3], " ")})
	}
	return rows
}

func versions(tinygo string, set *report.Set) [][2]string {
	rows := [][2]string{{"Go", runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}}
	// Runners outside Go print their runtime's version as a header line (bench/js/matrix.mjs).
	for _, k := range []string{"node", "chromium"} {
		if v := set.Config[k]; v != "" {
			rows = append(rows, [2]string{k, v})
		}
	}
	if v := requireVersion("go.mod", "github.com/tetratelabs/wazero"); v != "" {
		rows = append(rows, [2]string{"wazero", v + " (compiler engine)"})
	}
	if tinygo != "" {
		if v := cmdOut(tinygo, "version"); v != "" {
			rows = append(rows, [2]string{"TinyGo", v})
		}
	}
	for _, p := range []struct{ name, mod string }{
		{"LaunchDarkly go-server-sdk-evaluation", "github.com/launchdarkly/go-server-sdk-evaluation/v3"},
		{"flagd core", "github.com/open-feature/flagd/core"},
		{"Unleash unleash-client-go", "github.com/Unleash/unleash-client-go/v4"},
		{"GrowthBook growthbook-golang", "github.com/growthbook/growthbook-golang"},
	} {
		if v := requireVersion("bench/peers/go.mod", p.mod); v != "" {
			rows = append(rows, [2]string{p.name, v})
		}
	}
	return rows
}

// requireVersion reads a module's version from a go.mod require line.
func requireVersion(gomod, module string) string {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == module {
			return f[1]
		}
	}
	return ""
}

func field(file, key, sep string) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, sep); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func cmdOut(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
