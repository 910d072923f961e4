package pipelinebench

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/stat: 100 on every
// Linux this runs on.
const clockTicks = 100

// MachineCPU reads the CPU time every process on the machine has spent —
// the benchmark's own and the database server's together — from /proc/stat,
// or returns false where there is none (not Linux).
func MachineCPU() (time.Duration, bool) {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, false
	}
	var busy int64
	// user, nice, system, then idle and iowait (not busy), irq, softirq,
	// steal.
	for i, field := range fields[1:] {
		if i == 3 || i == 4 {
			continue
		}
		ticks, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, false
		}
		busy += ticks
	}
	return time.Duration(busy) * time.Second / clockTicks, true
}

// ReportCPUPerStep reports the machine's CPU time since began per step, as
// cpu-µs/step: the figure issue 22's goal of CPU per step is measured in.
// Other work on the machine counts too, so read it only from an idle machine.
func ReportCPUPerStep(b *testing.B, began time.Duration, steps int) {
	if ended, ok := MachineCPU(); ok && steps > 0 {
		b.ReportMetric(float64((ended-began).Microseconds())/float64(steps), "cpu-µs/step")
	}
}
