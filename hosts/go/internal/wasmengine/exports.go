package wasmengine

import "github.com/tetratelabs/wazero/api"

// ExportPrefix is the Canonical-ABI name prefix of the functions of interface
// vexil:engine/evaluator@0.1.0 (wasm/wit/engine.wit): the export of WIT function f is
// ExportPrefix + f.
const ExportPrefix = "vexil:engine/evaluator@0.1.0#"

// Indices into Instance.fns, in the order of exports.
const (
	fnABIVersion = iota
	fnBuffer
	fnLoad
	fnFlagCount
	fnFlagIndex
	fnFlagKey
	fnAttributeCount
	fnAttributeName
	fnSetContext
	fnEvaluate
	fnEvaluateTyped
	fnEvaluateAll
	fnVariationJSON
	fnRuleID
	fnIsStatic
	fnProblemCount
	fnProblem
	fnErrorText
	numFns
)

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

type export struct {
	name            string // WIT function name
	params, results []api.ValueType
}

// exports lists the WIT functions with their Canonical-ABI core signatures (u32, s32 → i32;
// u64, s64 → i64), indexed by the fn constants. TestWITConformance checks this table, and the
// built modules, against engine.wit.
var exports = [numFns]export{
	fnABIVersion:     {"abi-version", nil, []api.ValueType{i32}},
	fnBuffer:         {"buffer", []api.ValueType{i32}, []api.ValueType{i32}},
	fnLoad:           {"load", []api.ValueType{i32}, []api.ValueType{i64}},
	fnFlagCount:      {"flag-count", nil, []api.ValueType{i32}},
	fnFlagIndex:      {"flag-index", []api.ValueType{i32}, []api.ValueType{i32}},
	fnFlagKey:        {"flag-key", []api.ValueType{i32}, []api.ValueType{i64}},
	fnAttributeCount: {"attribute-count", nil, []api.ValueType{i32}},
	fnAttributeName:  {"attribute-name", []api.ValueType{i32}, []api.ValueType{i64}},
	fnSetContext:     {"set-context", []api.ValueType{i32}, []api.ValueType{i32}},
	fnEvaluate:       {"evaluate", []api.ValueType{i32}, []api.ValueType{i32}},
	fnEvaluateTyped:  {"evaluate-typed", []api.ValueType{i32, i32}, []api.ValueType{i32}},
	fnEvaluateAll:    {"evaluate-all", nil, []api.ValueType{i32}},
	fnVariationJSON:  {"variation-json", []api.ValueType{i32, i32}, []api.ValueType{i64}},
	fnRuleID:         {"rule-id", []api.ValueType{i32, i32}, []api.ValueType{i64}},
	fnIsStatic:       {"is-static", []api.ValueType{i32}, []api.ValueType{i32}},
	fnProblemCount:   {"problem-count", nil, []api.ValueType{i32}},
	fnProblem:        {"problem", []api.ValueType{i32}, []api.ValueType{i64}},
	fnErrorText:      {"error-text", nil, []api.ValueType{i64}},
}
