#!/usr/bin/env bash
# Builds everything Vexil ships into dist/. Idempotent; safe to run again.
#   ./build.sh          (or ./build.sh all) builds dist/vexil, the command line
#                       (validate, eval; the daemon joins it later), and the wasm modules
#   ./build.sh wasm     builds the wasm engine (wasm/guest, contract wasm/ABI.md) twice over:
#                         dist/vexil.wasm     TinyGo, -target=wasm-unknown: the shipped module;
#                                             no imports, checked against the size budget
#                                             (350 KB raw, 150 KB gzip -9)
#                         dist/vexil-go.wasm  standard Go, GOOS=wasip1 -buildmode=c-shared: the
#                                             comparison build (imports wasi_snapshot_preview1)
#                       Both are reactors: hosts call _initialize once after instantiating. Both
#                       are reproducible: the same sources give the same bytes.
#   ./build.sh tinygo   makes sure TinyGo v0.41.1 works and prints the absolute path of the
#                       tinygo to call on stdout (all progress goes to stderr), for the wasm build:
#                         TINYGO=$(./build.sh tinygo) && "$TINYGO" build -target=wasm-unknown ...
#
# TinyGo bootstrap. Always the project-local copy in .cache/tinygo/ (git-ignored), never a
# `tinygo` on PATH, because its runtime carries patches (see tinygo_patch_runtime):
#   root/            TINYGOROOT: the module source from the Go module proxy, bin/tinygo built in it
#                    against Debian's LLVM 19 (go build -tags=llvm19), src/runtime patched
#   xdg/tinygo/      TinyGo's cache (v0.41.1 takes it from os.UserCacheDir, i.e. XDG_CACHE_HOME;
#                    it ignores GOCACHE). Debian's prebuilt compiler-rt and wasi-libc are placed
#                    here, because the module zip has no lib/ sources for TinyGo to build them from.
#   bin/tinygo       the path printed: a wrapper that sets XDG_CACHE_HOME and runs root/bin/tinygo,
#                    re-running `./build.sh tinygo` first if the libraries are gone (`tinygo clean`
#                    wipes them) or TinyGo itself is
#   stamp            TinyGo version, Go version and Debian package versions of the current build
# A second run with a matching stamp only checks files and takes well under a second.
#
# TinyGo runtime patches (applied to root/src/runtime on every bootstrap when missing; TinyGo
# compiles its runtime from that source on each build, so no rebuild of bin/tinygo is needed):
#   hashmap_vexil.go    map[string]T lookups without a heap allocation. Upstream passes &key to
#                       a function-pointer comparison, so the key escapes: every lookup allocated
#                       8 bytes (tinygo-org/tinygo#3354), which made flag evaluation allocate and,
#                       with the collector below, cost ~3 us per flag on average.
#   gc_blocks_vexil.go  the collector finds the head of the object a pointer points into by
#                       walking block states back one byte (4 blocks) at a time, for every
#                       pointer: a parsed snapshot (thousands of strings sliced from one copy of
#                       its text) made one collection take ~170 ms; remembering the ranges of the
#                       largest objects walked brings it to ~4 ms (1,000 flags).
#   gc_globals_vexil.go the collector scanned all of the globals as roots, read-only data
#                       included: ~700 words of unicode tables and constants held values that are
#                       heap addresses, each pinning a stale object and everything it referenced
#                       (old snapshots), and so did the collector's own counters. Link-time values
#                       and the collector's state are no roots now (runtime_wasmentry.go calls
#                       vexilGCInit, gc_stack_portable.go calls markGlobals).
#   hashmap_layout_vexil.go  map buckets get a layout, so the precise collector (-gc=precise)
#                       no longer reads their random tophash bytes as pointers into garbage.
#                       With these two, 100 reloads of a 1,000-flag snapshot keep linear memory at
#                       12 MiB (it grew 12 -> 96 MiB in 20 reloads before).
# TinyGo compiler patch (applied to root/transform/gc.go before bin/tinygo is built; listed in
# the stamp, so an older build is rebuilt):
#   gc.go (MakeGCStackSlots) a function that may allocate keeps the pointers of its locals in a
#                       shadow-stack frame, which costs every call. TinyGo decides "may allocate"
#                       from the call graph and counts llvm.trap (what a failed bounds or nil
#                       check ends in) as an unknown external that might: so every function that
#                       can panic paid. A trap ends the program; it neither allocates nor
#                       suspends. Excluding it took the frames off the evaluation path (with the
#                       core itself allocation-free): the 10,000-key segment scenario went from
#                       about 250 to 110 ns a call in wazero.
# All keep upstream semantics; the edits to upstream files are checked by sha256 before and after.
# shellcheck disable=SC2015 # `a && b || fail ...` is meant: fail when either a or b fails
set -Eeuo pipefail
cd "$(dirname "$0")"
REPO=$(pwd -P)

TINYGO_VERSION=0.41.1
TINYGO_MODULE=github.com/tinygo-org/tinygo
LLVM_MAJOR=19
# Debian packages: LLVM/Clang 19 to build TinyGo, lld for wasm-ld, compiler-rt and wasi-libc for
# the wasm targets, binaryen for wasm-opt (TinyGo runs wasm-opt on every wasm32 build).
TINYGO_DEBS=(llvm-19-dev libclang-19-dev clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc binaryen)
TG_DIR=$REPO/.cache/tinygo
TG_ROOT=$TG_DIR/root
TG_XDG=$TG_DIR/xdg
TG_CACHE=$TG_XDG/tinygo
TG_WRAPPER=$TG_DIR/bin/tinygo
TG_STAMP=$TG_DIR/stamp

