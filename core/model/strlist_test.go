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
	values := []string{"", "a", "DE", "1234567", "12345678", "12345679", "prefix-one", "prefix-two",
		"ünïcødé", long, long + "y", "\x00", "a\x00"}
	probes := append([]string{"b", "123456", "1234567x", "12345670", "prefix-", "prefix-three", long[:299],
		long + "z", "ünïcød", "\x00\x00"}, values...)
	for _, n := range []int{0, 1, 5, len(values)} {
		for _, extra := range []int{0, setThreshold} { // past the threshold the list is a hash set
			list := append([]string(nil), values[:n]...)
			for i := 0; i < extra; i++ {
				list = append(list, fmt.Sprintf("filler-%d", i))
			}
			l := newStringList(list)
			if (l.set != nil) != (len(list) >= setThreshold) {
				t.Fatalf("%d values: set = %v", len(list), l.set != nil)
			}
			for _, p := range probes {
				want := false
				for _, v := range list {
					want = want || v == p
				}
				if got := l.Has(p, Head(p)); got != want {
					t.Errorf("%d values: Has(%q) = %v, want %v", len(list), p, got, want)
				}
			}
		}
	}
}
