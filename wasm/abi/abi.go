// Package abi is the byte-level contract between a wasm host and the Vexil guest (ABI.md):
// the binary context encoding, written by hosts with Encoder and read by the guest with
// Decoder. Both sides are Go, so they share this one implementation; the JS host follows
// ABI.md. Nothing here allocates once its buffers have grown to the working size, and nothing
// uses reflection or fmt, so the guest compiles with TinyGo.
package abi

import (
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"

	"github.com/vexil-flags/vexil/core"
)

// Version is the ABI version of ABI.md; the guest's abi-version export returns it.
const Version = 1

// Value types of context entries.
const (
	TypeString  = 1
	TypeNumber  = 2
	TypeBool    = 3
	TypeStrings = 4
)

// HeaderSize is the fixed context header: i64 now, u32 random, u32 entry count.
const HeaderSize = 16

// Encoder builds a context encoding. Reuse one per request path: Reset keeps the storage.
type Encoder struct {
	buf   []byte
	count uint32
}

// Reset starts a new context evaluated at now (epoch ms) with the given random number.
func (e *Encoder) Reset(now int64, random uint32) {
	e.buf = binary.LittleEndian.AppendUint64(e.buf[:0], uint64(now))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, random)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, 0)
	e.count = 0
}

func (e *Encoder) entry(id uint32, typ byte) {
	if len(e.buf) < HeaderSize {
		e.Reset(0, 0)
	}
	e.buf = binary.LittleEndian.AppendUint32(e.buf, id)
	e.buf = append(e.buf, typ)
	e.count++
}

func (e *Encoder) appendString(s string) {
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(s)))
	e.buf = append(e.buf, s...)
}

// String adds a string attribute; id 0 is the targeting key.
func (e *Encoder) String(id uint32, s string) {
	e.entry(id, TypeString)
	e.appendString(s)
}

// Number adds a number attribute.
func (e *Encoder) Number(id uint32, n float64) {
	e.entry(id, TypeNumber)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(n))
}

// Bool adds a boolean attribute.
func (e *Encoder) Bool(id uint32, b bool) {
	e.entry(id, TypeBool)
	v := byte(0)
	if b {
		v = 1
	}
	e.buf = append(e.buf, v)
}

// Strings adds a list-of-strings attribute.
func (e *Encoder) Strings(id uint32, list []string) {
	e.entry(id, TypeStrings)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(list)))
	for _, s := range list {
		e.appendString(s)
	}
}

// Bytes returns the encoding; it is valid until the next call on e.
func (e *Encoder) Bytes() []byte {
	if len(e.buf) < HeaderSize {
		e.Reset(0, 0)
	}
	binary.LittleEndian.PutUint32(e.buf[12:16], e.count)
	return e.buf
}

// Decoder fills a core.Context from an encoding. It copies the bytes into its own arena, so
// the caller's buffer may be reused at once, and the context's strings stay valid until the
// next Decode.
type Decoder struct {
	arena []byte
	lists []string
}

// Error says what is malformed in an encoding.
type Error struct {
	Offset  int
	Message string
}

func (e *Error) Error() string {
	return "context encoding at byte " + strconv.Itoa(e.Offset) + ": " + e.Message
}

// Decode replaces the attributes of ctx and sets ctx.Now and ctx.Random. On error ctx is left
// with no attributes.
func (d *Decoder) Decode(data []byte, ctx *core.Context, attributes int) error {
	ctx.ClearAttributes()
	if err := d.decode(data, ctx, attributes); err != nil {
		ctx.ClearAttributes() // never half-applied
		return err
	}
	return nil
}

func (d *Decoder) decode(data []byte, ctx *core.Context, attributes int) error {
	d.arena = append(d.arena[:0], data...)
	b := d.arena
	if len(b) < HeaderSize {
		return &Error{0, "shorter than the 16-byte header"}
	}
	now := int64(binary.LittleEndian.Uint64(b))
	random := binary.LittleEndian.Uint32(b[8:])
	count := binary.LittleEndian.Uint32(b[12:])
	d.lists = d.lists[:0]
	off := HeaderSize
	for i := uint32(0); i < count; i++ {
		if len(b)-off < 5 {
			return &Error{off, "truncated entry"}
		}
		id := binary.LittleEndian.Uint32(b[off:])
		typ := b[off+4]
		at := off
		off += 5
		if id >= uint32(attributes) {
			return &Error{at, "attribute id " + strconv.FormatUint(uint64(id), 10) + " out of range"}
		}
		if id == 0 && typ != TypeString {
			return &Error{at, "the targeting key (id 0) must be a string"}
		}
		switch typ {
		case TypeString:
			s, next, ok := d.str(off)
			if !ok {
				return &Error{off, "truncated string"}
			}
			ctx.SetStringID(int(id), s)
			off = next
		case TypeNumber:
			if len(b)-off < 8 {
				return &Error{off, "truncated number"}
			}
			ctx.SetNumberID(int(id), math.Float64frombits(binary.LittleEndian.Uint64(b[off:])))
			off += 8
		case TypeBool:
			if len(b)-off < 1 || b[off] > 1 {
				return &Error{off, "bool must be one byte, 0 or 1"}
			}
			ctx.SetBoolID(int(id), b[off] == 1)
			off++
		case TypeStrings:
			if len(b)-off < 4 {
				return &Error{off, "truncated list"}
			}
			// Compared as uint64: on wasm32 (TinyGo) int is 32 bits, and a length of 2^31 or
			// more would turn negative and pass the check.
			n64 := uint64(binary.LittleEndian.Uint32(b[off:]))
			off += 4
			if n64 > uint64((len(b)-off)/4) {
				return &Error{off, "list longer than the encoding"}
			}
			n := int(n64)
			start := len(d.lists)
			for j := 0; j < n; j++ {
				s, next, ok := d.str(off)
				if !ok {
					return &Error{off, "truncated string in list"}
				}
				d.lists = append(d.lists, s)
				off = next
			}
			ctx.SetStringsID(int(id), d.lists[start:len(d.lists):len(d.lists)])
		default:
			return &Error{at + 4, "unknown value type " + strconv.Itoa(int(typ))}
		}
	}
	if off != len(b) {
		return &Error{off, "trailing bytes after the last entry"}
	}
	ctx.Now, ctx.Random = now, random
	return nil
}

// str reads a u32-length-prefixed string at off as a view of the arena (no copy).
func (d *Decoder) str(off int) (string, int, bool) {
	b := d.arena
	if len(b)-off < 4 {
		return "", off, false
	}
	n64 := uint64(binary.LittleEndian.Uint32(b[off:])) // not int: see the list length
	off += 4
	if n64 > uint64(len(b)-off) {
		return "", off, false
	}
	n := int(n64)
	if n == 0 {
		return "", off, true
	}
	return unsafe.String(&b[off], n), off + n, true
}
