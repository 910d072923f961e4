package klaxon

import (
	"context"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// DeadLetterGroup counts the dead-letter entries of one failure class routed
// to one channel.
type DeadLetterGroup struct {
	Class   klaxontype.FailureClass
	Channel string
	Count   int
}

// DeadLetterGroups counts the entries matching the filter by failure class
// and channel, ordered by class then channel, however many there are: how the
// queue a person filters is made up. The filter's cursor and limit do not
// apply.
func (c *Client) DeadLetterGroups(ctx context.Context, filter *DeadLetterFilter) ([]*DeadLetterGroup, error) {
	params := filter.storeParams()
	if err := checkFilter(params); err != nil {
		return nil, err
	}
	counted, err := c.store.DLQCountByClassAndChannel(ctx, params)
	if err != nil {
		return nil, err
	}
	groups := make([]*DeadLetterGroup, len(counted))
	for i, group := range counted {
		groups[i] = &DeadLetterGroup{Class: group.Class, Channel: group.Channel, Count: group.Count}
	}
	return groups, nil
}
