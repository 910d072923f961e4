package http

import (
	"fmt"
	"net/http"
	"strings"
)

// MetricsPath is where the server serves Config.Metrics, in Prometheus's
// text format. It is outside the API and its OpenAPI document: it speaks
// Prometheus's exposition format, not JSON.
const MetricsPath = "/metrics"

// serveMetrics mounts the metrics handler. With access tokens configured it
// needs a token of scope read, as the rest of what the server shows does:
// metrics name the workflows and what they spend, and a server with tokens
// is one other machines reach. Prometheus sends the token with
// `authorization: {credentials_file: ...}` in its scrape config. Without
// tokens the server answers this machine only, metrics included.
func (s *Server) serveMetrics(mux *http.ServeMux, metrics http.Handler) {
	mux.Handle("GET "+MetricsPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.tokens.Len() > 0 {
			scheme, secret, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
			secret = strings.TrimSpace(secret)
			if !strings.EqualFold(scheme, "Bearer") || secret == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon"`)
				writeProblem(w, http.StatusUnauthorized, "metrics need an access token of scope read: Authorization: Bearer SECRET")
				return
			}
			name, scope, ok := s.tokens.lookup(secret)
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon", error="invalid_token"`)
				writeProblem(w, http.StatusUnauthorized, "the access token is not one this server knows")
				return
			}
			if !scope.allows(ScopeRead) {
				writeProblem(w, http.StatusForbidden, fmt.Sprintf("token %q has scope %s; metrics need %s", name, scope, ScopeRead))
				return
			}
		}
		metrics.ServeHTTP(w, r)
	}))
}
