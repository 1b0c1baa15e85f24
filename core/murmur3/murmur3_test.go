package murmur3

import (
	"strconv"
	"strings"
	"testing"
)

// Published reference values of MurmurHash3_x86_32 with seed 0.
var reference = []struct {
	in   string
	want uint32
}{
	{"", 0},
	{"hello", 0x248bfa47},
	{"Hello, world!", 0xc0363e43},
	{"The quick brown fox jumps over the lazy dog", 0x2e4ff723},
}

func TestReference(t *testing.T) {
	for _, c := range reference {
		if got := SumString(c.in); got != c.want {
			t.Errorf("SumString(%q) = %#x, want %#x", c.in, got, c.want)
		}
		if got := Sum([]byte(c.in)); got != c.want {
			t.Errorf("Sum(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

// Every split of a string into prefix and rest must hash like the whole string.
func TestPrefixSplits(t *testing.T) {
	inputs := []string{"", "a", "ab", "abc", "abcd", "abcde", "flag-key.user-123", "ünïcødé.日本語🙂", strings.Repeat("xyz", 11)}
	for _, s := range inputs {
		want := SumString(s)
		for i := 0; i <= len(s); i++ {
			if got := NewPrefix(s[:i]).SumString(s[i:]); got != want {
				t.Fatalf("NewPrefix(%q).SumString(%q) = %#x, want %#x", s[:i], s[i:], got, want)
			}
		}
	}
}

func TestBucketRange(t *testing.T) {
	if Bucket(0) != 0 || Bucket(^uint32(0)) != 99999 {
		t.Fatalf("Bucket bounds: %d %d", Bucket(0), Bucket(^uint32(0)))
	}
}

func TestPrefixNoAlloc(t *testing.T) {
	p := NewPrefix("new-checkout.")
	if n := testing.AllocsPerRun(100, func() { _ = p.SumString("user-42") }); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

func BenchmarkPrefixSum(b *testing.B) {
	p := NewPrefix("new-checkout.")
	for b.Loop() {
		_ = p.SumString("user-1234567")
	}
}

func TestSumInt(t *testing.T) {
	p := NewPrefix("salt.")
	for _, n := range []int64{0, 7, -7, 42, 1 << 53, -(1 << 53), 9223372036854775807, -9223372036854775808} {
		if got, want := p.SumInt(n), p.SumString(strconv.FormatInt(n, 10)); got != want {
			t.Errorf("SumInt(%d) = %#x, want %#x", n, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = p.SumInt(123456789) }); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}
