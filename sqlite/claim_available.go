package sqlite

import (
	"fmt"
	"strings"
	"sync"
)

// maxClaimWorkflows is the most workflows one claim statement walks: each
// takes two of SQLite's 500 compound SELECTs. A worker hosting more claims
// with runs_claim_available.sql, which walks every workflow's due runs
// together and sorts them.
const maxClaimWorkflows = 200

// claimStatements are the claim statements by number of workflows, built
// once each: the statement cache keys on the text.
var claimStatements sync.Map // int -> string

// claimAvailableSQL is the claim of available runs for n workflows, bound
// ?1 holder, ?2 lease expiry, ?3 now, ?4 limit, ?5… the workflows. Each
// workflow's first due runs come from two walks of its own part of the claim
// indexes, which lead with the workflow — runs of priority 0 in the order
// they became available, up to now; prioritized runs in their aged order
// (available_at − priority × 10 s), up to the latest aged time a due run can
// have (now + 100 × 10 s); the oldest of all those are claimed. The caller
// leaves out the workflows whose breaker is open (workflows_claimable.sql). So a claim walks at most 2 × n × limit
// runs, whatever other workflows have waiting. (SQLite has no LATERAL: the
// statement spells each workflow's walks out.)
func claimAvailableSQL(n int) string {
	if text, ok := claimStatements.Load(n); ok {
		return text.(string)
	}
	walks := make([]string, 0, 2*n)
	for i := range n {
		w := fmt.Sprintf("?%d", 5+i)
		walks = append(walks, fmt.Sprintf(`SELECT * FROM (
            SELECT id, available_at AS claim_at FROM runs INDEXED BY runs_claimable
            WHERE workflow = %s AND status IN ('pending', 'retrying', 'waiting') AND priority = 0
              AND available_at <= ?3
            ORDER BY available_at LIMIT ?4)`, w),
			fmt.Sprintf(`SELECT * FROM (
            SELECT id, available_at - priority * 10000000 AS claim_at FROM runs INDEXED BY runs_claimable_prioritized
            WHERE workflow = %s AND status IN ('pending', 'retrying', 'waiting') AND priority <> 0
              AND available_at - priority * 10000000 <= ?3 + 1000000000 AND available_at <= ?3
            ORDER BY available_at - priority * 10000000 LIMIT ?4)`, w))
	}
	text := `UPDATE runs SET
    status = 'running',
    lease_holder = ?1,
    lease_expires_at = ?2,
    epoch = epoch + 1,
    attempt = attempt + (CASE WHEN status = 'waiting' THEN 0 ELSE 1 END),
    started_at = coalesce(started_at, ?3),
    updated_at = ?3
WHERE id IN (
    SELECT id FROM (
        ` + strings.Join(walks, "\n        UNION ALL\n        ") + `)
    ORDER BY claim_at
    LIMIT ?4)
RETURNING *`
	claimStatements.Store(n, text)
	return text
}
