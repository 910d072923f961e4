package klaxon_test

import (
	"context"
	"testing"

	"github.com/klaxonhq/klaxon"
)

// Client.Start checks its configuration before it writes anything: a refused
// Start leaves no workflow registered that nobody will run.
func TestStartRefusesBeforeRegistering(t *testing.T) {
	st := openStore(t)
	wf := klaxon.NewWorkflow("registered-anyway", func(ctx context.Context, _ struct{}) (string, error) { return "", nil })
	client, _ := klaxon.NewClient(st, &klaxon.Config{Channels: map[string]klaxon.DeadLetterHandler{"ops": nil}})
	_ = client.Register(wf)
	err := client.Start(context.Background())
	t.Logf("Start: %v", err)
	list, _ := st.WorkflowList(context.Background())
	if err != nil && len(list) > 0 {
		t.Fatalf("Start refused (%v) but left workflow %q registered in the store", err, list[0].Name)
	}
}
