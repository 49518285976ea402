package memsample

import (
	"runtime"
	"testing"
	"time"
)

// The sampler sees memory that was freed again before it was stopped.
func TestPeakSeesMemoryFreedBeforeStop(t *testing.T) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	stop := make(chan struct{})
	peak := PeakHeapInuse(stop)
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	time.Sleep(100 * time.Millisecond) // several sampling ticks while it is held
	runtime.KeepAlive(buf)
	buf = nil
	runtime.GC()
	close(stop)
	if got, want := <-peak, before+32<<20; got < want {
		t.Errorf("peak %d MB, want at least %d MB", got>>20, want>>20)
	}
}
