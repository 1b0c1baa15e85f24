package core

import (
	"math"

	"github.com/vexil-flags/vexil/core/model"
	"github.com/vexil-flags/vexil/core/murmur3"
)

// bucket maps a 32-bit hash or random number to [0, 100000), the unit of weights.
func bucket(h uint32) uint32 { return murmur3.Bucket(h) }

// Bucket returns the bucket of value under salt by the published spec:
// murmur3_x86_32(salt + "." + value) × 100000 >> 32.
func Bucket(salt, value string) uint32 {
	return bucket(murmur3.NewPrefix(salt + ".").SumString(value))
}

// serve returns what s serves: its variation with the given reason, or a rollout's pick.
func serve(f *model.Flag, s *model.Serve, ctx *Context, reason Reason) (int32, Reason, bool) {
	ro := s.Rollout
	if ro == nil {
		return int32(s.Variation), reason, false
	}
	b, ok := bucketOf(ro, &ctx.attrs[ro.BucketBy])
	if !ok {
		// No value to hash: the first range, never a random one, and no exposure.
		return int32(ro.Variations[0].Variation), ReasonDefault, false
	}
	return int32(pick(ro, b)), ReasonSplit, inExperimentWindow(f.Experiment, ctx.Now)
}

// bucketOf hashes the bucket-by value: a string as it is, an integer in decimal; any other
// value counts as none.
func bucketOf(ro *model.Rollout, a *attr) (uint32, bool) {
	switch a.kind {
	case attrString:
		return bucket(ro.Prefix.SumString(a.s)), true
	case attrNumber:
		if a.n != math.Trunc(a.n) || math.Abs(a.n) > maxSafeInteger {
			return 0, false
		}
		return bucket(ro.Prefix.SumInt(int64(a.n))), true
	}
	return 0, false
}

// pick finds the range b falls in; ranges are consecutive in listed order.
func pick(ro *model.Rollout, b uint32) int {
	var end uint32
	for _, wv := range ro.Variations {
		end += uint32(wv.Weight)
		if b < end {
			return wv.Variation
		}
	}
	return ro.Variations[len(ro.Variations)-1].Variation
}

func inExperimentWindow(x *model.Experiment, now int64) bool {
	return x != nil && (x.StartedAt == 0 || now >= x.StartedAt) && (x.EndedAt == 0 || now < x.EndedAt)
}
