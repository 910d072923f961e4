package http

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// auditWriteTimeout bounds the audit write of one admin request, which
// outlives the request's own context.
const auditWriteTimeout = 5 * time.Second

// auditAdminRequest records a request to an admin endpoint, once it has been
// answered: the token's name, the method and path, the query (never the
// body, which has records of its own where it changed something) and the
// status. A failed write is logged: the request's answer is already sent.
func (s *Server) auditAdminRequest(ctx huma.Context) {
	status := ctx.Status()
	if status == 0 {
		status = http.StatusOK
	}
	params := map[string]any{"operation": ctx.Operation().OperationID}
	if query := ctx.URL().RawQuery; query != "" {
		params["query"] = query
	}
	record := &store.AuditAppendParams{
		Actor: actor(ctx.Context()), Action: klaxontype.AuditAdminRequest,
		Target: ctx.Method() + " " + ctx.URL().Path, Params: params,
		Result: fmt.Sprintf("%d %s", status, http.StatusText(status)),
	}
	writeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx.Context()), auditWriteTimeout)
	defer cancel()
	if err := s.audit.AuditAppend(writeCtx, record); err != nil {
		s.logger.Error("klaxon http: recording an admin request in the audit log failed",
			"actor", record.Actor, "target", record.Target, "error", err)
	}
}
