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

// StringList is a list of strings prepared for lookup — a clause's values, a flag's target
// keys, a segment's included or excluded keys: short lists are scanned by head, long ones
// (setThreshold and more) go through a hash map.
type StringList struct {
	heads []uint64
	strs  []string
	index map[string]int32
}

// NewStringList prepares strs (kept, not copied) for lookup. A string listed twice is found at
// its first position.
func NewStringList(strs []string) StringList {
	l := StringList{strs: strs}
	if len(strs) >= setThreshold {
		l.index = make(map[string]int32, len(strs))
		for i := len(strs) - 1; i >= 0; i-- {
			l.index[strs[i]] = int32(i)
		}
		return l
	}
	l.heads = make([]uint64, len(strs))
	for i, s := range strs {
		l.heads[i] = Head(s)
	}
	return l
}

// Len returns the number of strings in the list.
func (l *StringList) Len() int { return len(l.strs) }

// Index returns the first position of s, whose Head is head, or -1.
func (l *StringList) Index(s string, head uint64) int {
	if l.index != nil {
		if i, ok := l.index[s]; ok {
			return int(i)
		}
		return -1
	}
	for i, h := range l.heads {
		if h == head && (len(s) <= 7 || l.strs[i] == s) {
			return i
		}
	}
	return -1
}

// Has reports whether s, whose Head is head, is in the list.
func (l *StringList) Has(s string, head uint64) bool { return l.Index(s, head) >= 0 }
