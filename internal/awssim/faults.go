package awssim

import "time"

// Faults are the failures the simulator injects.
type Faults struct {
	Latency time.Duration // added before every API request is answered
}

// faultLatency is the delay to add before answering a request.
func (s *Sim) faultLatency() time.Duration { return s.faults.Latency }

// injectFault returns the error to answer instead of running the call, or nil.
func (s *Sim) injectFault(c *Call) *APIError { return nil }
