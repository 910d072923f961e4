package klaxon_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// The event list of docs/how-it-works.md names every event type a run's log
// can hold, so that a reader of the log finds each one explained.
func TestHowItWorksListsEveryEventType(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("docs/how-it-works.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(doc), "**event log**")
	if start < 0 {
		t.Fatal("docs/how-it-works.md has no event log paragraph")
	}
	paragraph := string(doc[start:])
	paragraph = paragraph[:strings.Index(paragraph, "\n\n")]
	for _, eventType := range klaxontype.EventTypes() {
		if !strings.Contains(paragraph, "`"+string(eventType)+"`") {
			t.Errorf("the event log paragraph of docs/how-it-works.md does not list %s", eventType)
		}
	}
}

// The README links only inside the repository, and promises what the
// engine does: steps and compensations run at least once, with a stable
// idempotency key, never "once".
func TestREADMEStaysInsideTheRepositoryAndPromisesAtLeastOnce(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if outside := regexp.MustCompile(`\.\./[\w./-]+`).FindAllString(string(readme), -1); len(outside) > 0 {
		t.Errorf("README.md refers outside the repository: %v", outside)
	}
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `klaxon.Step(") || strings.HasPrefix(line, "| `klaxon.Compensate(") {
			if !strings.Contains(line, "at least once") || !strings.Contains(line, "idempotency key") {
				t.Errorf("README.md: %q; want at least once, with a stable idempotency key", line)
			}
		}
	}
}

// CI builds the binary without cgo, as the README promises it can be.
func TestCIBuildsWithoutCgo(t *testing.T) {
	t.Parallel()
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^CGO_ENABLED=0 go build .*\./cmd/klaxon`).Match(ci) {
		t.Error(".ci/run does not build ./cmd/klaxon with CGO_ENABLED=0")
	}
}
