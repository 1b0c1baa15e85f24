package scenarios

import (
	"encoding/json"
	"fmt"

	"github.com/vexil-flags/vexil/core"
)

// ExportVersion is the version of the exported format; a runner refuses another.
const ExportVersion = 1

// Exported is the matrix as JSON, for runners outside Go (bench/README.md, "Plugging in a
// runner").
type Exported struct {
	Version   int                `json:"version"`
	Scenarios []ExportedScenario `json:"scenarios"`
}

// ExportedScenario is one scenario. Snapshot is the snapshot document itself; Context is the
// request in OpenFeature's flat shape (targetingKey plus attributes); Now and Random are the
// clock and dice to hand the engine.
type ExportedScenario struct {
	Name     string          `json:"name"`
	Title    string          `json:"title"`
	Kind     Kind            `json:"kind"`
	Snapshot json.RawMessage `json:"snapshot"`
	Flag     string          `json:"flag,omitempty"`
	Context  map[string]any  `json:"context,omitempty"`
	Now      int64           `json:"now"`
	Random   uint32          `json:"random"`
	Want     ExportedWant    `json:"want"`
}

// ExportedWant is the expected answer. For "evaluate": variation, reason and value. For
// "evaluate-all": the packed result of every flag in snapshot order (the wasm ABI's 32-bit
// layout, wasm/ABI.md "Result"), their digest (see Digest) and the flag count. For "load": the
// flag count.
type ExportedWant struct {
	Variation *int32          `json:"variation,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
	Flags     int             `json:"flags,omitempty"`
	Digest    string          `json:"digest,omitempty"`
	Packed    []uint32        `json:"packed,omitempty"`
}

// Export renders the matrix as JSON. The evaluate-all answers are the native core's, which
// must first match the pinned digest: a core that disagrees fails the export.
func Export() ([]byte, error) {
	out := Exported{Version: ExportVersion}
	for _, sc := range All() {
		e := ExportedScenario{
			Name: sc.Name, Title: sc.Title, Kind: sc.Kind, Snapshot: sc.Snapshot,
			Flag: sc.Flag, Now: sc.Now, Random: sc.Random,
		}
		if sc.Kind != KindLoad {
			e.Context = sc.ContextMap()
		}
		switch sc.Kind {
		case KindEvaluate:
			v := sc.Want.Variation
			e.Want = ExportedWant{Variation: &v, Reason: sc.Want.Reason.String(), Value: json.RawMessage(sc.Want.Value)}
		case KindEvaluateAll:
			ev, err := core.Load(sc.Snapshot)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", sc.Name, err)
			}
			ctx := ev.NewContext()
			sc.Context(ctx)
			results := ev.EvaluateAll(ctx, nil)
			if msg := sc.CheckAll(results); msg != "" {
				return nil, fmt.Errorf("native core: %s", msg)
			}
			e.Want = ExportedWant{Flags: sc.Want.Flags, Digest: sc.Want.Digest, Packed: make([]uint32, len(results))}
			for i, r := range results {
				e.Want.Packed[i] = r.Pack()
			}
		case KindLoad:
			e.Want = ExportedWant{Flags: sc.Want.Flags}
		}
		out.Scenarios = append(out.Scenarios, e)
	}
	return json.Marshal(out)
}
