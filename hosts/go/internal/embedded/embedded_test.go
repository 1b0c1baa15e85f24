package embedded

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The embedded module is the one build.sh builds: a stale copy would ship an engine whose
// behaviour the tests never saw.
func TestModuleMatchesBuild(t *testing.T) {
	built, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "dist", "vexil.wasm"))
	if err != nil {
		t.Fatalf("dist/vexil.wasm: %v (run ./build.sh)", err)
	}
	if !bytes.Equal(Module, built) {
		t.Fatalf("embedded vexil.wasm (%d bytes) differs from dist/vexil.wasm (%d bytes): rebuild with ./build.sh and commit hosts/go/internal/embedded/vexil.wasm", len(Module), len(built))
	}
	if !bytes.HasPrefix(Module, []byte("\x00asm\x01\x00\x00\x00")) {
		t.Fatal("embedded module is not a wasm binary")
	}
}
