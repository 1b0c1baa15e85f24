package model

import (
	"crypto/sha256"
	"strings"
	"testing"
)

// sum256 hashes b written in two pieces, cut at cut (clamped to b).
func sum256(b []byte, cut int) [32]byte {
	cut = min(max(cut, 0), len(b))
	d := newSHA256()
	d.writeString(string(b[:cut]))
	d.writeString(string(b[cut:]))
	return d.sum()
}

// The digest is SHA-256: it agrees with crypto/sha256 at every length around the block and
// padding boundaries, however the input is cut into writes.
func TestSum256(t *testing.T) {
	msg := []byte(strings.Repeat("vexil-ünïcødé-0123456789", 12))
	for n := 0; n <= len(msg); n++ {
		for _, cut := range []int{0, 1, n / 2, 63, 64, 65, n} {
			if got, want := sum256(msg[:n], cut), sha256.Sum256(msg[:n]); got != want {
				t.Fatalf("length %d cut at %d: %x, want %x", n, cut, got, want)
			}
		}
	}
}

func FuzzSum256(f *testing.F) {
	f.Add([]byte("abc"), 1)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		if got, want := sum256(b, cut), sha256.Sum256(b); got != want {
			t.Fatalf("%q cut at %d: %x, want %x", b, cut, got, want)
		}
	})
}
