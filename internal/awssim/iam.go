package awssim

// iamOps returns the handlers of the simulated iam API.
func iamOps() map[string]handler {
	return map[string]handler{}
}