# Debian's prebuilt archives that stand in for the libraries TinyGo would build from lib/.
DEB_COMPILER_RT=/usr/lib/llvm-$LLVM_MAJOR/lib/clang/$LLVM_MAJOR/lib/wasi/libclang_rt.builtins-wasm32.a
DEB_WASI_LIBC=/usr/lib/wasm32-wasi/libc.a
DEB_WASI_INCLUDE=/usr/include/wasm32-wasi
# The objects of TinyGo's wasmbuiltins library (builder/wasmbuiltins.go in v0.41.1), plus strlen.
WASMBUILTINS_OBJS=(memcpy.o memmove.o memset.o strlen.o
	__math_divzero.o __math_invalid.o __math_oflow.o __math_uflow.o __math_xflow.o
	exp.o exp_data.o exp2.o log.o log_data.o)
# Cache folder names, from compileopts.Config.LibraryPath in v0.41.1:
# GOCACHE/<name><+malloc if gc=boehm on wasi-libc>-<llvm triple>-<cpu>.
TG_LIB_COMPILER_RT_UNKNOWN=compiler-rt-wasm32-unknown-unknown-mvp   # -target=wasm-unknown
TG_LIB_COMPILER_RT_WASI=compiler-rt-wasm32-unknown-wasi-generic     # -target=wasip1
TG_LIB_WASI_LIBC=wasi-libc-wasm32-unknown-wasi-generic              # -target=wasip1
TG_LIB_WASMBUILTINS=wasmbuiltins-wasm32-unknown-unknown-mvp         # -target=wasm-unknown

# The wasm build. Last session -opt=s was measured against z and 2 (1,000 generated flags,
# wazero v1.12.0 compiler engine, full context; the range of 3 runs of medians):
#   -opt=z  271 KB raw, 125.3 KB gzip; evaluate 137-171 ns a call, evaluate-all 112-117 ns a flag
#   -opt=s  273 KB raw, 125.5 KB gzip; evaluate 129-131 ns a call, evaluate-all 101-103 ns a flag
#   -opt=2  322 KB raw, 140.2 KB gzip; evaluate 108-114 ns a call, evaluate-all  87-90  ns a flag
# Since then the core grew (hashed keys, own JSON validator, StringList) and -opt=s fell behind
# on rules: evaluations looped inside the guest (no boundary; fastest of 5 runs on a busy
# machine), -opt=s against -opt=2 followed by `wasm-opt -Oz`:
#   rule-match 164 vs 84 ns, target-hit 154 vs 95, rollout 69 vs 56, 10-clause rule 728 vs 285,
#   prerequisite chain 190 vs 126; 286 KB raw, 131.3 KB gzip vs 329 KB raw, 144.2 KB gzip.
# So: -opt=2 for speed, then wasm-opt -Oz (WASM_OPT_FLAGS) takes back 12 KB raw, 3 KB gzip
# without undoing LLVM's inlining. The size budget below still holds, with 15 KB of gzip to spare
# (306 KB raw, 135 KB gzip since the core's own regex matcher replaced package regexp's).
# -panic=trap: wasm-unknown has no output, so panic messages only cost bytes (6.6 KB).
WASM_PKG=./wasm/guest
# -z stack-size: the guest's stack is fixed (wasm-ld's default is 64 KiB, below the data with
# TinyGo's --stack-first, so an overflow traps rather than corrupts). Parsing and compiling a
# regex recurse as deep as it nests: `[a-z]{1,300}` overflowed 64 KiB. core/model bounds
# regexes (MaxRegexGroups, MaxRegexInsts) and the wasmengine tests load the worst ones; 256 KiB
# holds them with room to spare. Untouched stack pages cost hosts no resident memory.
# -gc=precise: TinyGo's block collector with each heap object's pointer layout (stack and
# globals are still scanned conservatively). The fully conservative collector read timestamps,
# hashes and floats inside live objects as pointers, kept garbage alive through them and grew
# linear memory on every snapshot reload (see the runtime patches above).
WASM_TINYGO_FLAGS=(-target=wasm-unknown -scheduler=none -gc=precise -panic=trap -no-debug -opt=2 -ldflags="-extldflags='-z stack-size=262144'")
# The features of TinyGo's wasm-unknown target (targets/wasm-unknown.json), and no others.
WASM_OPT_FLAGS=(-Oz --enable-nontrapping-float-to-int --enable-sign-ext)
EMBEDDED_WASM=hosts/go/internal/embedded/vexil.wasm
WASM_MAX_RAW=350000 # bytes, dist/vexil.wasm
WASM_MAX_GZIP=150000

