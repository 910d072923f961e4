package dashboard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/dashboard"
)

// TestHandlerServesThePageAndItsAssets checks what the dashboard serves
// without a browser: the page, its assets with their types, and a policy
// that lets the page load nothing from elsewhere.
func TestHandlerServesThePageAndItsAssets(t *testing.T) {
	t.Parallel()
	handler := dashboard.Handler()
	get := func(method, path string) *httptest.ResponseRecorder {
		recorder := httptest.NewRecorder()
		handler.ServeHTTP(recorder, httptest.NewRequest(method, path, nil))
		return recorder
	}
	for path, contentType := range map[string]string{
		"/": "text/html", "/assets/app.js": "text/javascript", "/assets/core.js": "text/javascript",
		"/assets/app.css": "text/css", "/assets/charts.js": "text/javascript",
	} {
		r := get(http.MethodGet, path)
		if r.Code != http.StatusOK || !strings.HasPrefix(r.Header().Get("Content-Type"), contentType) {
			t.Errorf("GET %s: %d %q; want 200 %s", path, r.Code, r.Header().Get("Content-Type"), contentType)
		}
		csp := r.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q; want only the page's own origin", path, csp)
		}
	}
	// Every script and stylesheet the page names is served from here.
	page, _ := io.ReadAll(get(http.MethodGet, "/").Body)
	for _, asset := range []string{`src="/assets/app.js"`, `href="/assets/app.css"`} {
		if !strings.Contains(string(page), asset) {
			t.Errorf("the page does not load %s", asset)
		}
	}
	if strings.Contains(string(page), "http://") || strings.Contains(string(page), "https://") {
		t.Error("the page names another origin")
	}
	for _, path := range []string{"/nothing", "/assets/", "/assets/missing.js", "/assets/index.html"} {
		if r := get(http.MethodGet, path); r.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d; want 404", path, r.Code)
		}
	}
	if r := get(http.MethodPost, "/"); r.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d; want 405", r.Code)
	}
}
