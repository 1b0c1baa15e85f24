package stream

import (
	"bytes"
	"sort"
	"strconv"
	"time"

	"github.com/vexil-flags/vexil/core"
	"github.com/vexil-flags/vexil/sync/follow"
)

// event is one encoded SSE event, shared by every subscriber it is sent to.
type event struct {
	prev, version uint64 // a patch turns prev into version
	patch         bool
	data          []byte    // the whole event, framing included
	at            time.Time // when the change was written (follow.View.At); zero when unknown
}

// snapshotEvent encodes a view as a snapshot event.
func snapshotEvent(v *follow.View) *event {
	js := v.JSON()
	b := make([]byte, 0, len(js)+48)
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, v.Version, 10)
	b = append(b, "\nevent: snapshot\ndata: "...)
	b = append(b, js...)
	b = append(b, "\n\n"...)
	return &event{version: v.Version, data: b}
}

// patchEvent encodes the difference between two views of one environment as a patch event.
func patchEvent(old, cur *follow.View) *event {
	b := make([]byte, 0, 256)
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, cur.Version, 10)
	b = append(b, "\nevent: patch\ndata: "...)
	b = AppendPatch(b, old, cur)
	b = append(b, "\n\n"...)
	return &event{prev: old.Version, version: cur.Version, patch: true, data: b, at: cur.At}
}

// AppendPatch appends the patch JSON that turns old into cur (PROTOCOL.md): every flag and
// segment whose document differs, with its new document or null, keys sorted.
func AppendPatch(b []byte, old, cur *follow.View) []byte {
	b = append(b, `{"environment":`...)
	b = core.AppendJSONString(b, cur.Env)
	b = append(b, `,"previousVersion":`...)
	b = strconv.AppendUint(b, old.Version, 10)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, cur.Version, 10)
	b = appendDiff(append(b, `,"flags":`...), old.Flags, cur.Flags)
	b = appendDiff(append(b, `,"segments":`...), old.Segments, cur.Segments)
	return append(b, '}')
}

func appendDiff(b []byte, old, cur map[string][]byte) []byte {
	var keys []string
	for k, d := range cur {
		if o, ok := old[k]; !ok || !bytes.Equal(o, d) {
			keys = append(keys, k)
		}
	}
	for k := range old {
		if _, ok := cur[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = core.AppendJSONString(b, k)
		b = append(b, ':')
		if d, ok := cur[k]; ok {
			b = append(b, d...)
		} else {
			b = append(b, "null"...)
		}
	}
	return append(b, '}')
}
