// Package dashboard serves Klaxon's web user interface: one HTML page, a
// stylesheet and a few small ES modules of plain JavaScript, embedded in the
// binary so that nothing is built or downloaded at run time.
//
// It is a leaf adapter with no Go dependency on the rest of Klaxon: the
// pages talk only to the JSON API under /api/v1, with the token a person
// types into the login form, so they can see and do exactly what the API
// lets that token see and do. The HTTP server mounts Handler at / (see
// http.Config.Dashboard).
//
// It may import only the standard library.
package dashboard

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// AssetsPrefix is where the stylesheet and scripts are served.
const AssetsPrefix = "/assets/"

// contentSecurityPolicy lets the page load only its own scripts, styles and
// API: no inline script, no third-party origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the dashboard: the page at /, its assets under
// AssetsPrefix, and 404 for anything else.
func Handler() http.Handler {
	assets, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeProblem(w, http.StatusMethodNotAllowed, "the dashboard only answers GET: "+r.Method+" "+r.URL.Path+" is no route of this server")
			return
		}
		header := w.Header()
		header.Set("Content-Security-Policy", contentSecurityPolicy)
		header.Set("X-Content-Type-Options", "nosniff")
		header.Set("Referrer-Policy", "no-referrer")
		// A new binary serves new assets at the same paths: revalidate.
		header.Set("Cache-Control", "no-cache")
		switch {
		case r.URL.Path == "/" || r.URL.Path == "/index.html":
			http.ServeFileFS(w, r, assets, "index.html")
		case strings.HasPrefix(r.URL.Path, AssetsPrefix) && path.Ext(r.URL.Path) != "" && !strings.HasSuffix(r.URL.Path, "/index.html") &&
			exists(assets, strings.TrimPrefix(r.URL.Path, AssetsPrefix)):
			request := r.Clone(r.Context())
			request.URL.Path = "/" + strings.TrimPrefix(r.URL.Path, AssetsPrefix)
			files.ServeHTTP(w, request)
		default:
			writeProblem(w, http.StatusNotFound, "no dashboard page "+r.URL.Path+": the dashboard is at /")
		}
	})
}

// exists reports whether the assets hold a file at name.
func exists(assets fs.FS, name string) bool {
	info, err := fs.Stat(assets, path.Clean(name))
	return err == nil && !info.IsDir()
}

// writeProblem answers in the application/problem+json shape of every other
// error of the server, so that a client reads all of them alike.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}
