package model

// Semver is a parsed semantic version. Build metadata is dropped: it has no precedence.
type Semver struct {
	Major, Minor, Patch uint64
	Pre                 string // dot-separated prerelease identifiers, "" for a release
}

// ParseSemver parses a SemVer 2.0 version, leniently: a leading "v" and a missing minor or
// patch ("2", "2.1") are accepted. It does not allocate.
func ParseSemver(s string) (Semver, bool) {
	var v Semver
	if len(s) > 0 && (s[0] == 'v' || s[0] == 'V') {
		s = s[1:]
	}
	// Cut build metadata, then the prerelease.
	for i := 0; i < len(s); i++ {
		if s[i] == '+' {
			if !validIdents(s[i+1:], false) {
				return v, false
			}
			s = s[:i]
			break
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			v.Pre = s[i+1:]
			if !validIdents(v.Pre, true) {
				return v, false
			}
			s = s[:i]
			break
		}
	}
	var parts [3]uint64
	n := 0
	for {
		num, rest, ok := leadingUint(s)
		if !ok || n == 3 {
			return v, false
		}
		parts[n] = num
		n++
		if rest == "" {
			break
		}
		if rest[0] != '.' {
			return v, false
		}
		s = rest[1:]
	}
	v.Major, v.Minor, v.Patch = parts[0], parts[1], parts[2]
	return v, true
}

func leadingUint(s string) (uint64, string, bool) {
	var n uint64
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n > (1<<63)/10 {
			return 0, s, false
		}
		n = n*10 + uint64(s[i]-'0')
	}
	return n, s[i:], i > 0
}

// validIdents checks dot-separated non-empty identifiers of [0-9A-Za-z-].
func validIdents(s string, pre bool) bool {
	if s == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if i == start {
				return false
			}
			start = i + 1
			continue
		}
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// CompareSemver returns -1, 0 or 1 by SemVer precedence.
func CompareSemver(a, b *Semver) int {
	switch {
	case a.Major != b.Major:
		return cmpUint(a.Major, b.Major)
	case a.Minor != b.Minor:
		return cmpUint(a.Minor, b.Minor)
	case a.Patch != b.Patch:
		return cmpUint(a.Patch, b.Patch)
	case a.Pre == b.Pre:
		return 0
	}
	return comparePrerelease(a.Pre, b.Pre)
}

// comparePrerelease orders versions that differ only in their prerelease identifiers.
func comparePrerelease(x, y string) int {
	switch {
	case x == "":
		return 1
	case y == "":
		return -1
	}
	for {
		var ix, iy string
		ix, x = cutDot(x)
		iy, y = cutDot(y)
		if c := cmpIdent(ix, iy); c != 0 {
			return c
		}
		if x == "" || y == "" {
			switch {
			case x == "" && y == "":
				return 0
			case x == "":
				return -1
			default:
				return 1
			}
		}
	}
}

func cutDot(s string) (string, string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// cmpIdent compares prerelease identifiers: numeric ones numerically and below alphanumeric
// ones, alphanumeric ones in ASCII order.
func cmpIdent(a, b string) int {
	na, ra, oka := leadingUint(a)
	nb, rb, okb := leadingUint(b)
	numA, numB := oka && ra == "", okb && rb == ""
	switch {
	case numA && numB:
		return cmpUint(na, nb)
	case numA:
		return -1
	case numB:
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
