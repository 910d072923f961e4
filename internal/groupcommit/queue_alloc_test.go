//go:build !race

package groupcommit

import "testing"

// A write on the hot path costs the channel its caller waits on and nothing
// more: queueing, batching and handing back the result allocate nothing.
func TestSubmitAllocatesOnlyItsResultChannel(t *testing.T) {
	q := New(1, 8, func(batch []*int, results []error) {})
	defer q.Close()
	n := 1
	var sink chan error
	channel := testing.AllocsPerRun(1000, func() { sink = make(chan error, 1) })
	_ = sink
	if allocs := testing.AllocsPerRun(1000, func() { _ = q.Submit(&n) }); allocs > channel {
		t.Errorf("Submit allocates %v times a request, want %v (its result channel)", allocs, channel)
	}
}
