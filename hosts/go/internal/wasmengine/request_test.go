package wasmengine

import (
	"sort"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/internal/gen"
	"github.com/vexil-flags/vexil/wasm/abi"
)

// Snapshots and requests for tests and benchmarks come from internal/gen, the generator every
// host shares.

// genNow is the evaluation time of generated requests (gen.Now).
const genNow = gen.Now

// genSnapshot is gen.Snapshot: nFlags realistic flags, deterministic in (nFlags, seed).
func genSnapshot(nFlags int, seed int64) []byte { return gen.Snapshot(nFlags, seed) }

type genAttribute struct {
	name string
	v    any // string, float64, bool or []string
}

// genAttributes is gen.Attributes, a typical request (a pro user in Germany), in name order
// with numbers as float64, as contexts hold them.
var genAttributes = func() []genAttribute {
	var out []genAttribute
	for name, v := range gen.Attributes {
		if n, ok := v.(int); ok {
			v = float64(n)
		}
		out = append(out, genAttribute{name, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}()

// genContexts fills a native context and a wasm encoding with the same request: key, every
// attribute of genAttributes, genNow and a fixed random number.
func genContexts(ctx *core.Context, enc *abi.Encoder, in *Instance, key string) []byte {
	ctx.Reset()
	ctx.Now, ctx.Random = genNow, 0x9e3779b9
	ctx.SetTargetingKey(key)
	enc.Reset(genNow, 0x9e3779b9)
	enc.String(0, key)
	for _, a := range genAttributes {
		setAttribute(ctx, enc, in.AttributeID(a.name), a.name, a.v)
	}
	return enc.Bytes()
}

// setAttribute sets one attribute on the native context and, when id ≥ 0, adds it to the
// encoding.
func setAttribute(ctx *core.Context, enc *abi.Encoder, id int32, name string, v any) {
	switch v := v.(type) {
	case string:
		ctx.SetString(name, v)
		if id >= 0 {
			enc.String(uint32(id), v)
		}
	case float64:
		ctx.SetNumber(name, v)
		if id >= 0 {
			enc.Number(uint32(id), v)
		}
	case bool:
		ctx.SetBool(name, v)
		if id >= 0 {
			enc.Bool(uint32(id), v)
		}
	case []string:
		ctx.SetStrings(name, v)
		if id >= 0 {
			enc.Strings(uint32(id), v)
		}
	}
}
