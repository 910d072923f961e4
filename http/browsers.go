package http

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Any web page the user opens can send requests to the server: a form or a
// fetch in "no-cors" mode needs no permission when its body is not declared
// JSON, and a page whose name an attacker rebinds to 127.0.0.1 (DNS
// rebinding) can even read the answers. On a server without tokens such a
// request acts with every scope, so three checks keep pages of other origins
// out, on every server:
//
//   - a request body must be declared Content-Type: application/json, which
//     a browser sends across origins only after a CORS preflight that this
//     server never grants;
//   - a state-changing request that carries an Origin (browsers send one)
//     must come from the server's own origin;
//   - on a server without tokens, and on any server given Config.Hosts, the
//     Host header must name the server: "localhost", an IP address, or one
//     of Config.Hosts; a rebound name is none of them.

// guardBrowsers refuses what a page of another origin could send, before any
// route sees it.
func (s *Server) guardBrowsers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answers carry run data: no cache keeps them and no browser guesses
		// their type. (The dashboard sets its own caching for its assets.)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if s.checkHost && !s.knownHost(r.Host) {
			refuse(w, r, http.StatusMisdirectedRequest, fmt.Sprintf(
				"Host %q is not a name of this server: use localhost or an IP address, or give the name to the server (klaxon server --host NAME)", r.Host))
			return
		}
		if stateChanging(r.Method) && !sameOrigin(r) {
			refuse(w, r, http.StatusForbidden, fmt.Sprintf(
				"a request from origin %q to this server is refused: only the server's own pages may change state", r.Header.Get("Origin")))
			return
		}
		if hasBody(r) && takesNoBody(r.Method) {
			refuse(w, r, http.StatusBadRequest, r.Method+" requests take no body")
			return
		}
		if hasBody(r) && !declaredJSON(r.Header.Get("Content-Type")) {
			refuse(w, r, http.StatusUnsupportedMediaType,
				"a request body must be sent with Content-Type: application/json")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers a request with a problem without reading its body, closing
// the connection when it sends one, so that the server does not wait for a
// body nobody reads.
func refuse(w http.ResponseWriter, r *http.Request, status int, detail string) {
	if hasBody(r) {
		w.Header().Set("Connection", "close")
	}
	writeProblem(w, status, detail)
}

// knownHost reports whether a Host header names this server.
func (s *Server) knownHost(hostHeader string) bool {
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(host) != nil {
		return true
	}
	for _, name := range s.hosts {
		if strings.EqualFold(host, name) {
			return true
		}
	}
	return false
}

// stateChanging reports whether a method may change state.
func stateChanging(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// sameOrigin reports whether a request carries no Origin (it does not come
// from a browser's page) or the server's own: the scheme and the Host it was
// sent to. "null", the origin of sandboxed pages and local files, is not
// the server's.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	parsed, err := url.Parse(origin)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") {
		return false
	}
	return strings.EqualFold(parsed.Host, r.Host)
}

// hasBody reports whether a request sends a body.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// declaredJSON reports whether a Content-Type is JSON.
func declaredJSON(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && mediaType == "application/json"
}
