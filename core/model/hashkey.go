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
	PutHashKey(&out, nil, salt, key)
	return string(out[:])
}

// PutHashKey writes HashKey(salt, key) into dst. The hashed input is built in scratch, which
// is returned (grown if it had to be) so that a caller keeping it hashes without allocating.
func PutHashKey(dst *[HashedKeyLen]byte, scratch []byte, salt, key string) []byte {
	const hex = "0123456789abcdef"
	scratch = append(append(append(scratch[:0], salt...), '.'), key...)
	sum := sum256(scratch)
	for i, b := range sum[:HashedKeyLen/2] {
		dst[2*i], dst[2*i+1] = hex[b>>4], hex[b&0xf]
	}
	return scratch
}
