package model

import (
	"fmt"
	"strings"
	"testing"
)

// Short lists (scanned by head) and long ones (hashed) agree with a plain scan, including for
// strings that share their first seven bytes, differ only in length, or are longer than 255.
func TestStringList(t *testing.T) {
	long := strings.Repeat("x", 300)
	values := []string{"", "a", "DE", "a", "DE", "1234567", "12345678", "12345679", "prefix-one", "prefix-two",
		"ünïcødé", long, long + "y", "\x00", "a\x00"}
	probes := append([]string{"b", "123456", "1234567x", "12345670", "prefix-", "prefix-three", long[:299],
		long + "z", "ünïcød", "\x00\x00"}, values...)
	for _, n := range []int{0, 1, 5, len(values)} {
		for _, extra := range []int{0, setThreshold} { // past the threshold the list is a hash set
			list := append([]string(nil), values[:n]...)
			for i := 0; i < extra; i++ {
				list = append(list, fmt.Sprintf("filler-%d", i))
			}
			l := NewStringList(list)
			if l.Hashed() != (len(list) >= setThreshold) {
				t.Fatalf("%d values: hashed = %v", len(list), l.Hashed())
			}
			for _, p := range probes {
				want := -1
				for i := len(list) - 1; i >= 0; i-- {
					if list[i] == p {
						want = i
					}
				}
				if got := l.IndexOf(p); got != want || l.Index(p, Head(p), StrHash(p)) != want {
					t.Errorf("%d values: Index(%q) = %d, want %d", len(list), p, got, want)
				}
			}
		}
	}
}

// A long list is a full open-addressing table: every member is found at its position, and
// strings that are not members are not, however the hashes collide.
func TestStringListLong(t *testing.T) {
	var keys []string
	for i := 0; i < 10000; i++ {
		keys = append(keys, fmt.Sprintf("user-%d@example.com", i))
	}
	keys = append(keys, keys[17]) // a duplicate is found at its first position
	l := NewStringList(keys)
	for i, k := range keys[:10000] {
		if got := l.IndexOf(k); got != i {
			t.Fatalf("IndexOf(%q) = %d, want %d", k, got, i)
		}
	}
	for i := 10000; i < 20000; i++ {
		if k := fmt.Sprintf("user-%d@example.com", i); l.IndexOf(k) != -1 {
			t.Fatalf("IndexOf(%q) found a non-member", k)
		}
	}
}

// Equal is string equality: every length from 0 to 40, a difference at every position.
func TestEqual(t *testing.T) {
	for n := 0; n <= 40; n++ {
		a := strings.Repeat("k", n)
		if !Equal(a, strings.Clone(a)) {
			t.Fatalf("length %d: equal strings differ", n)
		}
		for i := 0; i < n; i++ {
			b := a[:i] + "j" + a[i+1:]
			if Equal(a, b) || Equal(b, a) {
				t.Fatalf("length %d: a difference at %d is missed", n, i)
			}
		}
		if Equal(a, a+"k") || Equal(a+"k", a) {
			t.Fatalf("length %d: a longer string is equal", n)
		}
	}
}