# ---------------------------------------------------------------------------------------------
# Progress and failure reporting. Everything but a target's result goes to stderr.
TARGET=build       # what is being built, for messages
STEP=start         # the step running now, for messages
step() {
	STEP=$1
	printf '==> %s\n' "$1" >&2
}
fail() { # fail REASON: stops the script naming the current target and step
	printf 'build.sh: %s: step "%s" failed: %s\n' "$TARGET" "$STEP" "$1" >&2
	exit 1
}
on_err() { # backstop for a command that fails outside run()/explicit checks
	local rc=$1 line=$2 cmd=$3
	trap - ERR
	fail "command \`$cmd\` exited with status $rc (build.sh line $line)"
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

# run STEP CMD...: runs CMD as step STEP, its output going to stderr; if it fails, stops the
# script with the step's name and the last lines CMD printed as the reason.
run() {
	step "$1"
	shift
	local log rc=0
	log=$(mktemp)
	"$@" 2>&1 | tee "$log" >&2 || rc=$? # with pipefail: the status of "$@" (tee does not fail)
	if [ "$rc" -ne 0 ]; then
		local why
		why=$(grep -v '^[[:space:]]*$' "$log" | tail -n 5 | tr '\n' ' ' | sed 's/ *$//')
		rm -f "$log"
		fail "\`$*\` exited with status $rc${why:+: $why}"
	fi
	rm -f "$log"
}

# ---------------------------------------------------------------------------------------------
# dist/vexil
build_cli() {
	TARGET="dist/vexil"
	mkdir -p dist
	run "go build dist/vexil" go build -trimpath -o dist/vexil ./sync/cmd/vexil
}

# ---------------------------------------------------------------------------------------------
# dist/vexil.wasm and dist/vexil-go.wasm

# gzip_size FILE: bytes of FILE compressed with gzip -9 (no name or time in the header).
gzip_size() { gzip -9n <"$1" | wc -c | tr -d ' '; }

build_wasm() {
	bootstrap_tinygo # sets TINYGO
	mkdir -p dist
	local raw gz

	TARGET="dist/vexil.wasm"
	rm -f dist/vexil.wasm.tmp
	run "tinygo build dist/vexil.wasm" "$TINYGO" build "${WASM_TINYGO_FLAGS[@]}" \
		-o dist/vexil.wasm.tmp "$WASM_PKG"
	run "wasm-opt dist/vexil.wasm" wasm-opt "${WASM_OPT_FLAGS[@]}" dist/vexil.wasm.tmp -o dist/vexil.wasm.tmp
	step "check dist/vexil.wasm"
	local why=
	[ -s dist/vexil.wasm.tmp ] || fail "tinygo wrote no dist/vexil.wasm.tmp"
	raw=$(wc -c <dist/vexil.wasm.tmp | tr -d ' ')
	gz=$(gzip_size dist/vexil.wasm.tmp)
	if [ "$(od -An -tx1 -j8 -N1 dist/vexil.wasm.tmp | tr -d ' ')" = 02 ]; then
		# The first section after the 8-byte header is the import section (id 2).
		why="it imports functions; -target=wasm-unknown should import none"
	elif [ "$raw" -gt "$WASM_MAX_RAW" ]; then
		why="it is $raw bytes, over the budget of $WASM_MAX_RAW (wasm/ABI.md, \"Build, size and cost\")"
	elif [ "$gz" -gt "$WASM_MAX_GZIP" ]; then
		why="it is $gz bytes gzipped, over the budget of $WASM_MAX_GZIP (wasm/ABI.md, \"Build, size and cost\")"
	fi
	if [ -n "$why" ]; then
		rm -f dist/vexil.wasm.tmp
		fail "$why"
	fi
	mv -f dist/vexil.wasm.tmp dist/vexil.wasm
	printf '    dist/vexil.wasm: %s bytes, %s gzipped\n' "$raw" "$gz" >&2
	# The Go host embeds the shipped module (hosts/go/internal/embedded); keep its copy current.
	cmp -s dist/vexil.wasm "$EMBEDDED_WASM" || cp -f dist/vexil.wasm "$EMBEDDED_WASM"

	TARGET="dist/vexil-go.wasm"
	rm -f dist/vexil-go.wasm.tmp
	run "go build dist/vexil-go.wasm" env GOOS=wasip1 GOARCH=wasm \
		go build -buildvcs=false -buildmode=c-shared -trimpath -ldflags=-s \
		-o dist/vexil-go.wasm.tmp "$WASM_PKG"
	mv -f dist/vexil-go.wasm.tmp dist/vexil-go.wasm
	printf '    dist/vexil-go.wasm: %s bytes, %s gzipped\n' \
		"$(wc -c <dist/vexil-go.wasm | tr -d ' ')" "$(gzip_size dist/vexil-go.wasm)" >&2
}

# ---------------------------------------------------------------------------------------------
# TinyGo bootstrap

# deb_versions: "name=version" for each of TINYGO_DEBS, one a line ("name=" when not installed).
deb_versions() {
	local p v
	for p in "${TINYGO_DEBS[@]}"; do
		v=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$p" 2>/dev/null || true)
		case $v in
		"installed "*) printf '%s=%s\n' "$p" "${v#installed }" ;;
		*) printf '%s=\n' "$p" ;;
		esac
	done
}

tinygo_debs() {
	step "check Debian packages"
	command -v dpkg-query >/dev/null || fail "dpkg-query not found: this script needs Debian or Ubuntu"
	local missing
	missing=$(deb_versions | sed -n 's/=$//p' | tr '\n' ' ')
	[ -z "${missing// /}" ] && return 0
	printf '    missing: %s\n' "$missing" >&2
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || fail "not root and no sudo to install: $missing"
		sudo=(sudo)
	fi
	run "apt-get update" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	run "apt-get install" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends $missing
	step "check Debian packages"
	missing=$(deb_versions | sed -n 's/=$//p' | tr '\n' ' ')
	[ -z "${missing// /}" ] || fail "still not installed after apt-get install: $missing"
}

# tinygo_stamp: what the project-local TinyGo was built from; a change means rebuild.
tinygo_stamp() {
	printf 'tinygo v%s\n%s\ncompiler patch %s\n' "$TINYGO_VERSION" "$(go env GOVERSION)" "$TG_GC_PATCHED"
	deb_versions
}

