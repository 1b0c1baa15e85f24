// Package murmur3 implements MurmurHash3 x86 32-bit, the hash of Vexil's published bucketing spec.
//
// Besides one-shot hashing it offers [Prefix]: the hash state of a fixed leading string (a
// rollout's "salt.") computed once, so each evaluation only hashes the user's value. Nothing
// here allocates, and strings are hashed without converting them to byte slices.
package murmur3

import "math/bits"

const (
	c1 = 0xcc9e2d51
	c2 = 0x1b873593
)

// SumString returns murmur3_x86_32(s, seed 0).
func SumString(s string) uint32 { return Prefix{}.SumString(s) }

// Sum returns murmur3_x86_32(b, seed 0).
func Sum(b []byte) uint32 { return Prefix{}.Sum(b) }

// Prefix is the hash state after a leading string: every whole 4-byte block mixed in, the
// 0–3 leftover bytes kept for the next call. The zero Prefix is the empty string.
type Prefix struct {
	h     uint32
	n     uint32 // total bytes consumed, including tail
	tail  uint32 // leftover bytes, little-endian
	ntail uint8
}

// NewPrefix returns the state after hashing s with seed 0.
func NewPrefix(s string) Prefix { return Prefix{}.add(s) }

func (p Prefix) add(s string) Prefix {
	for i := 0; i < len(s); i++ {
		p.tail |= uint32(s[i]) << (8 * p.ntail)
		p.ntail++
		if p.ntail == 4 {
			p.h = mixBlock(p.h, p.tail)
			p.tail, p.ntail = 0, 0
		}
	}
	p.n += uint32(len(s))
	return p
}

func mixBlock(h, k uint32) uint32 {
	k *= c1
	k = bits.RotateLeft32(k, 15)
	k *= c2
	h ^= k
	h = bits.RotateLeft32(h, 13)
	return h*5 + 0xe6546b64
}

// SumString returns the hash of the prefix followed by s.
func (p Prefix) SumString(s string) uint32 { return sum(p, s) }

// Sum returns the hash of the prefix followed by b.
func (p Prefix) Sum(b []byte) uint32 { return sum(p, b) }

func sum[T string | []byte](p Prefix, s T) uint32 {
	h, tail, ntail := p.h, p.tail, uint32(p.ntail)
	i := 0
	// Complete the block the prefix left open, byte by byte.
	for ntail != 0 && ntail < 4 && i < len(s) {
		tail |= uint32(s[i]) << (8 * ntail)
		ntail++
		i++
	}
	if ntail == 4 {
		h = mixBlock(h, tail)
		tail, ntail = 0, 0
	}
	// Whole blocks straight from s.
	for ; i+4 <= len(s); i += 4 {
		h = mixBlock(h, uint32(s[i])|uint32(s[i+1])<<8|uint32(s[i+2])<<16|uint32(s[i+3])<<24)
	}
	for ; i < len(s); i++ {
		tail |= uint32(s[i]) << (8 * ntail)
		ntail++
	}
	if ntail != 0 {
		k := tail * c1
		k = bits.RotateLeft32(k, 15)
		k *= c2
		h ^= k
	}
	h ^= p.n + uint32(len(s))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// Bucket maps a hash to [0, 100000): hash × 100000 >> 32. Weights are in thousandths of a
// percent, so a bucket below a cumulative weight falls in that weight's range.
func Bucket(h uint32) uint32 { return uint32(uint64(h) * 100000 >> 32) }

// SumInt returns the hash of the prefix followed by n in decimal ("42", "-7"), without
// allocating: bucketing hashes integer attributes by their decimal text.
func (p Prefix) SumInt(n int64) uint32 {
	var buf [20]byte
	i := len(buf)
	u := uint64(n)
	if n < 0 {
		u = uint64(-n)
	}
	for {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if n < 0 {
		i--
		buf[i] = '-'
	}
	return sum(p, buf[i:])
}
