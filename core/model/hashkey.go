package model

// HashedKeyLen is the length of a hashed key: 32 lowercase hex digits.
const HashedKeyLen = 32

// HashKey is how a browser-safe snapshot writes a targeting key: the first 16 bytes of
// SHA-256(salt + "." + key) in lowercase hex. A snapshot that declares hashedKeys lists target
// and segment keys in this form, so raw user ids and e-mail addresses never reach a browser,
// while a context still matches by hashing its own key. The salt is per environment and public
// (hosts need it), so the hash hides keys from casual reading, not from a dictionary attack on
// a guessable key.
func HashKey(salt, key string) string {
	var out [HashedKeyLen]byte
	new(KeyHasher).Put(&out, salt, key)
	return string(out[:])
}

// KeyHasher computes HashKey into a caller's buffer. Its zero value is ready to use; it
// carries the hash state so that hashing needs no allocation (the state is too large for
// TinyGo to keep off the heap as a local), which keeps evaluation allocation-free.
type KeyHasher struct{ d sha256Digest }

// Put writes HashKey(salt, key) into dst.
func (h *KeyHasher) Put(dst *[HashedKeyLen]byte, salt, key string) {
	const hex = "0123456789abcdef"
	h.d = newSHA256()
	h.d.writeString(salt)
	h.d.writeString(".")
	h.d.writeString(key)
	sum := h.d.sum()
	for i, b := range sum[:HashedKeyLen/2] {
		dst[2*i], dst[2*i+1] = hex[b>>4], hex[b&0xf]
	}
}
