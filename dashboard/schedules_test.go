package dashboard_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/klaxonhq/klaxon"
)

// TestSchedulesPage shows a schedule whose runs keep dying: the list shows
// its latest decision, its page its runs dead and says so, a reader gets no
// buttons, and an operator pauses it from the page.
func TestSchedulesPage(t *testing.T) {
	needChromium(t)
	s := newSite(t, nil)
	if _, err := s.worker.CreateSchedule(s.ctx, klaxon.ScheduleDefinition{
		Name: "every-second-charge", Workflow: "charge", Cron: "* * * * * *", Input: []byte("100"),
	}, "carol"); err != nil {
		t.Fatal(err)
	}
	s.eventually(15*time.Second, func() error {
		schedule, err := s.worker.GetSchedule(s.ctx, "every-second-charge", 5)
		if err != nil {
			return err
		}
		for _, outcome := range schedule.Outcomes {
			if outcome.RunStatus == "dead" {
				return nil
			}
		}
		return fmt.Errorf("no dead run yet among %d decisions", len(schedule.Outcomes))
	})

	reader := s.browser()
	s.signIn(reader, readSecret)
	s.open(reader, "#/schedules")
	s.waitElement(reader, `#schedules-table tr[data-schedule="every-second-charge"]`)
	if got := s.text(reader, `#schedules-table tr[data-schedule="every-second-charge"]`); !strings.Contains(got, "started") || !strings.Contains(got, "charge") {
		t.Errorf("the schedule's row says %q; want its workflow and latest decision", got)
	}
	s.open(reader, "#/schedules/every-second-charge")
	s.waitElement(reader, `#schedule-outcomes tr[data-decision="started"]`)
	s.waitText(reader, "#schedule", "ended dead")
	if s.count(reader, "#schedule-toggle") != 0 {
		t.Error("a reader is offered to pause the schedule")
	}

	operator := s.browser()
	s.signIn(operator, operateSecret)
	s.open(operator, "#/schedules/every-second-charge")
	s.waitElement(operator, "#schedule-toggle")
	s.screenshot(operator, "schedule")
	s.do(operator, "pause the schedule", chromedp.Click(chromedp.CSS("#schedule-toggle")))
	s.eventually(10*time.Second, func() error {
		schedule, err := s.worker.GetSchedule(s.ctx, "every-second-charge", 0)
		if err != nil || !schedule.Paused {
			return fmt.Errorf("not paused: %+v %v", schedule, err)
		}
		return nil
	})
	s.waitText(operator, "#schedule-toggle", "Resume")
}
