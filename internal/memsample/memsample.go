// Package memsample measures the peak heap of a piece of work for
// benchmarks: runtime.MemStats' final numbers say what is left at the end,
// not how high memory went while the work ran.
package memsample

import (
	"runtime"
	"time"
)

// PeakHeapInuse samples HeapInuse every 10 ms until stop is closed and
// then sends the highest value seen.
func PeakHeapInuse(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var ms runtime.MemStats
		var peak uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}
