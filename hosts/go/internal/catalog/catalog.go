// Package catalog is the host-side index of one loaded snapshot: flag keys to indices,
// attribute names to ids, each flag's variations decoded once into Go values, its rule ids,
// and — for static and disabled flags — the result of every typed check, so the host answers
// those without entering the engine.
//
// A Catalog is built from the engine that serves the snapshot (the native core or a wasm
// instance), never by parsing the flags a second way, so what the host answers by itself is
// what the engine would have answered. It is immutable and safe for concurrent readers.
package catalog

import (
	"errors"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/core/model"
	"github.com/vexil-flags/vexil/hosts/go/internal/wasmengine"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// Value is one variation, decoded once.
type Value struct {
	JSON string  // compact JSON, as the engine reports it
	Bool bool    // for boolean flags
	Num  float64 // for number flags
	Str  string  // for string flags
}

// maxVariations bounds the variation scan: a packed result holds variation+1 in 13 bits.
const maxVariations = 1<<13 - 1

// numTypes is the number of core.Type values (TypeAny … TypeJSON).
const numTypes = int(core.TypeJSON) + 1

// Flag is one flag of the snapshot.
type Flag struct {
	Key     string
	Kind    model.Kind
	Values  []Value
	RuleIDs []string
	// Static flags serve the same result to every context; Static[t] is the result of a
	// check of type t.
	Static       bool
	staticResult [numTypes]core.Result
}

// StaticResult is the result of a check of type t of a static flag.
func (f *Flag) StaticResult(t core.Type) core.Result { return f.staticResult[t] }

// Value returns the value r serves, and false when r serves the caller's default.
func (f *Flag) Value(r core.Result) (*Value, bool) {
	if r.Variation < 0 || int(r.Variation) >= len(f.Values) {
		return nil, false
	}
	return &f.Values[r.Variation], true
}

// RuleID returns the id of the rule that decided r, or "".
func (f *Flag) RuleID(r core.Result) string {
	if r.Rule < 0 || int(r.Rule) >= len(f.RuleIDs) {
		return ""
	}
	return f.RuleIDs[r.Rule]
}

// Catalog indexes one snapshot.
type Catalog struct {
	Environment string
	Version     int64
	Flags       []Flag
	Problems    []string
	index       map[string]int32
	attrs       map[string]int32
}

// Lookup returns the index and flag of key, or -1 and nil.
func (c *Catalog) Lookup(key string) (int32, *Flag) {
	i, ok := c.index[key]
	if !ok {
		return -1, nil
	}
	return i, &c.Flags[i]
}

// AttributeID returns the id of an attribute name, -1 when no flag of the snapshot uses it.
func (c *Catalog) AttributeID(name string) int32 {
	if id, ok := c.attrs[name]; ok {
		return id
	}
	return -1
}

// AttributeCount is the number of attribute ids.
func (c *Catalog) AttributeCount() int { return len(c.attrs) }

// FromNative builds the catalog of a natively loaded snapshot.
func FromNative(ev *core.Evaluator) *Catalog {
	s := ev.Snapshot()
	c := &Catalog{
		Environment: s.Environment,
		Version:     int64(s.Version),
		Flags:       make([]Flag, len(s.Flags)),
		index:       make(map[string]int32, len(s.Flags)),
		attrs:       make(map[string]int32, len(s.Attributes)),
	}
	for _, p := range s.Problems {
		c.Problems = append(c.Problems, p.String())
	}
	for id, name := range s.Attributes {
		c.attrs[name] = int32(id)
	}
	empty := ev.NewContext()
	for i := range s.Flags {
		mf := &s.Flags[i]
		f := &c.Flags[i]
		f.Key, f.Kind, f.Static = mf.Key, mf.Kind, mf.Static && !mf.Rejected
		for _, v := range mf.Variations {
			f.Values = append(f.Values, Value{JSON: v.JSON, Bool: v.Bool, Num: v.Num, Str: v.Str})
		}
		for _, r := range mf.Rules {
			f.RuleIDs = append(f.RuleIDs, r.ID)
		}
		if f.Static {
			for t := range numTypes {
				f.staticResult[t] = ev.EvaluateTyped(i, empty, core.Type(t))
			}
		}
		if _, dup := c.index[mf.Key]; !dup {
			c.index[mf.Key] = int32(i)
		}
	}
	return c
}

// FromInstance builds the catalog of the snapshot loaded in a wasm instance; snapshot is
// the JSON the instance loaded (for the environment name and the number of rules of each
// flag, which the engine interface does not report). It leaves the instance's context empty.
func FromInstance(in *wasmengine.Instance, snapshot []byte) (*Catalog, error) {
	root := gjson.ParseBytes(snapshot)
	n := in.FlagCount()
	c := &Catalog{
		Environment: root.Get("environment").String(),
		Version:     in.Version(),
		Flags:       make([]Flag, n),
		Problems:    in.Problems(),
		index:       make(map[string]int32, n),
		attrs:       make(map[string]int32, len(in.Attributes())),
	}
	for id, name := range in.Attributes() {
		c.attrs[name] = int32(id)
	}
	var enc abi.Encoder
	enc.Reset(0, 0)
	if err := in.SetContext(enc.Bytes()); err != nil {
		return nil, err
	}
	ruleCounts := make([]int, 0, n)
	root.Get("flags").ForEach(func(_, f gjson.Result) bool {
		ruleCounts = append(ruleCounts, int(f.Get("rules.#").Int()))
		return true
	})
	for i := range n {
		fi := int32(i)
		f := &c.Flags[i]
		f.Key = in.FlagKey(fi)
		for v := int32(0); v < maxVariations; v++ {
			js := in.VariationJSON(fi, v)
			if js == "" {
				break
			}
			f.Values = append(f.Values, decode(js))
		}
		if len(f.Values) > 0 {
			f.Kind = kindOf(f.Values[0].JSON)
		}
		if i < len(ruleCounts) {
			for r := range ruleCounts[i] {
				f.RuleIDs = append(f.RuleIDs, in.RuleID(fi, int32(r)))
			}
		}
		if f.Static = in.IsStatic(fi); f.Static {
			for t := range numTypes {
				f.staticResult[t] = in.EvaluateTyped(fi, core.Type(t))
			}
		}
		if _, dup := c.index[f.Key]; !dup {
			c.index[f.Key] = fi
		}
	}
	if in.Broken() {
		return nil, in.Err()
	}
	if len(ruleCounts) != n {
		return nil, errors.New("catalog: the snapshot lists " + strconv.Itoa(len(ruleCounts)) +
			" flags, the engine " + strconv.Itoa(n))
	}
	return c, nil
}

// kindOf tells a variation's kind from its compact JSON.
func kindOf(js string) model.Kind {
	switch js[0] {
	case 't', 'f':
		return model.KindBool
	case '"':
		return model.KindString
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return model.KindNumber
	}
	return model.KindJSON
}

func decode(js string) Value {
	v := Value{JSON: js}
	switch kindOf(js) {
	case model.KindBool:
		v.Bool = js == "true"
	case model.KindString:
		v.Str = gjson.Parse(js).Str
	case model.KindNumber:
		v.Num, _ = strconv.ParseFloat(js, 64)
	}
	return v
}
