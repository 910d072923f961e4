package klaxontype

import (
	"errors"
	"fmt"
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
}

// RunFamily is a run's parent, when it is a child, and its children in the
// order they were started.
type RunFamily struct {
	Parent   *ChildLink   `json:"parent,omitempty"`
	Children []*ChildLink `json:"children"`
}