# tinygo_build: fetches the module source and builds root/bin/tinygo from scratch.
tinygo_build() {
	command -v go >/dev/null || fail "go not found on PATH"
	local json dir err tmp
	step "go mod download $TINYGO_MODULE@v$TINYGO_VERSION"
	# Outside any module (and without the workspace) so Vexil's go.mod/go.sum stay untouched.
	tmp=$(mktemp -d)
	json=$(cd "$tmp" && GOWORK=off GOFLAGS='' go mod download -json "$TINYGO_MODULE@v$TINYGO_VERSION" 2>&1) || {
		rm -rf "$tmp"
		err=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p')
		fail "${err:-$json}"
	}
	rm -rf "$tmp"
	dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] && [ -f "$dir/go.mod" ] || fail "no module directory in go mod download output: $json"

	step "copy TinyGo source"
	rm -rf "$TG_ROOT" "$TG_DIR/root.tmp" "$TG_STAMP"
	mkdir -p "$TG_DIR"
	cp -R "$dir" "$TG_DIR/root.tmp" || fail "cp -R $dir $TG_DIR/root.tmp"
	chmod -R u+w "$TG_DIR/root.tmp" || fail "chmod -R u+w $TG_DIR/root.tmp"
	# The module zip lacks the git submodules; an empty src/net serves programs that do not
	# import net.
	mkdir -p "$TG_DIR/root.tmp/src/net"
	step "patch TinyGo compiler (no shadow-stack frames for functions that can only trap)"
	patch_file "$TG_DIR/root.tmp/transform/gc.go" "$TG_GC_UPSTREAM" "$TG_GC_PATCHED" -- \
		-e 's|^\t\tif fn == trackPointer {$|\t\t// Vexil patch (build.sh): a trap ends the program, so it neither allocates nor\n\t\t// suspends. Without this, every function that can panic got stack objects.\n\t\tif fn.Name() == "llvm.trap" {\n\t\t\tcontinue\n\t\t}\n\t\tif fn == trackPointer {|'

	run "go build tinygo" env -C "$TG_DIR/root.tmp" GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=1 \
		go build -tags="llvm$LLVM_MAJOR" -o bin/tinygo .
	mv "$TG_DIR/root.tmp" "$TG_ROOT"
	# Libraries placed for an older build may not match this one.
	rm -rf "$TG_XDG"
}

# place_file SRC DEST: copies SRC to DEST unless DEST is there (atomically, via a temp file).
place_file() {
	[ -f "$2" ] && return 0
	[ -f "$1" ] || fail "$1 not found (is its Debian package installed?)"
	mkdir -p "$(dirname "$2")"
	cp "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2" || fail "could not copy $1 to $2"
}

# tinygo_place_libs: puts Debian's prebuilt libraries into TinyGo's cache where v0.41.1 looks
# for them, for every one that is missing. Cheap when all are there.
tinygo_place_libs() {
	step "place prebuilt wasm libraries in TinyGo's cache"
	local c=$TG_CACHE
	place_file "$DEB_COMPILER_RT" "$c/$TG_LIB_COMPILER_RT_UNKNOWN/lib.a"
	place_file "$DEB_COMPILER_RT" "$c/$TG_LIB_COMPILER_RT_WASI/lib.a"
	place_file "$DEB_WASI_LIBC" "$c/$TG_LIB_WASI_LIBC/lib.a"
	if [ ! -d "$c/$TG_LIB_WASI_LIBC/include" ]; then
		[ -d "$DEB_WASI_INCLUDE" ] || fail "$DEB_WASI_INCLUDE not found (is wasi-libc installed?)"
		rm -rf "$c/$TG_LIB_WASI_LIBC/include.tmp"
		cp -R "$DEB_WASI_INCLUDE" "$c/$TG_LIB_WASI_LIBC/include.tmp" &&
			mv "$c/$TG_LIB_WASI_LIBC/include.tmp" "$c/$TG_LIB_WASI_LIBC/include" ||
			fail "could not copy $DEB_WASI_INCLUDE to $c/$TG_LIB_WASI_LIBC/include"
	fi
	local wb=$c/$TG_LIB_WASMBUILTINS
	if [ ! -f "$wb/lib.a" ]; then
		local ar=llvm-ar-$LLVM_MAJOR tmp
		command -v "$ar" >/dev/null || fail "$ar not found (is llvm-$LLVM_MAJOR installed?)"
		tmp=$(mktemp -d)
		(cd "$tmp" && "$ar" x "$DEB_WASI_LIBC" "${WASMBUILTINS_OBJS[@]}" &&
			"$ar" rcs lib.a "${WASMBUILTINS_OBJS[@]}") >&2 2>&1 ||
			{ rm -rf "$tmp"; fail "$ar could not make wasmbuiltins from $DEB_WASI_LIBC"; }
		mkdir -p "$wb"
		mv "$tmp/lib.a" "$wb/lib.a.tmp.$$" && mv -f "$wb/lib.a.tmp.$$" "$wb/lib.a"
		rm -rf "$tmp"
	fi
}

# ---------------------------------------------------------------------------------------------
# TinyGo compiler patch (see the top of this file): transform/gc.go before and after, by sha256.
TG_GC_UPSTREAM=70a3781f127c2f15de500e74ba296ea2272d36e161da53ec75aa26318bbd75ee
TG_GC_PATCHED=a347700f4dca79d88ec1136b575d5397f619fc6a32a16cefde5774e3b832a835

# TinyGo runtime patches (see the top of this file). Upstream v0.41.1's files, and the same files
# after the edits below, by sha256:
TG_RT_HASHMAP_UPSTREAM=bd7ca4982925abca6d7b0eb59bb3a91f7200a5b8b332018ac24ab83037070a50
TG_RT_HASHMAP_PATCHED_V1=886aa6a218b4849c52bd20970a9e3d8f4055609e6ce243722c9f75cdc724e523 # without bucket layouts
TG_RT_HASHMAP_PATCHED=e7478ad1de407f544231525f57fa122f12d1340b9acef5c67f1bf024736439c3
TG_RT_GC_UPSTREAM=53a329de73390a4010358beaa665e9fa489b95c2dbd9fb60d2605c051471f805
TG_RT_GC_PATCHED=de09789f9603fda386060ee5655c02a7caeb0f65074d903019008150c1200b62
TG_RT_STACK_UPSTREAM=6e8359bb07f4aa0450a1c91d639d85de806d32aebf438776f29fedb04e734cd1
TG_RT_STACK_PATCHED=072cb03dd29e9d09f8fe69a7dcaaa6af6e6f84e69c32d0e0f8431afa62ee77b5
TG_RT_ENTRY_UPSTREAM=56500007611f4cbcb9d59c00f503a769cac2e453125a9347d6e0496f8b8c0a5e
TG_RT_ENTRY_PATCHED=9da02efa83ad6284aa134724ede90a39b7b8871ea092fda1c49a842768e1f4d6

