package awssim

// ec2Ops returns the handlers of the simulated ec2 API.
func ec2Ops() map[string]handler {
	return map[string]handler{}
}
