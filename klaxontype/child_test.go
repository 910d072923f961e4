package klaxontype_test

import (
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// ChildOriginOf reads the parent's run and step from a child's key, the
// generation of a from-step replay taken off the step's name, and refuses
// keys of runs that are no child.
func TestChildOriginOf(t *testing.T) {
	t.Parallel()
	const parent = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
	for key, want := range map[string]klaxontype.ChildOrigin{
		"klaxon-child:" + parent + "/3/research":        {ParentID: parent, ParentSeq: 3, Step: "research"},
		"klaxon-child:" + parent + "/12/fan/out/g2":     {ParentID: parent, ParentSeq: 12, Step: "fan/out"},
		"klaxon-child:" + parent + "/1/leaf/gone":       {ParentID: parent, ParentSeq: 1, Step: "leaf/gone"},
		"klaxon-child:" + parent + "/7/":                {ParentID: parent, ParentSeq: 7, Step: ""},
		"klaxon-child:" + parent + "/4/a step with / g": {ParentID: parent, ParentSeq: 4, Step: "a step with / g"},
	} {
		if got, ok := klaxontype.ChildOriginOf(key); !ok || got != want {
			t.Errorf("ChildOriginOf(%q) = %+v, %v; want %+v", key, got, ok, want)
		}
	}
	for _, key := range []string{"", "order-42", parent + "/3/research", "klaxon-child:", "klaxon-child:" + parent,
		"klaxon-child:" + parent + "/x/research", "klaxon-child:" + parent + "/0/research", "klaxon-child:/3/research"} {
		if got, ok := klaxontype.ChildOriginOf(key); ok {
			t.Errorf("ChildOriginOf(%q) = %+v; want no child", key, got)
		}
	}
}
