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

// StrHash is the hash long StringLists index by: eight bytes at a time, multiply and
// xor-shift. It is the engine's own rather than a Go map's because every host runs the same
// code: TinyGo's map hashes a byte at a time and adds allocation-prone bookkeeping, and this
// is the lookup behind individual targets and segment membership.
func StrHash(s string) uint64 {
	const m1, m2 = 0x9e3779b97f4a7c15, 0xff51afd7ed558ccd
	h := uint64(len(s)) * m1
	i := 0
	for ; i+8 <= len(s); i += 8 {
		h = (h ^ load64(s, i)) * m2
		h ^= h >> 32
	}
	if i < len(s) {
		var w uint64
		for j := i; j < len(s); j++ {
			w |= uint64(s[j]) << (8 * (j - i))
		}
		h = (h ^ w) * m2
		h ^= h >> 32
	}
	h *= m1
	return h ^ h>>29
}

// StringList is a list of strings prepared for lookup — a clause's values, a flag's target
// keys, a segment's included or excluded keys: short lists are scanned by head (see Head),
// long ones (setThreshold and more) are indexed by an open-addressing table of StrHash.
type StringList struct {
	heads []uint64
	strs  []string
	// slots is the table of a long list: position + 1 of the string whose StrHash lands there,
	// or 0 when empty; its length is a power of two at least twice the list's, and mask is
	// that length - 1. Nil for short lists.
	slots []uint64
	mask  uint64
}

// NewStringList prepares strs (kept, not copied) for lookup. A string listed twice is found at
// its first position.
func NewStringList(strs []string) StringList {
	n := 0 // table length: a power of two at least twice the list's, for long lists
	if len(strs) >= setThreshold {
		for n = 1; n < 2*len(strs); n <<= 1 {
		}
	}
	// One allocation holds heads and table: fewer, larger objects keep the guest's heap from
	// fragmenting over snapshot reloads.
	buf := make([]uint64, len(strs)+n)
	l := StringList{strs: strs, heads: buf[:len(strs):len(strs)]}
	for i, s := range strs {
		l.heads[i] = Head(s)
	}
	if n == 0 {
		return l
	}
	l.slots, l.mask = buf[len(strs):], uint64(n-1)
	for i, s := range strs {
		if l.Index(s, l.heads[i], StrHash(s)) >= 0 {
			continue // a duplicate: the first stays
		}
		j := StrHash(s) & l.mask
		for l.slots[j] != 0 {
			j = (j + 1) & l.mask
		}
		l.slots[j] = uint64(i + 1)
	}
	return l
}

// Hashed reports whether the list is long enough to be looked up by StrHash; Index then needs
// the string's hash, which callers that look the same string up often compute once.
func (l *StringList) Hashed() bool { return l.slots != nil }

// Index returns the first position of s, or -1. head is Head(s); hash is StrHash(s), and is
// read only when the list is Hashed.
func (l *StringList) Index(s string, head, hash uint64) int {
	if l.slots == nil {
		return l.Scan(s, head)
	}
	for j := hash & l.mask; ; j = (j + 1) & l.mask {
		k := int(l.slots[j]) - 1
		if k < 0 {
			return -1
		}
		if l.heads[k] == head && l.EqualAt(k, s) {
			return k
		}
	}
}

// Heads returns the heads (see Head) of the strings, in order, for callers that scan a short
// list inline; EqualAt then confirms a match of equal heads.
func (l *StringList) Heads() []uint64 { return l.heads }

// EqualAt reports whether s, of the same head as string i, is string i: equal heads mean equal
// strings up to seven bytes, and otherwise equal first seven bytes.
func (l *StringList) EqualAt(i int, s string) bool { return len(s) <= 7 || Equal(l.strs[i][7:], s[7:]) }

// Scan is Index for a short list (not Hashed): it compares heads, and strings only where the
// heads are equal. Small enough to inline into the evaluator's clause loop.
func (l *StringList) Scan(s string, head uint64) int {
	for i, h := range l.heads {
		if h == head && l.EqualAt(i, s) {
			return i
		}
	}
	return -1
}

// Equal reports whether a and b are the same string. The engine's string comparisons are of
// short strings (keys, prefixes, suffixes), compared here a whole word at a time, the last
// word overlapping the one before: TinyGo's own comparison goes a byte at a time, which cost
// more in wasm than the hash table around a key lookup. Natively it is about as fast as ==.
func Equal(a, b string) bool {
	n := len(a)
	if n != len(b) {
		return false
	}
	switch {
	case n >= 8:
		for i := 0; i < n-8; i += 8 {
			if load64(a, i) != load64(b, i) {
				return false
			}
		}
		return load64(a, n-8) == load64(b, n-8)
	case n >= 4:
		return load32(a, 0) == load32(b, 0) && load32(a, n-4) == load32(b, n-4)
	}
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// IndexOf is Index for a string whose head and hash the caller does not keep.
func (l *StringList) IndexOf(s string) int {
	var hash uint64
	if l.slots != nil {
		hash = StrHash(s)
	}
	return l.Index(s, Head(s), hash)
}