# tg_rt_hashmap: src/runtime/hashmap_vexil.go, which replaces hashmapStringGet (upstream's is
# renamed hashmapStringGetUpstream and left unused).
tg_rt_hashmap() {
	cat <<'EOF'
package runtime

// Vexil patch (written by Vexil's build.sh): hashmapStringGet compares the string keys itself
// instead of passing &key to hashmapGet, where the indirect m.keyEqual call made key escape to
// the heap: one allocation for every lookup in a map[string]T (tinygo-org/tinygo#3354).
// Upstream's version is hashmapStringGetUpstream in hashmap.go.

import "unsafe"

func hashmapStringGet(m *hashmap, key string, value unsafe.Pointer, valueSize uintptr) bool {
	if m == nil {
		memzero(value, uintptr(valueSize))
		return false
	}
	hash := hashmapStringHash(key, m.seed)
	tophash := hashmapTopHash(hash)
	bucket := hashmapBucketAddrForHash(m, hash)
	for bucket != nil {
		for i := uint8(0); i < 8; i++ {
			if bucket.tophash[i] == tophash && *(*string)(hashmapSlotKey(m, bucket, i)) == key {
				memcpy(value, hashmapSlotValue(m, bucket, i), m.valueSize)
				return true
			}
		}
		bucket = bucket.next
	}
	memzero(value, m.valueSize)
	return false
}
EOF
}

# tg_rt_gc: src/runtime/gc_blocks_vexil.go, used by markRoot in gc_blocks.go in place of
# findHead; runGC forgets its memo before each mark phase.
tg_rt_gc() {
	cat <<'EOF'
//go:build gc.conservative || gc.precise

package runtime

// Vexil patch (written by Vexil's build.sh): markRoot finds the head of the object a pointer
// points into by walking the block states back from the pointer, which costs time in
// proportion to the offset of the pointer in the object. A program that keeps many pointers
// into large objects (every string of a parsed document sliced from one copy of its text) paid
// that walk for every pointer, in every collection. findHeadMarking remembers the largest
// objects it walked, each as a range [head, tail] of one head and its tails: a pointer into a
// range costs nothing, and a pointer past one walks only back to it. Block states do not change
// during a mark phase except head to mark, so runGC forgets the ranges before marking.

const markHeadCacheSize = 8

type markHeadRange struct{ head, tail gcBlock }

var (
	markHeadCacheValid bool
	markHeadCache      [markHeadCacheSize]markHeadRange
)

// findHeadMarking returns the same block as findHead.
func (b gcBlock) findHeadMarking() gcBlock {
	if b.state() != blockStateTail {
		return b
	}
	if !markHeadCacheValid {
		markHeadCache = [markHeadCacheSize]markHeadRange{}
		markHeadCacheValid = true
	}
	start := b
	// The remembered range with the highest head at or below b: the only one b can be in.
	best := -1
	for i := range markHeadCache {
		if c := &markHeadCache[i]; c.tail != 0 && c.head <= b && (best < 0 || c.head > markHeadCache[best].head) {
			best = i
		}
	}
	var stop gcBlock
	if best >= 0 {
		stop = markHeadCache[best].tail
	}
	for {
		if best >= 0 && b <= stop {
			// Every block from b to start is a tail, and b is in the remembered range: the
			// walk cannot skip past the range's head, which is not a tail.
			b = markHeadCache[best].head
			if start > stop {
				markHeadCache[best].tail = start
			}
			return b
		}
		stateByte := b.stateByte()
		if stateByte == blockStateByteAllTails {
			b -= (b % blocksPerStateByte) + 1
			continue
		}
		if b.stateFromByte(stateByte) != blockStateTail {
			break
		}
		b--
	}
	// Remember the object in place of the smallest remembered one.
	small := 0
	for i := range markHeadCache {
		c := &markHeadCache[i]
		if c.tail == 0 {
			small = i
			break
		}
		if c.tail-c.head < markHeadCache[small].tail-markHeadCache[small].head {
			small = i
		}
	}
	if c := &markHeadCache[small]; c.tail == 0 || start-b > c.tail-c.head {
		*c = markHeadRange{b, start}
	}
	return b
}
EOF
}

