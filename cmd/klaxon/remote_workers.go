package main

import (
	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/llm"
)

// remoteWorkers is the worker protocol over a client: workers of any
// language report model calls, priced here with package llm's table, the
// one Go workers use.
func remoteWorkers(client *klaxon.Client) (*klaxon.RemoteWorkers, error) {
	return client.RemoteWorkers(klaxon.RemoteWorkersConfig{
		Price: func(_, model string, usage klaxontype.TokenUsage) klaxontype.Cost {
			return llm.DefaultPrices.Cost(model, usage)
		},
	})
}
