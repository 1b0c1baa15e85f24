//go:build !tinygo

package main

import (
	"runtime"
	"runtime/debug"
)

// beforeLoad holds Go's collector off while a snapshot parses, and the returned function
// collects once it has. Left to pace itself by heap growth, the collector ran at points of a
// parse that varied from load to load, so the heap's peak — and with it linear memory, which
// never shrinks — crept up over a hundred reloads. Without collections during a parse, a
// load's peak is the old snapshot plus the parse of the new one, the same every time.
func beforeLoad() (done func()) {
	percent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(percent)
		runtime.GC()
	}
}
