package http_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	klaxonhttp "github.com/klaxonhq/klaxon/http"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

func TestWhoAmI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	for secret, want := range map[string]klaxonhttp.WhoAmI{
		readSecret:    {Name: "reader", Scope: "read", TokensRequired: true},
		operateSecret: {Name: "operator", Scope: "operate", TokensRequired: true},
		adminSecret:   {Name: "root", Scope: "admin", TokensRequired: true},
	} {
		r := f.do(http.MethodGet, "/api/v1/whoami", secret, "")
		var got klaxonhttp.WhoAmI
		r.decode(t, &got)
		if r.status != http.StatusOK || got != want {
			t.Errorf("whoami = %d %+v; want %+v", r.status, got, want)
		}
	}
	f.do(http.MethodGet, "/api/v1/whoami", "", "").wantProblem(t, http.StatusUnauthorized, "access token")

	// The typed client asks the same.
	got, err := f.client(operateSecret).WhoAmI(context.Background())
	if want := (klaxonhttp.WhoAmI{Name: "operator", Scope: "operate", TokensRequired: true}); err != nil || *got != want {
		t.Errorf("client WhoAmI = %+v, %v; want %+v", got, err, want)
	}
	var problem *klaxonhttp.Error
	if _, err := f.client("").WhoAmI(context.Background()); !errors.As(err, &problem) || problem.Status != http.StatusUnauthorized {
		t.Errorf("client WhoAmI without a token: %v; want a 401 problem", err)
	}

	// Without tokens, this machine may do everything, as anonymous.
	open := newFixture(t, false)
	var anonymous klaxonhttp.WhoAmI
	r := open.do(http.MethodGet, "/api/v1/whoami", "", "")
	r.decode(t, &anonymous)
	if want := (klaxonhttp.WhoAmI{Name: "anonymous", Scope: "admin"}); anonymous != want {
		t.Errorf("whoami without tokens = %+v; want %+v", anonymous, want)
	}
}

func TestDeadLetterGroups(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	first := f.deadEntry("", map[string]string{"tenant": "acme"})
	f.deadEntry("", map[string]string{"tenant": "globex"})
	f.deadEntry("", map[string]string{"tenant": "acme"})
	if _, err := f.store.DLQDiscard(context.Background(), &store.DLQDiscardParams{EntryID: first.ID, Reason: "test", Actor: "t"}); err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]int{
		"":                               3,
		"?state=open":                    2,
		"?state=open&entity=tenant=acme": 1,
		"?class=timeout":                 0,
		"?workflow=greet":                0,
	} {
		var got klaxonhttp.DeadLetterGroups
		r := f.do(http.MethodGet, "/api/v1/dlq/groups"+query, "", "")
		r.decode(t, &got)
		if r.status != http.StatusOK || got.Total != want || got.Groups == nil {
			t.Errorf("groups%s = %d %s; want total %d", query, r.status, r.body, want)
			continue
		}
		if want > 0 && (len(got.Groups) != 1 || got.Groups[0].Class != "permanent" || got.Groups[0].Channel != first.Channel || got.Groups[0].Count != want) {
			t.Errorf("groups%s = %s; want one permanent group on %s of %d", query, r.body, first.Channel, want)
		}
	}
	f.do(http.MethodGet, "/api/v1/dlq/groups?class=flaky", "", "").wantProblem(t, http.StatusUnprocessableEntity, "flaky")

	// The typed client sends the same filters.
	ctx := context.Background()
	client := f.client("")
	for _, c := range []struct {
		query *klaxonhttp.DeadLetterQuery
		want  int
	}{
		{nil, 3},
		{&klaxonhttp.DeadLetterQuery{States: []klaxontype.DeadLetterState{klaxontype.DeadLetterOpen}, Entities: map[string]string{"tenant": "acme"}}, 1},
		{&klaxonhttp.DeadLetterQuery{Classes: []klaxontype.FailureClass{klaxontype.ClassPermanent}, Channel: first.Channel}, 3},
		{&klaxonhttp.DeadLetterQuery{Workflow: "greet"}, 0},
		{&klaxonhttp.DeadLetterQuery{Since: time.Now().Add(time.Hour)}, 0},
	} {
		got, err := client.DeadLetterGroups(ctx, c.query)
		if err != nil || got.Total != c.want || (c.want > 0 && (len(got.Groups) != 1 || got.Groups[0].Count != c.want)) {
			t.Errorf("client DeadLetterGroups(%+v) = %+v, %v; want total %d in one group", c.query, got, err, c.want)
		}
	}
	var problem *klaxonhttp.Error
	if _, err := client.DeadLetterGroups(ctx, &klaxonhttp.DeadLetterQuery{Classes: []klaxontype.FailureClass{"flaky"}}); !errors.As(err, &problem) || problem.Status != http.StatusUnprocessableEntity {
		t.Errorf("client DeadLetterGroups of class flaky: %v; want a 422 problem", err)
	}
	for _, query := range []*klaxonhttp.DeadLetterQuery{{Run: first.RunID}, {Limit: 5}, {Cursor: "x"}} {
		if _, err := client.DeadLetterGroups(ctx, query); err == nil || !strings.Contains(err.Error(), "Run, Limit and Cursor") {
			t.Errorf("client DeadLetterGroups(%+v): %v; want refused as not a filter", query, err)
		}
	}
	f.do(http.MethodGet, "/api/v1/dlq/groups?entity=tenant", "", "").wantProblem(t, http.StatusUnprocessableEntity, "key=value")
	f.do(http.MethodGet, "/api/v1/dlq/groups?limit=5", "", "").wantProblem(t, http.StatusUnprocessableEntity, "limit")
}

func TestDashboardMount(t *testing.T) {
	t.Parallel()
	st := newFixture(t, false).store
	client, err := klaxon.NewClient(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("dashboard " + r.URL.Path)) })
	server, err := klaxonhttp.NewServer(klaxonhttp.Config{Client: client, Dashboard: page})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/": 200, "/assets/app.js": 200, "/api/v1/runs": 200, "/api/v1/nothing": 404, "/api/v1": 404} {
		recorder := httptest.NewRecorder()
		request := httptest.NewRequest(http.MethodGet, path, nil)
		request.RemoteAddr = "127.0.0.1:5000"
		// A server without tokens answers only its own names, not
		// httptest's default example.com.
		request.Host = "127.0.0.1:7070"
		server.Handler().ServeHTTP(recorder, request)
		if recorder.Code != want {
			t.Errorf("GET %s = %d %s; want %d", path, recorder.Code, recorder.Body, want)
		}
		isDashboard := recorder.Body.String() == "dashboard "+path
		if isDashboard != (path == "/" || path == "/assets/app.js") {
			t.Errorf("GET %s answered %q", path, recorder.Body)
		}
	}
}
