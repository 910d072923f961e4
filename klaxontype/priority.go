package klaxontype

import (
	"fmt"
	"time"
)

// The bounds of a run's priority. A run enqueued without one takes its
// workflow's default priority, 0 unless the workflow declares another.
const (
	MinPriority = -100
	MaxPriority = 100
)

// PriorityAging is what one step of priority is worth in waiting time:
// claims take runs in the order of available_at − priority × PriorityAging,
// so a run of priority 0 that has waited PriorityAging longer than a run of
// priority 1 goes first, and every waiting run eventually wins. The stores'
// claim indexes are built on this value; changing it needs a migration.
const PriorityAging = 10 * time.Second

// CheckPriority refuses a priority outside MinPriority..MaxPriority with an
// error matching ErrInvalid that names the bounds.
func CheckPriority(priority int) error {
	if priority < MinPriority || priority > MaxPriority {
		return fmt.Errorf("%w: priority %d is outside %d..%d", ErrInvalid, priority, MinPriority, MaxPriority)
	}
	return nil
}
