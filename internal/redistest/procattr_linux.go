package redistest

import "syscall"

// procAttr has the kernel kill redis-server when the test binary dies, even when it dies
// without running its cleanups (a test timeout panics past them), so no server outlives it.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