# tg_rt_globals: src/runtime/gc_globals_vexil.go: roots among the globals without link-time data
# (markGlobals, called by gc_stack_portable.go; vexilGCInit, called by runtime_wasmentry.go).
tg_rt_globals() {
	cat <<'EOF'
//go:build (gc.conservative || gc.precise) && tinygo.wasm

package runtime

// Vexil patch (written by Vexil's build.sh): markGlobals marks the roots among the globals in
// place of findGlobals(markRoots), which scanned every word from __global_base to __heap_base
// as a possible pointer. On wasm that region holds the program's read-only data too (unicode
// tables, strings, constants), and thousands of those words hold values that are valid heap
// addresses (the heap starts a few hundred KB up: code points and pairs of 16-bit table
// entries fall there). Each pinned whatever object the allocator later put at its address,
// and everything that object referenced: a program that replaces a large structure now and
// then (a parsed snapshot) kept stale copies of it, more as the heap grew, and linear memory
// grew without bound.
//
// vexilGCInit runs once, before any package initializer left for run time: it records every
// global word whose link-time value looks like a heap address. A link-time value cannot be a
// heap pointer (the heap was empty), so markGlobals skips a recorded word while it still holds
// that value; a word the program has changed since is scanned as before. The table of recorded
// words is kept alive but never scanned, so its copies of the values are no roots either. The
// collector's own counters and block numbers are skipped too (gcStateRanges).

import "unsafe"

var (
	// staticGlobals is the address of the table: pairs (word index from globalsStart,
	// link-time value), in address order. A uintptr that markGlobals treats specially, so the
	// table is kept but not scanned.
	staticGlobals    uintptr
	staticGlobalsLen uintptr // words in the table
	// gcStateRanges are globals of the collector that markGlobals skips: counters and block
	// numbers (gcMallocs, gcTotalAlloc, endBlock, markHeadCache) take every value over time, so
	// as roots they would pin a different random object, and all it references, in each
	// collection; the others point at free memory or metadata, never at objects.
	gcStateRanges [8][2]uintptr
)

// vexilGCInit runs in wasmEntryReactor right after initHeap.
func vexilGCInit() {
	gcStateRange(0, unsafe.Pointer(&endBlock), unsafe.Sizeof(endBlock))
	gcStateRange(1, unsafe.Pointer(&gcTotalAlloc), unsafe.Sizeof(gcTotalAlloc))
	gcStateRange(2, unsafe.Pointer(&gcMallocs), unsafe.Sizeof(gcMallocs))
	gcStateRange(3, unsafe.Pointer(&markHeadCache), unsafe.Sizeof(markHeadCache))
	gcStateRange(4, unsafe.Pointer(&heapEnd), unsafe.Sizeof(heapEnd))
	gcStateRange(5, unsafe.Pointer(&metadataStart), unsafe.Sizeof(metadataStart))
	gcStateRange(6, unsafe.Pointer(&freeRanges), unsafe.Sizeof(freeRanges))
	gcStateRange(7, unsafe.Pointer(&staticGlobalsLen), unsafe.Sizeof(staticGlobalsLen))
	recordStaticGlobals()
	hashmapBucketLayoutsOn = true
}

func gcStateRange(i int, p unsafe.Pointer, size uintptr) {
	gcStateRanges[i] = [2]uintptr{uintptr(p), uintptr(p) + size}
}

func inGCState(a uintptr) bool {
	for i := range gcStateRanges {
		if a >= gcStateRanges[i][0] && a < gcStateRanges[i][1] {
			return true
		}
	}
	return false
}

const wordSize = unsafe.Sizeof(uintptr(0))

// staticGlobalsBelow bounds the values recorded: most link-time words are text, whose values
// (0x20202020 and up for ASCII) lie far above any heap this program reaches, and leaving them
// out keeps the table small enough (a few KB) not to grow the heap at start-up. Should the heap
// ever reach past it, those words count as roots again, as they did upstream.
const staticGlobalsBelow = 256 << 20

func recordStaticGlobals() {
	n := uintptr(0)
	for a := globalsStart; a+wordSize <= globalsEnd; a += wordSize {
		if v := *(*uintptr)(unsafe.Pointer(a)); v >= heapStart && v < staticGlobalsBelow {
			n++
		}
	}
	if n == 0 {
		return
	}
	table := alloc(2*n*wordSize, nil)
	// Globals the allocation changed (allocator state) are recorded as they are now; words
	// beyond the count are left out, and scanned as before.
	k := uintptr(0)
	for a, i := globalsStart, uintptr(0); a+wordSize <= globalsEnd && k < 2*n; a, i = a+wordSize, i+1 {
		if v := *(*uintptr)(unsafe.Pointer(a)); v >= heapStart && v < staticGlobalsBelow {
			*(*uintptr)(unsafe.Add(table, k*wordSize)) = i
			*(*uintptr)(unsafe.Add(table, (k+1)*wordSize)) = v
			k += 2
		}
	}
	staticGlobals, staticGlobalsLen = uintptr(table), k
}

func markGlobals() {
	self := uintptr(unsafe.Pointer(&staticGlobals))
	k := uintptr(0)
	for a, i := globalsStart, uintptr(0); a+wordSize <= globalsEnd; a, i = a+wordSize, i+1 {
		v := *(*uintptr)(unsafe.Pointer(a))
		if k < staticGlobalsLen && *(*uintptr)(unsafe.Pointer(staticGlobals + k*wordSize)) == i {
			k += 2
			if v == *(*uintptr)(unsafe.Pointer(staticGlobals + (k-1)*wordSize)) {
				continue
			}
		}
		if !isOnHeap(v) || inGCState(a) {
			continue
		}
		if a == self {
			if b := blockFromAddr(v).findHead(); b.state() == blockStateHead {
				b.setState(blockStateMark) // kept, not scanned
			}
			continue
		}
		markRoot(a, v)
	}
}
EOF
}

# tg_rt_globals_other: src/runtime/gc_globals_vexil_other.go: vexilGCInit for the other collectors.
tg_rt_globals_other() {
	cat <<'EOF'
//go:build tinygo.wasm && !(gc.conservative || gc.precise)

package runtime

// Vexil patch (written by Vexil's build.sh): see gc_globals_vexil.go.
func vexilGCInit() {}
EOF
}

