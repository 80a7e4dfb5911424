package pool

import _ "unsafe" // for go:linkname

// runtimeProcPin returns the id of the P running the caller and disables
// preemption until runtimeProcUnpin. The runtime keeps this linkname stable
// for outside packages (go.dev/issue/67401); sync.Pool uses the same pair.
//
//go:linkname runtimeProcPin runtime.procPin
func runtimeProcPin() int

//go:linkname runtimeProcUnpin runtime.procUnpin
func runtimeProcUnpin()

// currentP returns the id of the P (logical processor) the goroutine runs on.
// It is only a locality hint: the goroutine may move right after, which costs
// speed, never correctness.
func currentP() int {
	p := runtimeProcPin()
	runtimeProcUnpin()
	return p
}
