package awssim

// lambdaOps returns the handlers of the simulated lambda API.
func lambdaOps() map[string]handler {
	return map[string]handler{}
}
