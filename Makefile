# Vexil's front door. `make test` installs what the tests need, builds, and runs every test.
SHELL := /bin/bash
GO ?= go
FUZZTIME ?= 30s
BENCHTIME ?= 1s

.PHONY: all build tinygo deps test vet fuzz bench run clean js-deps js-test js-bench

all: build

build:
	./build.sh

# Makes sure TinyGo v0.41.1 works (builds it into .cache/tinygo if needed); prints its path.
tinygo:
	@./build.sh tinygo

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# Installs what the tests need that Go does not fetch: Debian's redis-server (the sync tests
# start real Redis servers). Needs root (CI); elsewhere it says what to install.
deps:
	@command -v redis-server >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
		else echo "redis-server is missing: sudo apt-get install redis-server"; exit 1; fi; }

test: deps build vet js-test
	@git diff --quiet -- hosts/go/internal/embedded/vexil.wasm 2>/dev/null || { \
		echo "hosts/go/internal/embedded/vexil.wasm changed when built: commit the rebuilt module"; exit 1; }
	$(GO) test -count=1 ./...

# The JS host (hosts/js): Debian's chromium for its browser tests (never a browser downloaded by
# a test tool), installed as root when /usr/bin/chromium is missing, and the package's dev
# dependencies from its lock file (playwright-core, @openfeature/web-sdk, typescript).
js-deps:
	@[ -x /usr/bin/chromium ] || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
		else echo "/usr/bin/chromium is missing: sudo apt-get install chromium"; exit 1; fi; }
	cd hosts/js && npm ci --no-audit --no-fund

# node --test: golden vectors (Node and Chromium), client API, live daemon + Redis, demo page in
# headless Chromium (screenshots in hosts/js/test-artifacts/), types.
js-test: deps build js-deps
	cd hosts/js && npm test

# Node and Chromium benchmarks of the JS host (not part of make test).
js-bench: build js-deps
	node hosts/js/bench/bench.mjs

# Each fuzz target runs for FUZZTIME from the committed seed corpus (core/testdata/fuzz).
fuzz:
	$(GO) test ./core -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./core -run '^$$' -fuzz '^FuzzEvaluate$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./core -run '^$$' -fuzz '^FuzzContextJSON$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./hosts/go/internal/wasmengine -run '^$$' -fuzz '^FuzzDifferential$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./core/model -run '^$$' -fuzz '^FuzzValidJSON$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./core/model -run '^$$' -fuzz '^FuzzSum256$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./core/model -run '^$$' -fuzz '^FuzzRegex$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s

# The benchmark suite (bench/README.md): the scenario matrix of bench/scenarios on the native
# core and both modules under wazero (one test binary, so ratios compare the same run), module
# lifecycle, the peers (bench/peers, its own module), the TinyGo module through the JS host in
# Node and headless Chromium (bench/js), and the daemon's propagation to SSE subscribers
# (sync/sdkapi, real Redis); then bench/RESULTS.md and its charts from that run's output
# (bench/out/). Every engine's answer is checked before it is timed: a wrong one fails the run.
# BENCHTIME times each evaluation, LOADTIME each load and lifecycle benchmark, PROPTIME the
# writes per propagation run; BENCHCOUNT runs of each, reported as medians.
BENCHCOUNT ?= 5
LOADTIME ?= 3x
PROPTIME ?= 10x
bench: deps js-deps
	./build.sh wasm >/dev/null
	@mkdir -p bench/out && rm -f bench/out/*.txt
	$(GO) run ./bench/cmd/scenarios -o bench/scenarios.json
	set -o pipefail; $(GO) test ./hosts/go/internal/wasmengine -run '^$$' -timeout 60m \
		-bench '^Benchmark(Evaluate|EvaluateAll|Boundary|SetContext)$$' -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) | tee bench/out/wasmengine.txt
	set -o pipefail; $(GO) test ./hosts/go/internal/wasmengine -run '^$$' -timeout 60m \
		-bench '^Benchmark(Load|Compile|Instantiate|InstanceMemory)$$' -benchmem -benchtime $(LOADTIME) -count $(BENCHCOUNT) | tee bench/out/lifecycle.txt
	set -o pipefail; cd bench/peers && $(GO) test -run '^$$' -timeout 60m \
		-bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) | tee ../out/peers.txt
	set -o pipefail; node bench/js/matrix.mjs --count $(BENCHCOUNT) | tee bench/out/js.txt
	set -o pipefail; node bench/js/matrix.mjs --count $(BENCHCOUNT) --module go | tee bench/out/js-go.txt
	set -o pipefail; node bench/js/lifecycle.mjs --count $(BENCHCOUNT) | tee bench/out/jslife.txt
	set -o pipefail; $(GO) test ./sync/sdkapi -run '^$$' -timeout 60m \
		-bench '^BenchmarkPropagation$$' -benchtime $(PROPTIME) -count $(BENCHCOUNT) | tee bench/out/daemon.txt
	set -o pipefail; $(GO) test ./sync/follow -run '^$$' -timeout 60m \
		-bench '^BenchmarkSnapshotBuild$$' -benchmem -benchtime $(LOADTIME) -count $(BENCHCOUNT) | tee bench/out/snapshot.txt
	$(GO) run ./bench/cmd/benchreport -o bench/RESULTS.md -tinygo "$$(./build.sh tinygo 2>/dev/null)" \
		-command "make bench BENCHTIME=$(BENCHTIME) LOADTIME=$(LOADTIME) PROPTIME=$(PROPTIME) BENCHCOUNT=$(BENCHCOUNT)" \
		-settings "$(BENCHCOUNT) runs of each benchmark (-count $(BENCHCOUNT)), -benchtime $(BENCHTIME) for Go evaluations, $(LOADTIME) for Go loads and lifecycle, $(PROPTIME) for propagation, JS loops of at least 200 ms" \
		bench/out/*.txt

# Builds, starts Redis (data in .cache/run, AOF on) and the daemon with demo data; Ctrl-C stops
# both. See sync/run.sh.
run:
	@./sync/run.sh

clean:
	rm -rf dist
