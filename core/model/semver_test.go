package model

import "testing"

func TestSemverOrder(t *testing.T) {
	// Ascending by SemVer 2.0 precedence (semver.org §11), plus the lenient forms.
	order := []string{"0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2", "v1.2.1", "2", "2.0.1+build.5", "10.0.0"}
	for i := range order {
		for j := range order {
			a, ok1 := ParseSemver(order[i])
			b, ok2 := ParseSemver(order[j])
			if !ok1 || !ok2 {
				t.Fatalf("parse %q/%q failed", order[i], order[j])
			}
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := CompareSemver(&a, &b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	a, _ := ParseSemver("1.0.0+a")
	b, _ := ParseSemver("1.0.0+b")
	if CompareSemver(&a, &b) != 0 {
		t.Error("build metadata must not affect precedence")
	}
	for _, bad := range []string{"", "v", "1.", "1..2", "1.2.3.4", "1.x", "1.0.0-", "1.0.0-a..b", "1.0.0+", "a.b.c", "1.0.0-é", "-1.0.0"} {
		if _, ok := ParseSemver(bad); ok {
			t.Errorf("ParseSemver(%q) accepted", bad)
		}
	}
}

func TestParseTime(t *testing.T) {
	for s, want := range map[string]int64{
		"1970-01-01T00:00:00Z":         0,
		"2026-11-23T12:00:00Z":         1795435200000,
		"2026-11-23T12:00:00.250Z":     1795435200250,
		"2026-11-23T12:00:00.2509999Z": 1795435200250,
		"2026-11-23T13:30:00+01:30":    1795435200000,
		"2026-11-23t12:00:00z":         1795435200000,
		"2000-02-29T00:00:00Z":         951782400000,
		"1969-12-31T23:59:59Z":         -1000,
		"0000-01-01T00:00:00Z":         -62167219200000,
	} {
		got, ok := ParseTime(s)
		if !ok || got != want {
			t.Errorf("ParseTime(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, bad := range []string{"", "2026-11-23", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
		"2026-11-23T24:00:00Z", "2026-11-23T12:00:00", "2026-11-23T12:00:00.Z", "2026-11-23T12:00:00+1:00", "2026-11-23T12:00:60Z"} {
		if _, ok := ParseTime(bad); ok {
			t.Errorf("ParseTime(%q) accepted", bad)
		}
	}
}
