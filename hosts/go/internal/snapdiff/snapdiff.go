// Package snapdiff tells which flags changed between two snapshots, for change callbacks.
//
// A flag changed when its JSON differs (whitespace included: the daemon renders flags the same
// way every time), when it was added or removed, or when something it depends on changed — a
// segment its clauses name, or a prerequisite flag — since its answers can change with them.
package snapdiff

import (
	"sort"

	"github.com/tidwall/gjson"
)

// Index holds each flag's and segment's JSON and what each flag depends on.
type Index struct {
	flags    map[string]string
	segments map[string]string
	prereqs  map[string][]string // flag → prerequisite flag keys
	segDeps  map[string][]string // flag → segment keys its clauses name
}

// New indexes a snapshot. It never fails: parts that are not what the format says are
// indexed as far as they go (the engine reports them).
func New(snapshot []byte) *Index {
	x := &Index{
		flags:    map[string]string{},
		segments: map[string]string{},
		prereqs:  map[string][]string{},
		segDeps:  map[string][]string{},
	}
	// One string for the whole document, so every raw part below shares its memory.
	root := gjson.Parse(string(snapshot))
	root.Get("flags").ForEach(func(_, f gjson.Result) bool {
		key := f.Get("key").String()
		if _, dup := x.flags[key]; dup {
			return true
		}
		x.flags[key] = f.Raw
		f.Get("prerequisites.#.flag").ForEach(func(_, p gjson.Result) bool {
			x.prereqs[key] = append(x.prereqs[key], p.String())
			return true
		})
		f.Get("rules").ForEach(func(_, r gjson.Result) bool {
			r.Get("clauses").ForEach(func(_, c gjson.Result) bool {
				if op := c.Get("op").String(); op == "inSegment" || op == "notInSegment" {
					c.Get("values").ForEach(func(_, v gjson.Result) bool {
						x.segDeps[key] = append(x.segDeps[key], v.String())
						return true
					})
				}
				return true
			})
			return true
		})
		return true
	})
	root.Get("segments").ForEach(func(_, s gjson.Result) bool {
		key := s.Get("key").String()
		if _, dup := x.segments[key]; !dup {
			x.segments[key] = s.Raw
		}
		return true
	})
	return x
}

// Changed returns the sorted keys of the flags that changed from old to new (every flag of
// new when old is nil, and removed flags too).
func Changed(old, new *Index) []string {
	if old == nil {
		old = &Index{}
	}
	changed := differ(old.flags, new.flags)
	segChanged := differ(old.segments, new.segments)
	for k, segs := range new.segDeps {
		for _, s := range segs {
			if segChanged[s] {
				changed[k] = true
			}
		}
	}
	// Prerequisites: a flag changes with any flag it depends on, transitively.
	for grew := true; grew; {
		grew = false
		for k, pre := range new.prereqs {
			if changed[k] {
				continue
			}
			for _, p := range pre {
				if changed[p] {
					changed[k], grew = true, true
					break
				}
			}
		}
	}
	keys := make([]string, 0, len(changed))
	for k := range changed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// differ returns the keys whose JSON differs between a and b, or that only one has.
func differ(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k, raw := range b {
		if o, ok := a[k]; !ok || o != raw {
			out[k] = true
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out[k] = true
		}
	}
	return out
}
