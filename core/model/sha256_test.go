package model

import (
	"crypto/sha256"
	"strings"
	"testing"
)

// sum256 is SHA-256: it agrees with crypto/sha256 at every length around the block and
// padding boundaries.
func TestSum256(t *testing.T) {
	msg := []byte(strings.Repeat("vexil-ünïcødé-0123456789", 12))
	for n := 0; n <= len(msg); n++ {
		if got, want := sum256(msg[:n]), sha256.Sum256(msg[:n]); got != want {
			t.Fatalf("length %d: %x, want %x", n, got, want)
		}
	}
}

func FuzzSum256(f *testing.F) {
	f.Add([]byte("abc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := sum256(b), sha256.Sum256(b); got != want {
			t.Fatalf("%q: %x, want %x", b, got, want)
		}
	})
}
