#!/usr/bin/env bash
# Builds everything Vexil ships into dist/. Idempotent; safe to run again.
#   ./build.sh          (or ./build.sh all) builds dist/vexil, the command line
#                       (validate, eval; the daemon joins it later)
#   ./build.sh tinygo   makes sure TinyGo v0.41.1 works and prints the absolute path of the
#                       tinygo to call on stdout (all progress goes to stderr), for the wasm build:
#                         TINYGO=$(./build.sh tinygo) && "$TINYGO" build -target=wasm-unknown ...
# The wasm modules (dist/vexil.wasm with TinyGo, dist/vexil-go.wasm with Go) arrive with the
# wasm engine.
#
# TinyGo bootstrap. A `tinygo` on PATH is used if `tinygo version` says 0.41.1. Otherwise a
# project-local copy lives in .cache/tinygo/ (git-ignored):
#   root/            TINYGOROOT: the module source from the Go module proxy, bin/tinygo built in it
#                    against Debian's LLVM 19 (go build -tags=llvm19)
#   xdg/tinygo/      TinyGo's cache (v0.41.1 takes it from os.UserCacheDir, i.e. XDG_CACHE_HOME;
#                    it ignores GOCACHE). Debian's prebuilt compiler-rt and wasi-libc are placed
#                    here, because the module zip has no lib/ sources for TinyGo to build them from.
#   bin/tinygo       the path printed: a wrapper that sets XDG_CACHE_HOME and runs root/bin/tinygo,
#                    re-running `./build.sh tinygo` first if the libraries are gone (`tinygo clean`
#                    wipes them) or TinyGo itself is
#   stamp            TinyGo version, Go version and Debian package versions of the current build
# A second run with a matching stamp only checks files and takes well under a second.
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
	printf 'tinygo v%s\n%s\n' "$TINYGO_VERSION" "$(go env GOVERSION)"
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
# \`tinygo clean\` removes the prebuilt libraries placed in the cache: put them back.
if ! { [ -x "\$here/root/bin/tinygo" ] && [ -f "$c/$TG_LIB_COMPILER_RT_UNKNOWN/lib.a" ] && [ -f "$c/$TG_LIB_COMPILER_RT_WASI/lib.a" ] &&
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

# bootstrap_tinygo: makes sure TinyGo works; prints the path of the tinygo to call on stdout.
bootstrap_tinygo() {
	TARGET="tinygo bootstrap"
	step "look for tinygo $TINYGO_VERSION on PATH"
	local found
	if found=$(command -v tinygo) && [ "$found" != "$TG_WRAPPER" ] &&
		tinygo version 2>/dev/null | grep -q "^tinygo version $TINYGO_VERSION "; then
		printf '    using %s\n' "$found" >&2
		printf '%s\n' "$found"
		return 0
	fi
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
	tinygo_place_libs
	tinygo_wrapper
	if [ ! -f "$TG_STAMP" ] || [ "$(cat "$TG_STAMP")" != "$want" ]; then
		tinygo_check
		printf '%s\n' "$want" >"$TG_STAMP"
	fi
	printf '%s\n' "$TG_WRAPPER"
}

# ---------------------------------------------------------------------------------------------
case "${1:-all}" in
all | build) build_cli ;;
tinygo) bootstrap_tinygo ;;
*)
	printf 'usage: %s [all|tinygo]\n' "$0" >&2
	exit 2
	;;
esac
