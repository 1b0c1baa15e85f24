package flagdoc

import (
	"strconv"
	"strings"

	"github.com/vexil-flags/vexil/core"
)

// Doc is one stored document: its key and its compact JSON.
type Doc struct {
	Key  string
	JSON []byte
}

// Assemble writes the snapshot of an environment from its documents, in the given order, with
// nothing converted: the documents are the snapshot's array elements.
func Assemble(env string, version uint64, flags, segments []Doc) []byte {
	n := 64 + len(env)
	for _, d := range flags {
		n += len(d.JSON) + 1
	}
	for _, d := range segments {
		n += len(d.JSON) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"schemaVersion":1,"environment":`...)
	b = core.AppendJSONString(b, env)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, version, 10)
	b = appendDocs(append(b, `,"flags":`...), flags)
	b = appendDocs(append(b, `,"segments":`...), segments)
	return append(b, '}')
}

func appendDocs(b []byte, docs []Doc) []byte {
	b = append(b, '[')
	for i, d := range docs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, d.JSON...)
	}
	return append(b, ']')
}

// Subject names the document a change is about, so that problems in it are reported with
// paths relative to it ("rules[0].clauses[0].op") and problems elsewhere with the other
// document's key (`flags["checkout"].prerequisites[0].flag`).
type Subject struct {
	Collection string // "flags" or "segments"; empty when the change has no single subject
	Key        string
}

// Validate compiles snapshot (assembled from flags and segments, in that order) with the
// engine and returns an *Error naming every problem, or nil when every flag and segment loads.
// A change is refused when it makes any document rejected, not just its own: a deleted
// segment would reject every flag using it.
func Validate(snapshot []byte, flags, segments []Doc, subject Subject) error {
	ev, err := core.Load(snapshot)
	if err != nil {
		return Errorf("", "environment does not load: %v", err)
	}
	problems := ev.Snapshot().Problems
	if len(problems) == 0 {
		return nil
	}
	out := &Error{}
	for _, p := range problems {
		out.Fields = append(out.Fields, FieldError{Field: relocate(p.Path, flags, segments, subject), Message: p.Message})
	}
	return out
}

// relocate turns a snapshot path (flags[3].rules[0]) into a document path.
func relocate(path string, flags, segments []Doc, subject Subject) string {
	for _, c := range []struct {
		name string
		docs []Doc
	}{{"flags", flags}, {"segments", segments}} {
		rest, ok := strings.CutPrefix(path, c.name+"[")
		if !ok {
			continue
		}
		end := strings.IndexByte(rest, ']')
		i, err := strconv.Atoi(rest[:max(end, 0)])
		if end < 0 || err != nil || i < 0 || i >= len(c.docs) {
			return path
		}
		key, tail := c.docs[i].Key, strings.TrimPrefix(rest[end+1:], ".")
		if c.name == subject.Collection && key == subject.Key {
			return tail
		}
		return join(c.name+"["+strconv.Quote(key)+"]", tail)
	}
	return path
}
