//go:build !race

package groupcommit

import "testing"

// A write on the hot path allocates nothing: queueing, batching, handing back
// the result and the channel its caller waits on (reused) cost no
// allocation.
func TestSubmitAllocatesNothing(t *testing.T) {
	q := New(1, 8, func(batch []*int, results []error) {})
	defer q.Close()
	n := 1
	if allocs := testing.AllocsPerRun(1000, func() { _ = q.Submit(&n) }); allocs > 0 {
		t.Errorf("Submit allocates %v times a request, want none", allocs)
	}
}
