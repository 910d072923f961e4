package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestProblemsDoNotEchoBodyValues: a validation problem names where the body
// is wrong but does not repeat what it held, which could be a customer's data
// or a secret; query values, typed by the caller as filters, are still shown.
func TestProblemsDoNotEchoBodyValues(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	const secret = "sk-live-4242-do-not-echo"
	// The entity's value should be a string; the secret sits inside what
	// is wrong.
	answer := f.do("POST", "/api/v1/runs", operateSecret, `{"workflow":"greet","input":"x","entities":{"customer":["`+secret+`"]}}`)
	answer.wantProblem(t, http.StatusUnprocessableEntity, "entities")
	got := string(answer.body)
	if strings.Contains(got, secret) {
		t.Errorf("the problem repeats a value of the body: %s", got)
	}
	var problem struct {
		Errors []struct {
			Location string `json:"location"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(got), &problem); err != nil || len(problem.Errors) == 0 || problem.Errors[0].Location == "" {
		t.Errorf("the problem should still say where the body is wrong: %s (%v)", got, err)
	}

	f.do("GET", "/api/v1/runs?status=bogus", readSecret, "").wantProblem(t, http.StatusUnprocessableEntity, "bogus")
}
