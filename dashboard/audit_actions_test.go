package dashboard_test

import (
	"os"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// The audit page's action filter offers every audited action.
func TestAuditPageOffersEveryAction(t *testing.T) {
	source, err := os.ReadFile("static/audit.js")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(source), "export const auditActions = [")
	end := strings.Index(string(source)[start:], "];")
	if start < 0 || end < 0 {
		t.Fatal("audit.js no longer declares auditActions")
	}
	list := string(source)[start : start+end]
	for _, action := range klaxontype.AuditActions() {
		if !strings.Contains(list, "'"+string(action)+"'") {
			t.Errorf("audit.js's auditActions lacks %q", action)
		}
	}
}
