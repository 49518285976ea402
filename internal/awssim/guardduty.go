package awssim

// guarddutyOps returns the handlers of the simulated guardduty API.
func guarddutyOps() map[string]handler {
	return map[string]handler{}
}
