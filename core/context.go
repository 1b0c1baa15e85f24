package core

import (
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/vexil-flags/vexil/core/model"
)

type attrKind uint8

const (
	attrAbsent attrKind = iota
	attrString
	attrNumber
	attrBool
	attrList
)

type attr struct {
	kind attrKind
	b    bool
	ver  verState // whether semver holds s parsed
	n    float64
	s    string
	head uint64 // model.Head(s), for clause string lists
	list []string
	// semver caches s as a version, parsed on first use by a semver clause.
	semver model.Semver
	// keyHashed says Context.hashedKey holds this targeting key hashed (snapshots with
	// hashedKeys); strHashed says strHash holds model.StrHash(s), for long string lists.
	keyHashed, strHashed bool
	strHash              uint64
}

// find looks a string attribute up in l: a short list by scanning its heads, a long one by
// hash, computed once per value however many lists it is looked up in.
func (a *attr) find(l *model.StringList) int {
	if !l.Hashed() {
		return l.Scan(a.s, a.head)
	}
	return a.findHashed(l)
}

func (a *attr) findHashed(l *model.StringList) int {
	if !a.strHashed {
		a.strHash, a.strHashed = model.StrHash(a.s), true
	}
	return l.Index(a.s, a.head, a.strHash)
}

// parseSemver caches the string attribute as a semantic version (or that it is none).
func (a *attr) parseSemver() {
	a.ver = verInvalid
	if v, ok := model.ParseSemver(a.s); ok {
		a.semver, a.ver = v, verValid
	}
}

type verState uint8

const (
	verUnknown verState = iota
	verValid
	verInvalid
)

// Context is a prepared evaluation context: the targeting key and attributes of one request,
// stored by the snapshot's interned attribute ids so that clauses index it directly. Build one
// per request (or Reset and refill one) and evaluate any number of flags with it.
//
// A Context belongs to the snapshot it was made for; attributes no flag of that snapshot uses
// are dropped as they are set. It is not safe for concurrent use.
type Context struct {
	snap  *model.Snapshot
	attrs []attr // by attribute id; attrs[0] is the targeting key

	// Now is the evaluation time in epoch milliseconds, for schedules, experiment windows and
	// before/after clauses. The host sets it; the engine never reads a clock.
	Now int64
	// Random is a uniformly random 32-bit number for percentage-of-time gates; the host draws it.
	Random uint32

	// For snapshots with hashed keys: the targeting key hashed (as an attribute, so that its
	// lookups cache like any other), its text, and the hash's state.
	hashedAttr attr
	hashedKey  [model.HashedKeyLen]byte
	keyHasher  model.KeyHasher
}

// targetKey returns the targeting key as the snapshot's targets and segments list keys — as it
// is, or hashed (model.HashKey) on first use after it was set. The caller checks that the key
// is a string.
func (c *Context) targetKey() *attr {
	a := &c.attrs[0]
	if !c.snap.HashedKeys {
		return a
	}
	if !a.keyHashed {
		c.keyHasher.Put(&c.hashedKey, c.snap.KeySalt, a.s)
		c.hashedAttr = stringAttr(unsafe.String(&c.hashedKey[0], len(c.hashedKey)))
		a.keyHashed = true
	}
	return &c.hashedAttr
}

// NewContext returns an empty context for the evaluator's snapshot.
func (e *Evaluator) NewContext() *Context {
	return &Context{snap: e.snap, attrs: make([]attr, len(e.snap.Attributes))}
}

// Reset clears every attribute, the targeting key, Now and Random, keeping the storage.
func (c *Context) Reset() {
	clear(c.attrs)
	c.Now, c.Random = 0, 0
}

// ClearAttributes clears every attribute and the targeting key; Now and Random stay.
func (c *Context) ClearAttributes() { clear(c.attrs) }

// SetTargetingKey sets the key used by targets, segments and default bucketing.
func (c *Context) SetTargetingKey(key string) { c.attrs[0] = stringAttr(key) }

// AttributeID returns the id of an attribute name, or -1 when the snapshot does not use it.
func (c *Context) AttributeID(name string) int { return c.snap.AttributeID(name) }

// SetString sets a string attribute; it reports false when the snapshot does not use name.
func (c *Context) SetString(name, v string) bool { return c.set(name, stringAttr(v)) }

