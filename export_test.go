package klaxon

import "time"

// SetAfterScheduleEnqueue sets the hook the schedule crash test holds a
// tick with, between its run's enqueue and the schedule's advance.
func SetAfterScheduleEnqueue(hook func(schedule string, tick time.Time, runID string)) {
	afterScheduleEnqueue = hook
}
