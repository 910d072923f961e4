package storetest

import (
	"math/rand/v2"
	"sync"
	"time"
)

// crockford is the ULID alphabet.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// runIDState is the state of newRunID, which hands out run IDs the way one
// process's ULID generator does: valid ULIDs, each greater than the one before,
// so that runs enqueued one after the other sort in that order and a store may
// parse them as ULIDs.
var runIDState struct {
	sync.Mutex
	millis  uint64
	entropy [2]uint64 // the 80 random bits: 16 in [0], 64 in [1]
}

// newRunID returns a new ULID, greater than every one returned before.
func newRunID() string {
	s := &runIDState
	s.Lock()
	if millis := uint64(time.Now().UnixMilli()); millis > s.millis {
		s.millis = millis
		// The top bit stays clear so that increments within a millisecond
		// cannot overflow.
		s.entropy = [2]uint64{rand.Uint64() & 0x7fff, rand.Uint64()}
	} else {
		s.entropy[1]++
		if s.entropy[1] == 0 {
			s.entropy[0]++
		}
	}
	high := s.millis<<16 | s.entropy[0]
	low := s.entropy[1]
	s.Unlock()

	var id [26]byte
	for i := len(id) - 1; i >= 0; i-- {
		id[i] = crockford[low&31]
		low = low>>5 | high<<59
		high >>= 5
	}
	return string(id[:])
}

// newRunIDs returns n new run IDs in increasing order.
func newRunIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newRunID()
	}
	return ids
}

// newEntryID returns a new dead-letter entry ID: a ULID like a run's, from the
// same generator, so that entries created one after the other sort in that
// order.
func newEntryID() string { return newRunID() }