# tg_rt_hashmap_layout: src/runtime/hashmap_layout_vexil.go: layouts of map bucket buffers (hashmap.go
# passes hashmapBucketLayout to alloc).
tg_rt_hashmap_layout() {
	cat <<'EOF'
//go:build gc.precise

package runtime

// Vexil patch (written by Vexil's build.sh): map buckets were allocated without a layout, so
// the precise collector scanned them conservatively, tophash bytes included: eight random bytes
// a bucket, which look like a heap address about as often as the heap is large a fraction of
// the address space. A live map then kept random garbage alive, and all it referenced (whole
// stale snapshots). hashmapBucketLayout tells the collector that the tophash words hold no
// pointers; keys and values are still scanned conservatively (their types are unknown here).
//
// Maps that package initializers build at compile time (TinyGo's interp turns them into
// globals) keep the nil layout: interp types the global from the layout and fails on one that
// marks the integers of keys and values as pointers. So hashmapBucketLayout answers nil until
// vexilGCInit sets hashmapBucketLayoutsOn, at start-up.

import "unsafe"

var hashmapBucketLayoutsOn bool

const maxBucketLayoutWords = 128

// bucketLayouts are the layouts of bucket buffers too large for an inline layout, by size in
// words; an entry is filled on first use.
var bucketLayouts [maxBucketLayoutWords + 1]struct {
	size uintptr
	bits [(maxBucketLayoutWords + 7) / 8]uint8
}

func hashmapBucketLayout(bucketBufSize uintptr) unsafe.Pointer {
	if !hashmapBucketLayoutsOn {
		return nil
	}
	const ptrSize = unsafe.Sizeof(uintptr(0))
	words := bucketBufSize / ptrSize
	skip := unsafe.Offsetof(hashmapBucket{}.next) / ptrSize // the tophash words
	if bucketBufSize%ptrSize != 0 || words <= skip {
		return nil
	}
	if words <= 8*ptrSize-1-sizeFieldBits { // fits an inline layout (gc_precise.go)
		mask := (uintptr(1)<<words - 1) &^ (uintptr(1)<<skip - 1)
		return unsafe.Pointer(mask<<(1+sizeFieldBits) | words<<1 | 1)
	}
	if words > maxBucketLayoutWords {
		return nil
	}
	l := &bucketLayouts[words]
	if l.size == 0 {
		for i := skip; i < words; i++ {
			l.bits[i/8] |= 1 << (i % 8)
		}
		l.size = words
	}
	return unsafe.Pointer(l)
}
EOF
}

# tg_rt_hashmap_layout_other: src/runtime/hashmap_layout_vexil_other.go: no layouts for the other collectors.
tg_rt_hashmap_layout_other() {
	cat <<'EOF'
//go:build !gc.precise

package runtime

// Vexil patch (written by Vexil's build.sh): only the precise collector reads layouts; see
// hashmap_layout_vexil.go.

import "unsafe"

var hashmapBucketLayoutsOn bool

func hashmapBucketLayout(bucketBufSize uintptr) unsafe.Pointer { return nil }
EOF
}

sha256_of() { sha256sum <"$1" | cut -d' ' -f1; }

