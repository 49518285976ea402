package awssim

import (
	"sync"

	"golang.org/x/time/rate"
)

// cloudtrailOps returns the handlers of the simulated CloudTrail API.
func cloudtrailOps() map[string]handler {
	return map[string]handler{}
}

// lookupLimiter is the per-region LookupEvents throttle (a token bucket per
// region, as AWS applies it per account and region).
type lookupLimiter struct {
	mu       sync.Mutex
	perSec   float64
	burst    int
	byRegion map[string]*rate.Limiter
}

func newLookupLimiter(perSecond float64, burst int) *lookupLimiter {
	return &lookupLimiter{perSec: perSecond, burst: burst, byRegion: map[string]*rate.Limiter{}}
}
