package model

import "strconv"

// Problem is one validation problem: the path of the bad field and what is wrong with it.
type Problem struct {
	Path    string // e.g. flags[3].rules[1].clauses[0].op
	Message string // e.g. unknown operator "betwen"
	// entity orders problems: flags before segments, then by index.
	section, index int
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Error makes a Problem usable as the error that rejects a whole snapshot.
func (p *Problem) Error() string { return p.String() }

// path is a lazily rendered field path: problems are rare, so the happy path builds no strings
// and allocates nothing. A path lives on the stack of the reader of its field and links to
// its parent's; it is rendered only when a problem is reported.
type path struct {
	parent *path
	field  string
	index  int // element index, or -1
}

func (p *path) at(field string) path          { return path{parent: p, field: field, index: -1} }
func (p *path) elem(field string, i int) path { return path{parent: p, field: field, index: i} }

func (p *path) String() string {
	if p == nil {
		return ""
	}
	return string(p.appendTo(nil))
}

// appendTo appends the rendered path to b. It copies the fields' bytes rather than returning
// one of them, so a path and its parents can stay on the stack.
func (p *path) appendTo(b []byte) []byte {
	if p == nil {
		return b
	}
	b = p.parent.appendTo(b)
	if p.field != "" {
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, p.field...)
	}
	if p.index >= 0 {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.index), 10)
		b = append(b, ']')
	}
	return b
}

func quote(s string) string { return strconv.Quote(s) }
