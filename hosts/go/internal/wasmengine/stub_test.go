package wasmengine

import (
	"github.com/tetratelabs/wazero/api"
)

// A tiny wasm assembler for stub engine modules: each export returns a constant (or runs a
// given body), so tests can feed Compile and Instance modules that break the contract in a
// chosen way, independently of the real guest.

type stubFunc struct {
	name            string // full export name
	params, results []api.ValueType
	body            []byte // instructions without the final end; nil returns zero(s)
}

type stubModule struct {
	funcs   []stubFunc
	memory  bool     // define and export "memory" (1 page)
	imports []string // imported functions "module.name" of type () -> ()
}

// engineStub returns a stub with every engine export returning constants: abi-version 1,
// flag-count 1, everything else 0.
func engineStub() *stubModule {
	s := &stubModule{memory: true}
	for _, e := range exports {
		f := stubFunc{name: ExportPrefix + e.name, params: e.params, results: e.results}
		switch e.name {
		case "abi-version", "flag-count":
			f.body = []byte{0x41, 0x01} // i32.const 1
		case "buffer":
			f.body = []byte{0x41, 0x80, 0x08} // i32.const 1024
		}
		s.funcs = append(s.funcs, f)
	}
	return s
}

// set replaces the body of WIT function name.
func (s *stubModule) set(name string, body ...byte) *stubModule {
	for i := range s.funcs {
		if s.funcs[i].name == ExportPrefix+name {
			s.funcs[i].body = body
		}
	}
	return s
}

// without drops WIT function name.
func (s *stubModule) without(name string) *stubModule {
	for i := range s.funcs {
		if s.funcs[i].name == ExportPrefix+name {
			s.funcs = append(s.funcs[:i], s.funcs[i+1:]...)
			break
		}
	}
	return s
}

// retype changes the core signature of WIT function name (its body then returns zeros).
func (s *stubModule) retype(name string, params, results []api.ValueType) *stubModule {
	for i := range s.funcs {
		if s.funcs[i].name == ExportPrefix+name {
			s.funcs[i].params, s.funcs[i].results, s.funcs[i].body = params, results, nil
		}
	}
	return s
}

func uleb(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func wasmName(b []byte, s string) []byte { return append(uleb(b, uint32(len(s))), s...) }

func section(out []byte, id byte, count int, body []byte) []byte {
	content := append(uleb(nil, uint32(count)), body...)
	out = append(out, id)
	out = uleb(out, uint32(len(content)))
	return append(out, content...)
}

func (s *stubModule) bytes() []byte {
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	// Types: one per function, then () -> () for the imports.
	var types []byte
	for _, f := range s.funcs {
		types = append(types, 0x60)
		types = uleb(types, uint32(len(f.params)))
		types = append(types, f.params...)
		types = uleb(types, uint32(len(f.results)))
		types = append(types, f.results...)
	}
	types = append(types, 0x60, 0x00, 0x00)
	out = section(out, 1, len(s.funcs)+1, types)
	if len(s.imports) > 0 {
		var imps []byte
		for _, imp := range s.imports {
			mod, name := imp, ""
			for i := range imp {
				if imp[i] == '.' {
					mod, name = imp[:i], imp[i+1:]
					break
				}
			}
			imps = wasmName(imps, mod)
			imps = wasmName(imps, name)
			imps = append(imps, 0x00)
			imps = uleb(imps, uint32(len(s.funcs)))
		}
		out = section(out, 2, len(s.imports), imps)
	}
	var fsec []byte
	for i := range s.funcs {
		fsec = uleb(fsec, uint32(i))
	}
	out = section(out, 3, len(s.funcs), fsec)
	exportCount := len(s.funcs)
	if s.memory {
		out = section(out, 5, 1, []byte{0x00, 0x01}) // min 1 page
		exportCount++
	}
	var exps []byte
	base := uint32(len(s.imports)) // imported functions come first in the index space
	for i, f := range s.funcs {
		exps = wasmName(exps, f.name)
		exps = append(exps, 0x00)
		exps = uleb(exps, base+uint32(i))
	}
	if s.memory {
		exps = wasmName(exps, "memory")
		exps = append(exps, 0x02, 0x00)
	}
	out = section(out, 7, exportCount, exps)
	var code []byte
	for _, f := range s.funcs {
		body := f.body
		if body == nil {
			for _, r := range f.results {
				switch r {
				case api.ValueTypeI32:
					body = append(body, 0x41, 0x00)
				case api.ValueTypeI64:
					body = append(body, 0x42, 0x00)
				case api.ValueTypeF32:
					body = append(body, 0x43, 0, 0, 0, 0)
				case api.ValueTypeF64:
					body = append(body, 0x44, 0, 0, 0, 0, 0, 0, 0, 0)
				}
			}
		}
		fn := append([]byte{0x00}, body...) // no locals
		fn = append(fn, 0x0b)
		code = uleb(code, uint32(len(fn)))
		code = append(code, fn...)
	}
	return section(out, 10, len(s.funcs), code)
}
