//go:build tinygo

package main

// beforeLoad does nothing under TinyGo: its collector runs when an allocation finds no free
// block and frees every unreachable object (see the runtime patches in build.sh), so linear
// memory already settles at what one load needs.
func beforeLoad() (done func()) { return func() {} }
