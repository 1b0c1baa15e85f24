package wasmengine

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"
	"go.bytecodealliance.org/wit"
)

// witFunction is a function of interface evaluator with its Canonical-ABI core signature.
type witFunction struct {
	name            string
	params, results []api.ValueType
}

// loadWITInterface parses wasm/wit/engine.wit (go.bytecodealliance.org runs its embedded
// wasm-tools in wazero) and lowers every function of interface evaluator to its core
// signature as an export.
func loadWITInterface(t *testing.T) []witFunction {
	t.Helper()
	path := filepath.Join(repoRoot(), "wasm", "wit", "engine.wit")
	res, err := wit.LoadWIT(path)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var iface *wit.Interface
	for _, i := range res.Interfaces {
		if i.Name != nil && *i.Name == "evaluator" && i.Package != nil && i.Package.Name.String() == "vexil:engine@0.1.0" {
			iface = i
		}
	}
	if iface == nil {
		t.Fatalf("%s: no interface vexil:engine/evaluator@0.1.0", path)
	}
	var out []witFunction
	for name, f := range iface.Functions.All() {
		core := f.CoreFunction(wit.Exported)
		wf := witFunction{name: name}
		for _, p := range core.Params {
			wf.params = append(wf.params, coreType(t, name, p.Type))
		}
		for _, r := range core.Results {
			wf.results = append(wf.results, coreType(t, name, r.Type))
		}
		out = append(out, wf)
	}
	if len(out) == 0 {
		t.Fatal("interface evaluator has no functions")
	}
	return out
}

// coreType maps a flattened Canonical-ABI type to a core wasm value type.
func coreType(t *testing.T, fn string, typ wit.Type) api.ValueType {
	switch typ := typ.(type) {
	case wit.U32, wit.S32, wit.U16, wit.S16, wit.U8, wit.S8, wit.Bool, wit.Char:
		return api.ValueTypeI32
	case wit.U64, wit.S64:
		return api.ValueTypeI64
	case wit.F32:
		return api.ValueTypeF32
	case wit.F64:
		return api.ValueTypeF64
	case *wit.TypeDef:
		if _, ok := typ.Kind.(*wit.Pointer); ok {
			return api.ValueTypeI32
		}
	}
	t.Fatalf("%s: no core type for flattened %T", fn, typ)
	return 0
}

// TestWITConformance checks that each built module exports every function of the WIT
// interface under its Canonical-ABI name with its core signature, and that the host's own
// export table (exports.go) is exactly the WIT interface.
func TestWITConformance(t *testing.T) {
	fns := loadWITInterface(t)

	var host []string
	for _, e := range exports {
		host = append(host, fmt.Sprintf("%s%s", e.name, signature(e.params, e.results)))
	}
	var want []string
	for _, f := range fns {
		want = append(want, fmt.Sprintf("%s%s", f.name, signature(f.params, f.results)))
	}
	slices.Sort(host)
	slices.Sort(want)
	if !slices.Equal(host, want) {
		t.Errorf("exports.go disagrees with engine.wit:\n host %s\n  wit %s", strings.Join(host, "; "), strings.Join(want, "; "))
	}

	for _, em := range modules(t) {
		t.Run(em.name, func(t *testing.T) {
			defs := em.mod.compiled.ExportedFunctions()
			for _, f := range fns {
				name := ExportPrefix + f.name
				def, ok := defs[name]
				if !ok {
					t.Errorf("missing export %q", name)
					continue
				}
				if !slices.Equal(def.ParamTypes(), f.params) || !slices.Equal(def.ResultTypes(), f.results) {
					t.Errorf("export %q has signature %s, WIT says %s", name,
						signature(def.ParamTypes(), def.ResultTypes()), signature(f.params, f.results))
				}
			}
			in := newInstance(t, em.mod) // and it instantiates
			_ = in.Close()
		})
	}
	_ = context.Background
}
