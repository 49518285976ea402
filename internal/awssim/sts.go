package awssim

// stsOps returns the handlers of the simulated sts API.
func stsOps() map[string]handler {
	return map[string]handler{}
}