// SetNumber sets a number attribute.
func (c *Context) SetNumber(name string, v float64) bool {
	return c.set(name, attr{kind: attrNumber, n: v})
}

// SetBool sets a boolean attribute.
func (c *Context) SetBool(name string, v bool) bool { return c.set(name, attr{kind: attrBool, b: v}) }

// SetStrings sets a list-of-strings attribute. The context keeps the slice: do not change it
// while the context is in use.
func (c *Context) SetStrings(name string, v []string) bool {
	return c.set(name, attr{kind: attrList, list: v})
}

// SetStringID, SetNumberID, SetBoolID and SetStringsID set an attribute by its id (see
// AttributeID; 0 is the targeting key), for hosts that resolve names once per snapshot.
// Ids out of range are ignored.
func (c *Context) SetStringID(id int, v string) { c.setID(id, stringAttr(v)) }

// SetNumberID sets a number attribute by id.
func (c *Context) SetNumberID(id int, v float64) { c.setID(id, attr{kind: attrNumber, n: v}) }

// SetBoolID sets a boolean attribute by id.
func (c *Context) SetBoolID(id int, v bool) { c.setID(id, attr{kind: attrBool, b: v}) }

// SetStringsID sets a list-of-strings attribute by id; the context keeps the slice.
func (c *Context) SetStringsID(id int, v []string) { c.setID(id, attr{kind: attrList, list: v}) }

func stringAttr(s string) attr { return attr{kind: attrString, s: s, head: model.Head(s)} }

func (c *Context) setID(id int, a attr) {
	if id >= 0 && id < len(c.attrs) {
		c.attrs[id] = a
	}
}

func (c *Context) set(name string, a attr) bool {
	id := c.snap.AttributeID(name)
	if id < 0 {
		return false
	}
	c.attrs[id] = a
	return true
}

// ContextError names the context field that could not be used.
type ContextError struct {
	Field   string // e.g. context.address
	Message string
}

func (e *ContextError) Error() string { return e.Field + ": " + e.Message }

// SetJSON fills the context from a flat JSON object in OpenFeature's shape:
// {"targetingKey": "user-1", "plan": "pro", "age": 42, "beta": true, "groups": ["a", "b"]}.
// It replaces every attribute and the targeting key; Now and Random are left as they are.
// Values must be strings, numbers, booleans or arrays of strings; anything else is an error
// naming the attribute, and then the context is left empty rather than half-filled.
func (c *Context) SetJSON(data []byte) error {
	c.ClearAttributes()
	if !gjson.ValidBytes(data) {
		return &ContextError{Field: "context", Message: "not valid JSON"}
	}
	obj := gjson.ParseBytes(data)
	if !obj.IsObject() {
		return &ContextError{Field: "context", Message: "must be a JSON object"}
	}
	var err error
	obj.ForEach(func(k, v gjson.Result) bool {
		name := k.Str
		if name == model.TargetingKey {
			if v.Type != gjson.String {
				err = &ContextError{Field: "context." + name, Message: "must be a string"}
				return false
			}
			c.SetTargetingKey(v.Str)
			return true
		}
		switch v.Type {
		case gjson.String:
			c.SetString(name, v.Str)
		case gjson.Number:
			c.SetNumber(name, v.Num)
		case gjson.True, gjson.False:
			c.SetBool(name, v.Type == gjson.True)
		default:
			if !v.IsArray() {
				err = &ContextError{Field: "context." + name, Message: "unsupported type " + jsonTypeName(v)}
				return false
			}
			var list []string
			v.ForEach(func(_, e gjson.Result) bool {
				if e.Type != gjson.String {
					err = &ContextError{Field: "context." + name, Message: "arrays must hold only strings"}
					return false
				}
				list = append(list, e.Str)
				return true
			})
			if err == nil {
				if list == nil {
					list = []string{}
				}
				c.SetStrings(name, list)
			}
		}
		return err == nil
	})
	if err != nil {
		c.ClearAttributes()
	}
	return err
}

func jsonTypeName(v gjson.Result) string {
	switch {
	case v.IsObject():
		return "object"
	case v.IsArray():
		return "array"
	case v.Type == gjson.Null:
		return "null"
	}
	return "value"
}
