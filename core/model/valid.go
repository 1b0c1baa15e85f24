package model

import "math/bits"

// validJSON reports whether d is exactly one JSON value (RFC 8259) with optional whitespace
// around it. It is the gate the scanner relies on (see val), and the first pass over every
// snapshot, so it is built for speed: string bodies are scanned eight bytes at a time, and it
// is iterative — nesting costs one byte of heap per level, never stack, which matters in the
// wasm guest's small stack. Like gjson it does not check that strings are valid UTF-8.
func validJSON(d string) bool {
	var open []byte // '{' or '[' for each container entered and not yet closed
	var ok bool
	i := skipWS(d, 0)
	for {
		// A value starts at i.
		if i >= len(d) {
			return false
		}
		switch c := d[i]; c {
		case '{':
			if i = skipWS(d, i+1); i < len(d) && d[i] == '}' {
				i++
				goto after
			}
			open = append(open, '{')
			goto key
		case '[':
			if i = skipWS(d, i+1); i < len(d) && d[i] == ']' {
				i++
				goto after
			}
			open = append(open, '[')
			continue
		case '"':
			if i, ok = validString(d, i+1); !ok {
				return false
			}
		case 't':
			if i, ok = literal(d, i, "true"); !ok {
				return false
			}
		case 'f':
			if i, ok = literal(d, i, "false"); !ok {
				return false
			}
		case 'n':
			if i, ok = literal(d, i, "null"); !ok {
				return false
			}
		default:
			if i, ok = validNumber(d, i); !ok {
				return false
			}
		}
	after: // a value ended before i: what may follow it?
		i = skipWS(d, i)
		if len(open) == 0 {
			return i == len(d)
		}
		if i >= len(d) {
			return false
		}
		switch d[i] {
		case ',':
			i = skipWS(d, i+1)
			if open[len(open)-1] == '[' {
				continue
			}
		case '}', ']':
			if d[i] != open[len(open)-1]+2 { // '{'+2 == '}', '['+2 == ']'
				return false
			}
			open = open[:len(open)-1]
			i++
			goto after
		default:
			return false
		}
	key: // an object member starts at i
		if i >= len(d) || d[i] != '"' {
			return false
		}
		if i, ok = validString(d, i+1); !ok {
			return false
		}
		if i = skipWS(d, i); i >= len(d) || d[i] != ':' {
			return false
		}
		i = skipWS(d, i+1)
	}
}

// skipWS skips JSON whitespace: space, tab, line feed, carriage return.
func skipWS(d string, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t') {
		i++
	}
	return i
}

func literal(d string, i int, lit string) (int, bool) {
	if len(d)-i >= len(lit) && d[i:i+len(lit)] == lit {
		return i + len(lit), true
	}
	return i, false
}

// validString checks the string whose contents start at i and returns the offset after its
// closing quote.
func validString(d string, i int) (int, bool) {
	for {
		// Find the first quote, backslash or control byte, eight bytes at a time. Borrows only
		// flag bytes above a real match, so the lowest flagged byte is exact.
		for ; i+8 <= len(d); i += 8 {
			w := load64(d, i)
			q := w ^ (ones * '"')
			s := w ^ (ones * '\\')
			if m := ((q-ones)&^q | (s-ones)&^s | (w-ones*0x20)&^w) & highs; m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
		}
		for ; i < len(d); i++ {
			if c := d[i]; c == '"' || c == '\\' || c < 0x20 {
				break
			}
		}
		if i >= len(d) || d[i] < 0x20 {
			return i, false
		}
		if d[i] == '"' {
			return i + 1, true
		}
		// A backslash: one of the eight escapes, or \u and four hex digits.
		if i++; i >= len(d) {
			return i, false
		}
		switch d[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if len(d)-i < 5 || !isHex(d[i+1]) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) {
				return i, false
			}
			i += 5
		default:
			return i, false
		}
	}
}

func isHex(c byte) bool { return c-'0' < 10 || (c|0x20)-'a' < 6 }

// validNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at i.
func validNumber(d string, i int) (int, bool) {
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i >= len(d):
		return i, false
	case d[i] == '0':
		i++
	case d[i]-'1' < 9:
		i = digitsFrom(d, i+1)
	default:
		return i, false
	}
	if i < len(d) && d[i] == '.' {
		j := digitsFrom(d, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		if i++; i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digitsFrom(d, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func digitsFrom(d string, i int) int {
	for i < len(d) && d[i]-'0' < 10 {
		i++
	}
	return i
}
