//go:build !tinygo

package main

import "runtime"

// afterLoad collects the replaced snapshot at once. Go's collector paces itself by heap growth:
// left alone, it let a reloaded instance's heap, and with it linear memory (which never
// shrinks), creep up by a few MiB over a hundred loads. A collection per load (a rare, slow
// operation anyway) keeps the heap at one snapshot plus the parse of the next.
func afterLoad() { runtime.GC() }
