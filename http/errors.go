package http

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// errorStatuses is the one table from the engine's errors to HTTP statuses
// and problem types. The server answers with the first row an error matches;
// the client turns a problem type (or, failing that, a status) back into the
// row's sentinel, so that errors.Is(err, klaxontype.ErrNotFound) holds on both
// sides of the wire.
var errorStatuses = []struct {
	// matches reports whether an error is of this row.
	matches func(error) bool
	status  int
	// problem names the row in the problem's type, "urn:klaxon:problem:NAME".
	problem string
	// sentinel is what the client's errors unwrap to for this problem.
	sentinel error
}{
	{isA[*klaxon.UnknownWorkflowError], http.StatusNotFound, "unknown-workflow", nil},
	{isA[*klaxon.InputError], http.StatusUnprocessableEntity, "invalid-input", nil},
	{is(klaxontype.ErrNotFound), http.StatusNotFound, "not-found", klaxontype.ErrNotFound},
	{is(klaxontype.ErrInvalid), http.StatusUnprocessableEntity, "invalid", klaxontype.ErrInvalid},
	{is(klaxontype.ErrInvalidOutput), http.StatusUnprocessableEntity, "invalid-output", klaxontype.ErrInvalidOutput},
	{is(klaxontype.ErrEntryNotOpen), http.StatusConflict, "entry-not-open", klaxontype.ErrEntryNotOpen},
	{is(klaxontype.ErrRunNotCancellable), http.StatusConflict, "run-not-cancellable", klaxontype.ErrRunNotCancellable},
	{is(klaxontype.ErrLeaseLost), http.StatusConflict, "lease-lost", klaxontype.ErrLeaseLost},
	{is(klaxontype.ErrStepExists), http.StatusConflict, "step-exists", klaxontype.ErrStepExists},
	{is(klaxontype.ErrNondeterminism), http.StatusConflict, "nondeterminism", klaxontype.ErrNondeterminism},
	{is(klaxontype.ErrManifestConflict), http.StatusConflict, "manifest-conflict", klaxontype.ErrManifestConflict},
	{is(klaxontype.ErrSignalRefused), http.StatusConflict, "signal-refused", klaxontype.ErrSignalRefused},
	{is(klaxontype.ErrNotApprover), http.StatusForbidden, "not-approver", klaxontype.ErrNotApprover},
	{is(klaxontype.ErrScheduleExists), http.StatusConflict, "schedule-exists", klaxontype.ErrScheduleExists},
	{is(klaxontype.ErrClosed), http.StatusServiceUnavailable, "store-closed", klaxontype.ErrClosed},
}

// problemPrefix begins the type of every problem the table names.
const problemPrefix = "urn:klaxon:problem:"

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// sentinelOf is the engine error a problem stands for, for the client: by
// its type, or for a problem without one (huma's validation errors) the first
// sentinel of its status.
func sentinelOf(problemType string, status int) error {
	for _, row := range errorStatuses {
		if problemPrefix+row.problem == problemType && row.sentinel != nil {
			return row.sentinel
		}
	}
	for _, row := range errorStatuses {
		if row.status == status && row.sentinel != nil {
			return row.sentinel
		}
	}
	return nil
}

// problem turns an engine error into an application/problem+json response. An
// error the table does not know is a fault of the server: its text stays in
// the server's log, where it may name paths and queries, and the client gets
// a generic detail.
func (s *Server) problem(err error) error {
	for _, row := range errorStatuses {
		if row.matches(err) {
			return &huma.ErrorModel{
				Type: problemPrefix + row.problem, Status: row.status, Title: http.StatusText(row.status), Detail: err.Error(),
			}
		}
	}
	s.logger.Error("request failed", "error", err)
	status := http.StatusInternalServerError
	return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: "internal error; the server's log has the cause"}
}

// invalid is a 422 problem for a request the engine never saw.
func invalid(format string, args ...any) error {
	return huma.Error422UnprocessableEntity(fmt.Sprintf(format, args...))
}
