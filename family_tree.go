package klaxon

import (
	"context"
	"slices"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Limits of RunTree, so that a page showing a family of thousands of runs
// reads a bounded number of them.
const (
	// DefaultTreeDepth is how many generations below a run RunTree opens by
	// default: its children, grandchildren and great-grandchildren.
	DefaultTreeDepth = 3
	// MaxTreeDepth is the deepest RunTree opens.
	MaxTreeDepth = 6
	// DefaultTreeListed is how many children of each run RunTree lists by
	// default; the rest are counted.
	DefaultTreeListed = 20
	// MaxTreeListed is the most children of one run RunTree lists.
	MaxTreeListed = 500
	// treeOpenBudget is how many runs' children RunTree reads at most, the
	// run's own included: past it, children are counted on their link
	// (ChildLink.ChildCount) but not opened.
	treeOpenBudget = 100
)

// TreeLimits bound a RunTree; a zero field takes its default.
type TreeLimits struct {
	// Depth is how many generations below the run are opened, 1 to
	// MaxTreeDepth (default DefaultTreeDepth).
	Depth int
	// Listed is how many children of each opened run are listed, 1 to
	// MaxTreeListed (default DefaultTreeListed).
	Listed int
}

// RunTree returns a run's parent and its descendants as a tree, as the
// dashboard's run page shows them: each opened run's children counted by
// status and at most limits.Listed of them listed (open and badly ended
// ones first when they do not all fit), generation by generation down to
// limits.Depth, opening at most 100 runs in all. An unknown run gives
// klaxontype.ErrNotFound.
func (c *Client) RunTree(ctx context.Context, runID string, limits TreeLimits) (*klaxontype.RunTree, error) {
	depth := limits.Depth
	if depth <= 0 {
		depth = DefaultTreeDepth
	}
	depth = min(depth, MaxTreeDepth)
	listed := limits.Listed
	if listed <= 0 {
		listed = DefaultTreeListed
	}
	listed = min(listed, MaxTreeListed)

	family, err := c.store.RunFamily(ctx, runID)
	if err != nil {
		return nil, err
	}
	tree := &klaxontype.RunTree{Parent: family.Parent, Children: familyBranch(family.Children, listed)}
	// Open the listed children generation by generation, so that a budget
	// spent shows every run near the top rather than one deep branch.
	type toOpen struct {
		node       *klaxontype.FamilyNode
		generation int
	}
	var queue []toOpen
	enqueue := func(branch *klaxontype.FamilyBranch, generation int) {
		for _, node := range branch.Runs {
			if node.Run.ChildCount > 0 && generation <= depth {
				queue = append(queue, toOpen{node, generation})
			}
		}
	}
	enqueue(tree.Children, 2)
	for opened := 1; len(queue) > 0 && opened < treeOpenBudget; opened++ {
		next := queue[0]
		queue = queue[1:]
		family, err := c.store.RunFamily(ctx, next.node.Run.ChildID)
		if err != nil {
			return nil, err
		}
		next.node.Children = familyBranch(family.Children, listed)
		enqueue(next.node.Children, next.generation+1)
	}
	return tree, nil
}

// familyBranch counts children by status and lists at most listed of them
// in the order they were started, choosing first those a person must look
// at (see attentionRank).
func familyBranch(children []*klaxontype.ChildLink, listed int) *klaxontype.FamilyBranch {
	branch := &klaxontype.FamilyBranch{Count: len(children), Statuses: map[klaxontype.RunStatus]int{}, Runs: []*klaxontype.FamilyNode{}}
	for _, child := range children {
		branch.Statuses[child.Status]++
	}
	chosen := make([]int, len(children))
	for i := range chosen {
		chosen[i] = i
	}
	if len(children) > listed {
		slices.SortStableFunc(chosen, func(a, b int) int {
			return attentionRank(children[a].Status) - attentionRank(children[b].Status)
		})
		chosen = chosen[:listed]
		slices.Sort(chosen)
	}
	for _, i := range chosen {
		branch.Runs = append(branch.Runs, &klaxontype.FamilyNode{Run: children[i]})
	}
	branch.More = len(children) - len(branch.Runs)
	return branch
}

// attentionRank orders statuses by how much a person looking at a family
// needs to see a run in them: dead first, completed last.
func attentionRank(status klaxontype.RunStatus) int {
	switch status {
	case klaxontype.RunStatusDead:
		return 0
	case klaxontype.RunStatusCompensating, klaxontype.RunStatusRetrying:
		return 1
	case klaxontype.RunStatusRunning, klaxontype.RunStatusWaiting:
		return 2
	case klaxontype.RunStatusPending:
		return 3
	case klaxontype.RunStatusCancelled:
		return 4
	default:
		return 5
	}
}
