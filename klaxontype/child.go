package klaxontype

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrChildFailed is the condition, matched with errors.Is, of a child run
// that ended dead or cancelled while its parent awaited it.
var ErrChildFailed = errors.New("child run failed")

// ChildError is the failure of a parent's step that awaited a child run which
// ended dead or cancelled: the step fails with the child's class, and the
// reason names the child, so the parent's dead-letter entry points at it.
type ChildError struct {
	// Name is the parent's step that awaited the child.
	Name     string
	RunID    string
	Workflow string
	// Status is dead or cancelled.
	Status RunStatus
	Class  FailureClass
	Reason string
}

func (e *ChildError) Error() string {
	return fmt.Sprintf("child run %s (workflow %s, step %q) ended %s, %s: %s", e.RunID, e.Workflow, e.Name, e.Status, e.Class, e.Reason)
}

// Is makes errors.Is(err, ErrChildFailed) hold.
func (e *ChildError) Is(target error) bool { return target == ErrChildFailed }

// FailureClass is the child's class; cancelled for a cancelled child.
func (e *ChildError) FailureClass() FailureClass {
	if e.Status == RunStatusCancelled || e.Class == "" {
		return ClassCancelled
	}
	return e.Class
}

// ChildKeyPrefix begins the enqueue idempotency key of every child run; the
// rest is the idempotency key of the parent's step that started it.
const ChildKeyPrefix = "klaxon-child:"

// ChildOrigin is the run and step that started a child run.
type ChildOrigin struct {
	ParentID  string
	ParentSeq int
	// Step is the name of the parent's step that started the child.
	Step string
}

// ChildOriginOf reads which run and step started a child run from the
// child's enqueue idempotency key: ChildKeyPrefix, then the key of the
// parent's step, RUN/SEQ/NAME, followed by /gN for a step run again after a
// from-step replay (so a step whose own name ends in /g and digits loses
// them here). It reports false for the key of a run that is no child. It
// lets whatever sees a run, a tracer starting its span, name its parent
// without reading the store.
func ChildOriginOf(idempotencyKey string) (ChildOrigin, bool) {
	rest, ok := strings.CutPrefix(idempotencyKey, ChildKeyPrefix)
	if !ok {
		return ChildOrigin{}, false
	}
	parent, rest, ok := strings.Cut(rest, "/")
	if !ok || parent == "" {
		return ChildOrigin{}, false
	}
	seqText, name, ok := strings.Cut(rest, "/")
	seq, err := strconv.Atoi(seqText)
	if !ok || err != nil || seq <= 0 {
		return ChildOrigin{}, false
	}
	if i := strings.LastIndex(name, "/g"); i >= 0 {
		if generation, err := strconv.Atoi(name[i+2:]); err == nil && generation > 0 {
			name = name[:i]
		}
	}
	return ChildOrigin{ParentID: parent, ParentSeq: seq, Step: name}, true
}

// ChildLink links a child run to its parent: the parent's step that started
// it, and the child as it is now.
type ChildLink struct {
	ParentID string `json:"parent_id"`
	// ParentSeq is the sequence number of the parent's step that started
	// the child; its output in the parent's step log is the child's run ID.
	ParentSeq int       `json:"parent_seq"`
	ChildID   string    `json:"child_id"`
	Workflow  string    `json:"workflow"`
	Status    RunStatus `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	// ChildCount is how many child runs the child started itself; it is
	// counted for a run's children (RunFamily.Children), not for its parent.
	ChildCount int `json:"child_count,omitempty"`
}

// RunFamily is a run's parent, when it is a child, and its children in the
// order they were started.
type RunFamily struct {
	Parent   *ChildLink   `json:"parent,omitempty"`
	Children []*ChildLink `json:"children"`
}

// RunTree is a run's family as a page shows it: the run's parent, and its
// descendants as deep and as many as the tree's limits allow. Every opened
// run's children are counted by status, listed or not, so a fan-out over
// thousands of children reads as a few numbers and a capped list.
type RunTree struct {
	Parent *ChildLink `json:"parent,omitempty"`
	// Children are the run's own children.
	Children *FamilyBranch `json:"children"`
}

// FamilyBranch is the children of one run in a RunTree.
type FamilyBranch struct {
	// Count is how many children the run started.
	Count int `json:"count"`
	// Statuses counts all of them by status now.
	Statuses map[RunStatus]int `json:"statuses"`
	// Runs lists at most the tree's limit of them, in the order they were
	// started; when they do not all fit, those still open or ended badly are
	// listed before completed ones.
	Runs []*FamilyNode `json:"runs"`
	// More is how many children are counted but not listed.
	More int `json:"more"`
}

// FamilyNode is a child in a RunTree and, when the tree opened it, its own
// children.
type FamilyNode struct {
	Run *ChildLink `json:"run"`
	// Children is nil for a run without children, and for one the tree did
	// not open (past its depth, or past the number of runs it reads), whose
	// Run.ChildCount still says how many it has.
	Children *FamilyBranch `json:"children,omitempty"`
}
