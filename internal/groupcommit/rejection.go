package groupcommit

import "errors"

// Rejection marks a write refused on purpose, such as a checkpoint from a
// holder whose lease was taken over. A store's commit tells the write's caller
// Err and keeps the batch going, committing what the write recorded before it
// refused (the duplicate.suppressed event); any other error from a write
// aborts the batch.
type Rejection struct {
	// Err is why the write was refused, as its caller is told.
	Err error
}

func (r *Rejection) Error() string { return r.Err.Error() }

// Reject refuses a write on purpose for the reason err; see Rejection.
func Reject(err error) error { return &Rejection{Err: err} }

// Refusal returns the reason of the rejection in err's chain, and whether
// there is one.
func Refusal(err error) (reason error, refused bool) {
	if err == nil {
		return nil, false
	}
	var rejection *Rejection
	if !errors.As(err, &rejection) {
		return nil, false
	}
	return rejection.Err, true
}
