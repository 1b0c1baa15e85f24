package core

import "testing"

func TestPackRoundTrip(t *testing.T) {
	for _, r := range []Result{
		makeResult(3, -1, -1, ReasonError, ErrorFlagNotFound, false),
		makeResult(3, 0, -1, ReasonStatic, ErrorNone, false),
		makeResult(3, 8189, 8189, ReasonSplit, ErrorNone, true),
		makeResult(3, -1, -1, ReasonError, ErrorTypeMismatch, false),
		makeResult(3, 2, 7, ReasonTargetingMatch, ErrorNone, false),
		makeResult(3, 1, -1, ReasonPrerequisiteFailed, ErrorNone, false),
	} {
		if got := Unpack(3, r.Pack()); got != r {
			t.Errorf("Unpack(Pack(%+v)) = %+v", r, got)
		}
	}
	if got := Unpack(0, makeResult(0, -1, -1, ReasonError, ErrorInvalidContext, false).Pack()); got.ErrorCode() != ErrorParse {
		t.Errorf("INVALID_CONTEXT packs as %v", got.ErrorCode())
	}
}
