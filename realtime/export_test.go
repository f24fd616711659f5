package realtime

// FailURingSetup is a fault injection seam: until restore is called,
// NewHub fails to set up io_uring with err, as on a kernel or in a
// container that refuses io_uring_setup. Tests using it must not run in
// parallel.
func FailURingSetup(err error) (restore func()) {
	old := uringSetupFault
	uringSetupFault = err
	return func() { uringSetupFault = old }
}