# write_file FILE CONTENT: writes CONTENT (plus a newline) to FILE unless it holds exactly that.
write_file() {
	if [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; then
		return 0
	fi
	printf '%s\n' "$2" >"$1.tmp.$$" && mv -f "$1.tmp.$$" "$1" || fail "could not write $1"
}

# patch_file FILE UPSTREAM PATCHED [OTHER...] -- SED-ARGS...: edits FILE with sed when its sha256
# is UPSTREAM or one of the OTHER earlier patched states (the edits leave lines already edited
# alone), and checks that the result is PATCHED.
patch_file() {
	local file=$1 upstream=$2 patched=$3 sum ok=
	shift 3
	local known=("$upstream")
	while [ "$1" != -- ]; do
		known+=("$1")
		shift
	done
	shift
	[ -f "$file" ] || fail "$file not found"
	sum=$(sha256_of "$file")
	[ "$sum" = "$patched" ] && return 0
	local k
	for k in "${known[@]}"; do
		[ "$sum" = "$k" ] && ok=1
	done
	[ -n "$ok" ] || fail "$file is neither TinyGo v$TINYGO_VERSION's nor patched (sha256 $sum): remove $TG_ROOT and run again"
	sed -i "$@" "$file" || fail "sed $file"
	[ "$(sha256_of "$file")" = "$patched" ] || fail "patching $file gave unexpected content"
}

# tinygo_patch_runtime: applies the runtime patches to root/src/runtime where missing.
tinygo_patch_runtime() {
	step "patch TinyGo runtime (allocation-free string map lookups, GC marking speed and roots, map bucket layouts)"
	local rt=$TG_ROOT/src/runtime
	write_file "$rt/hashmap_vexil.go" "$(tg_rt_hashmap)"
	write_file "$rt/gc_blocks_vexil.go" "$(tg_rt_gc)"
	write_file "$rt/gc_globals_vexil.go" "$(tg_rt_globals)"
	write_file "$rt/gc_globals_vexil_other.go" "$(tg_rt_globals_other)"
	write_file "$rt/hashmap_layout_vexil.go" "$(tg_rt_hashmap_layout)"
	write_file "$rt/hashmap_layout_vexil_other.go" "$(tg_rt_hashmap_layout_other)"
	patch_file "$rt/hashmap.go" "$TG_RT_HASHMAP_UPSTREAM" "$TG_RT_HASHMAP_PATCHED" "$TG_RT_HASHMAP_PATCHED_V1" -- \
		-e 's/^func hashmapStringGet(/func hashmapStringGetUpstream(/' \
		-e 's/alloc(bucketBufSize\*(1<<bucketBits), nil)/alloc(bucketBufSize*(1<<bucketBits), hashmapBucketLayout(bucketBufSize))/' \
		-e 's/alloc(bucketBufSize, nil)/alloc(bucketBufSize, hashmapBucketLayout(bucketBufSize))/' \
		-e 's/alloc(bucketBufSize\*numBuckets, nil)/alloc(bucketBufSize*numBuckets, hashmapBucketLayout(bucketBufSize))/'
	patch_file "$rt/gc_blocks.go" "$TG_RT_GC_UPSTREAM" "$TG_RT_GC_PATCHED" -- \
		-e 's/^\thead := block\.findHead()$/\thead := block.findHeadMarking()/' \
		-e 's|^\tgcMarkReachable()$|\tmarkHeadCacheValid = false // Vexil patch: see gc_blocks_vexil.go\n\tgcMarkReachable()|'
	patch_file "$rt/gc_stack_portable.go" "$TG_RT_STACK_UPSTREAM" "$TG_RT_STACK_PATCHED" -- \
		-e 's|^\tfindGlobals(markRoots)$|\tmarkGlobals() // Vexil patch: see gc_globals_vexil.go|'
	patch_file "$rt/runtime_wasmentry.go" "$TG_RT_ENTRY_UPSTREAM" "$TG_RT_ENTRY_PATCHED" -- \
		-e 's|^\tinitHeap()$|\tinitHeap()\n\tvexilGCInit() // Vexil patch: see gc_globals_vexil.go|'
}

# tinygo_wrapper: writes bin/tinygo, which runs root/bin/tinygo with TinyGo's cache in xdg/.
tinygo_wrapper() {
	step "write $TG_WRAPPER"
	# shellcheck disable=SC2016 # $here is expanded by the wrapper, not here
	local c='$here/xdg/tinygo' want
	want=$(
		cat <<EOF
#!/bin/sh
# Written by build.sh (./build.sh tinygo): TinyGo v$TINYGO_VERSION with its cache in this folder.
# TinyGo v$TINYGO_VERSION puts its cache in \$XDG_CACHE_HOME/tinygo; Go keeps its usual cache.
here=\$(cd "\$(dirname "\$0")/.." && pwd -P)
if [ -z "\${GOCACHE:-}" ]; then
	GOCACHE=\$(go env GOCACHE) && export GOCACHE
fi
export XDG_CACHE_HOME="\$here/xdg"
# \`tinygo clean\` removes the prebuilt libraries placed in the cache: put them back (and the
# runtime patches, should root/ have been replaced).
if ! { [ -x "\$here/root/bin/tinygo" ] && [ -f "\$here/root/src/runtime/hashmap_vexil.go" ] &&
	[ -f "\$here/root/src/runtime/gc_blocks_vexil.go" ] && [ -f "\$here/root/src/runtime/gc_globals_vexil.go" ] &&
	[ -f "\$here/root/src/runtime/hashmap_layout_vexil.go" ] && [ -f "$c/$TG_LIB_COMPILER_RT_UNKNOWN/lib.a" ] && [ -f "$c/$TG_LIB_COMPILER_RT_WASI/lib.a" ] &&
	[ -f "$c/$TG_LIB_WASI_LIBC/lib.a" ] && [ -d "$c/$TG_LIB_WASI_LIBC/include" ] &&
	[ -f "$c/$TG_LIB_WASMBUILTINS/lib.a" ]; }; then
	"\$here/../../build.sh" tinygo >/dev/null || exit
fi
exec "\$here/root/bin/tinygo" "\$@"
EOF
	)
	if [ -f "$TG_WRAPPER" ] && [ -x "$TG_WRAPPER" ] && [ "$(cat "$TG_WRAPPER")" = "$want" ]; then
		return 0
	fi
	mkdir -p "$(dirname "$TG_WRAPPER")"
	printf '%s\n' "$want" >"$TG_WRAPPER.tmp.$$" && chmod 755 "$TG_WRAPPER.tmp.$$" &&
		mv -f "$TG_WRAPPER.tmp.$$" "$TG_WRAPPER" || fail "could not write $TG_WRAPPER"
}

# tinygo_check: the built tinygo runs, reports the pinned version and uses the local cache.
tinygo_check() {
	step "check tinygo"
	local out
	out=$(env XDG_CACHE_HOME="$TG_XDG" "$TG_ROOT/bin/tinygo" version 2>&1) ||
		fail "$TG_ROOT/bin/tinygo version: $out"
	case $out in
	"tinygo version $TINYGO_VERSION "*) ;;
	*) fail "$TG_ROOT/bin/tinygo reports \"$out\", want $TINYGO_VERSION" ;;
	esac
	out=$(env XDG_CACHE_HOME="$TG_XDG" "$TG_ROOT/bin/tinygo" env GOCACHE 2>&1) ||
		fail "$TG_ROOT/bin/tinygo env GOCACHE: $out"
	[ "$out" = "$TG_CACHE" ] || fail "tinygo uses cache $out, want $TG_CACHE"
	command -v wasm-opt >/dev/null || fail "wasm-opt not found on PATH (package binaryen)"
}

# bootstrap_tinygo: makes sure the project-local, patched TinyGo works and sets TINYGO to the
# path of the tinygo to call.
TINYGO=
bootstrap_tinygo() {
	TARGET="tinygo bootstrap"
	# One bootstrap at a time (parallel builds, or wrappers after a `tinygo clean`).
	mkdir -p "$TG_DIR"
	if command -v flock >/dev/null; then
		exec 9>"$TG_DIR/lock"
		flock 9 || fail "could not lock $TG_DIR/lock"
	fi
	tinygo_debs
	step "check stamp $TG_STAMP"
	local want
	want=$(tinygo_stamp)
	if [ ! -x "$TG_ROOT/bin/tinygo" ] || [ ! -f "$TG_STAMP" ] || [ "$(cat "$TG_STAMP")" != "$want" ]; then
		tinygo_build
	fi
	tinygo_patch_runtime
	tinygo_place_libs
	tinygo_wrapper
	if [ ! -f "$TG_STAMP" ] || [ "$(cat "$TG_STAMP")" != "$want" ]; then
		tinygo_check
		printf '%s\n' "$want" >"$TG_STAMP"
	fi
	# Release the lock: the wrapper may run this script again (after a `tinygo clean`).
	exec 9>&-
	TINYGO=$TG_WRAPPER
}

# ---------------------------------------------------------------------------------------------
case "${1:-all}" in
all | build)
	build_cli
	build_wasm
	;;
wasm) build_wasm ;;
tinygo)
	bootstrap_tinygo
	printf '%s\n' "$TINYGO"
	;;
*)
	printf 'usage: %s [all|wasm|tinygo]\n' "$0" >&2
	exit 2
	;;
esac
