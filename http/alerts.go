package http

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// RecentlyResolved is how far back the alert list reaches for resolved
// alerts.
const RecentlyResolved = 24 * time.Hour

// AlertList is alerts, newest first.
type AlertList struct {
	Alerts []*klaxontype.Alert `json:"alerts"`
}

// AlertStateFilter selects alerts by state: firing, resolved (in the last
// 24 hours) or all (firing, and resolved in the last 24 hours).
type AlertStateFilter string

// The values of AlertStateFilter.
const (
	AlertsFiring   AlertStateFilter = "firing"
	AlertsResolved AlertStateFilter = "resolved"
	AlertsAll      AlertStateFilter = "all"
)

type listAlertsInput struct {
	State string `query:"state" enum:"firing,resolved,all" default:"all" doc:"firing; resolved (in the last 24 hours); all: firing, and resolved in the last 24 hours"`
}

type listAlertsOutput struct {
	Body AlertList
}

// AlertListParams is the store filter of a state filter at a time.
func AlertListParams(state AlertStateFilter, now time.Time) *store.AlertListParams {
	params := &store.AlertListParams{ResolvedSince: now.Add(-RecentlyResolved), Limit: 1000}
	switch state {
	case AlertsFiring:
		params.States = []klaxontype.AlertState{klaxontype.AlertFiring}
	case AlertsResolved:
		params.States = []klaxontype.AlertState{klaxontype.AlertResolved}
	}
	return params
}

func (s *Server) registerAlerts() {
	register(s, ScopeRead, huma.Operation{
		OperationID: "list-alerts", Method: http.MethodGet, Path: APIPrefix + "/alerts",
		Summary: "Alerts the server's rules raised, newest first", Tags: []string{"alerts"},
		Description: "Each alert is one firing episode of a rule for a workflow (and failure class). " +
			"By default the firing ones and those resolved in the last 24 hours.",
	}, func(ctx context.Context, input *listAlertsInput) (*listAlertsOutput, error) {
		alerts, err := s.alerts.AlertList(ctx, AlertListParams(AlertStateFilter(input.State), time.Now()))
		if err != nil {
			return nil, err
		}
		return &listAlertsOutput{Body: AlertList{Alerts: orEmpty(alerts)}}, nil
	})
}

// Alerts lists alerts in a state: firing, resolved, or all (scope read).
func (c *Client) Alerts(ctx context.Context, state AlertStateFilter) ([]*klaxontype.Alert, error) {
	query := url.Values{}
	if state != "" {
		query.Set("state", string(state))
	}
	var list AlertList
	if err := c.do(ctx, http.MethodGet, APIPrefix+"/alerts", query, nil, &list); err != nil {
		return nil, err
	}
	return list.Alerts, nil
}
