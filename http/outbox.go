package http

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
)

// OutboxList sums up the notifications waiting to be delivered, by channel
// and kind.
type OutboxList struct {
	Channels []*OutboxChannel `json:"channels"`
}

// OutboxChannel is the wire form of a klaxon.OutboxSummary: the pending
// notifications of one kind on one channel. The API's JSON is defined here,
// not by the root package's or the store's types.
type OutboxChannel struct {
	Channel     string                      `json:"channel"`
	Kind        klaxontype.NotificationKind `json:"kind"`
	Pending     int                         `json:"pending"`
	Oldest      time.Time                   `json:"oldest"`
	Attempted   int                         `json:"attempted"`
	MaxAttempts int                         `json:"max_attempts"`
	LastError   string                      `json:"last_error,omitempty"`
}

// NewOutboxChannels is the wire form of summaries, as GET /api/v1/outbox and
// klaxon outbox list --json show them; never nil.
func NewOutboxChannels(summaries []*klaxon.OutboxSummary) []*OutboxChannel {
	channels := make([]*OutboxChannel, len(summaries))
	for i, s := range summaries {
		channels[i] = &OutboxChannel{
			Channel: s.Channel, Kind: s.Kind, Pending: s.Pending, Oldest: s.Oldest,
			Attempted: s.Attempted, MaxAttempts: s.MaxAttempts, LastError: s.LastError,
		}
	}
	return channels
}

// summary is the summary the wire form came from.
func (c *OutboxChannel) summary() *klaxon.OutboxSummary {
	return &klaxon.OutboxSummary{
		Channel: c.Channel, Kind: c.Kind, Pending: c.Pending, Oldest: c.Oldest,
		Attempted: c.Attempted, MaxAttempts: c.MaxAttempts, LastError: c.LastError,
	}
}

type listOutboxOutput struct {
	Body OutboxList
}

// GiveUpRequest gives up a channel's pending notifications.
type GiveUpRequest struct {
	Channel string `json:"channel" minLength:"1" maxLength:"200" doc:"The channel whose pending notifications nobody will deliver"`
	Reason  string `json:"reason" minLength:"1" maxLength:"2000" doc:"Why, kept as each notification's last error with the token's name"`
}

// GiveUpResponse counts the notifications given up.
type GiveUpResponse struct {
	Channel string `json:"channel"`
	GivenUp int    `json:"given_up"`
}

type giveUpInput struct {
	Body GiveUpRequest
}

type giveUpOutput struct {
	Body GiveUpResponse
}

func (s *Server) registerOutbox() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-pending-notifications", Method: http.MethodGet, Path: APIPrefix + "/outbox",
		Summary: "Notifications waiting to be delivered, by channel and kind", Tags: []string{"outbox"},
		Description: "Dead-letter, breaker and alert notifications not yet delivered nor given up. " +
			"They pile up on a channel that no running process delivers.",
	}, func(ctx context.Context, _ *struct{}) (*listOutboxOutput, error) {
		summaries, err := s.client.PendingNotifications(ctx)
		if err != nil {
			return nil, err
		}
		return &listOutboxOutput{Body: OutboxList{Channels: NewOutboxChannels(summaries)}}, nil
	})
	register(s, ScopeAdmin, huma.Operation{
		OperationID: "give-up-notifications", Method: http.MethodPost, Path: APIPrefix + "/outbox/give-up",
		Summary: "Give up a channel's pending notifications, recording who and why", Tags: []string{"outbox"},
		Description: "For a channel nobody will deliver any more (a removed webhook or alert target). " +
			"Notifications a deliverer holds at the moment are left to it.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, input *giveUpInput) (*giveUpOutput, error) {
		given, err := s.client.GiveUpNotifications(ctx, input.Body.Channel, input.Body.Reason, actor(ctx))
		if err != nil {
			return nil, err
		}
		return &giveUpOutput{Body: GiveUpResponse{Channel: input.Body.Channel, GivenUp: given}}, nil
	})
}

// PendingNotifications sums up the outbox by channel and kind (scope read),
// as klaxon.Client.PendingNotifications does on the database.
func (c *Client) PendingNotifications(ctx context.Context) ([]*klaxon.OutboxSummary, error) {
	var list OutboxList
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/outbox", nil, nil, &list); err != nil {
		return nil, err
	}
	summaries := make([]*klaxon.OutboxSummary, len(list.Channels))
	for i, channel := range list.Channels {
		summaries[i] = channel.summary()
	}
	return summaries, nil
}

// GiveUpNotifications gives up a channel's pending notifications (scope
// admin) and returns how many.
func (c *Client) GiveUpNotifications(ctx context.Context, channel, reason string) (int, error) {
	var response GiveUpResponse
	if err := c.do(ctx, http.MethodPost, APIPrefix+"/outbox/give-up", nil, &GiveUpRequest{Channel: channel, Reason: reason}, &response); err != nil {
		return 0, err
	}
	return response.GivenUp, nil
}
