package trail

import (
	"crypto/sha256"
	"encoding/hex"
)

// EventSet names a set of events by their count and an order-free digest
// of their keys, so that a file judged earlier (findings.json) can tell
// whether the events it judged are exactly the case's events now, without
// listing a million event IDs. The zero value is the empty set.
type EventSet struct {
	Events int    `json:"events"`
	Digest string `json:"digest"`
}

// EventSetBuilder accumulates an EventSet. The digest is the XOR of the
// SHA-256 of each event's key: the same events in any order give the same
// set.
type EventSetBuilder struct {
	n   int
	sum [sha256.Size]byte
}

// Add adds an event.
func (b *EventSetBuilder) Add(e *Event) {
	h := sha256.Sum256([]byte(e.Key()))
	for i := range b.sum {
		b.sum[i] ^= h[i]
	}
	b.n++
}

// Set returns the set so far.
func (b *EventSetBuilder) Set() EventSet {
	return EventSet{Events: b.n, Digest: hex.EncodeToString(b.sum[:])}
}

// SetOf returns the EventSet of events.
func SetOf(events []Event) EventSet {
	var b EventSetBuilder
	for i := range events {
		b.Add(&events[i])
	}
	return b.Set()
}
