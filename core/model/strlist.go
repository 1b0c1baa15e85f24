package model

// Head packs a string's length (capped at 255) and its first seven bytes into one word, so a
// lookup in a short string list compares integers and touches string bytes only for a likely
// match: equal heads mean equal strings when the length is at most seven. Contexts compute the
// head of each string attribute once, when it is set.
func Head(s string) uint64 {
	n := len(s)
	h := uint64(min(n, 255)) << 56
	if n > 7 {
		n = 7
	}
	for i := 0; i < n; i++ {
		h |= uint64(s[i]) << (8 * i)
	}
	return h
}

// StringList is a clause's string values prepared for lookup: short lists are scanned by head,
// long ones (setThreshold and more) go through a hash set.
type StringList struct {
	heads []uint64
	strs  []string
	set   map[string]struct{}
}

func newStringList(strs []string) StringList {
	l := StringList{strs: strs}
	if len(strs) >= setThreshold {
		l.set = set(strs)
		return l
	}
	l.heads = make([]uint64, len(strs))
	for i, s := range strs {
		l.heads[i] = Head(s)
	}
	return l
}

// Has reports whether s, whose Head is head, is in the list.
func (l *StringList) Has(s string, head uint64) bool {
	if l.set != nil {
		_, ok := l.set[s]
		return ok
	}
	for i, h := range l.heads {
		if h == head && (len(s) <= 7 || l.strs[i] == s) {
			return true
		}
	}
	return false
}
