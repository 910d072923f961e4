package http

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// errorStatuses is the one table from the engine's errors to HTTP statuses.
// The server answers with the first row an error matches; the client turns a
// status back into the row's sentinel, so that errors.Is(err,
// klaxontype.ErrNotFound) holds on both sides of the wire.
var errorStatuses = []struct {
	// matches reports whether an error is of this row.
	matches func(error) bool
	status  int
	// sentinel is what the client's errors unwrap to for this status; nil
	// when the status is not the first row with it.
	sentinel error
}{
	{isA[*klaxon.UnknownWorkflowError], http.StatusNotFound, nil},
	{isA[*klaxon.InputError], http.StatusUnprocessableEntity, nil},
	{is(klaxontype.ErrNotFound), http.StatusNotFound, klaxontype.ErrNotFound},
	{is(klaxontype.ErrInvalid), http.StatusUnprocessableEntity, klaxontype.ErrInvalid},
	{is(klaxontype.ErrEntryNotOpen), http.StatusConflict, klaxontype.ErrEntryNotOpen},
	{is(klaxontype.ErrLeaseLost), http.StatusConflict, nil},
	{is(klaxontype.ErrStepExists), http.StatusConflict, nil},
	{is(klaxontype.ErrClosed), http.StatusServiceUnavailable, klaxontype.ErrClosed},
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func isA[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// statusOf is the HTTP status of an engine error: 500 for one the table does
// not know.
func statusOf(err error) int {
	for _, row := range errorStatuses {
		if row.matches(err) {
			return row.status
		}
	}
	return http.StatusInternalServerError
}

// sentinelOf is the engine error a status stands for, for the client.
func sentinelOf(status int) error {
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
	status := statusOf(err)
	detail := err.Error()
	if status == http.StatusInternalServerError {
		s.logger.Error("request failed", "error", err)
		detail = "internal error; the server's log has the cause"
	}
	return &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: detail}
}

// invalid is a 422 problem for a request the engine never saw.
func invalid(format string, args ...any) error {
	return huma.Error422UnprocessableEntity(fmt.Sprintf(format, args...))
}
