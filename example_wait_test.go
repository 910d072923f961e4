package klaxon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/sqlite"
)

// A refund waits for the payment provider's webhook (a signal, here sent by
// entity as a webhook would, knowing the order and not the run) and then for
// a person's approval. While it waits the run holds no worker; the decision
// is recorded with who made it and why.
func ExampleAwaitApproval() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "klaxon-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "klaxon.db"), nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	type Payment struct {
		Amount int `json:"amount"`
	}
	refund := klaxon.NewWorkflow("refund", func(ctx context.Context, order string) (string, error) {
		payment, err := klaxon.WaitForSignal[Payment](ctx, "payment", klaxon.SignalTimeout(24*time.Hour))
		if err != nil {
			return "", err
		}
		decision, err := klaxon.AwaitApproval(ctx, "refund", klaxon.ApprovalRequest{
			Title: fmt.Sprintf("Refund %d EUR of order %s?", payment.Amount, order), Timeout: 48 * time.Hour,
		})
		if err != nil {
			return "", err
		}
		if !decision.Approved {
			return "refused by " + decision.By + ": " + decision.Comment, nil
		}
		return klaxon.Step(ctx, "pay-back", func(ctx context.Context) (string, error) {
			return fmt.Sprintf("refunded %d EUR, approved by %s", payment.Amount, decision.By), nil
		})
	}, klaxon.ExpectSteps("payment", "refund", "pay-back"))

	client, err := klaxon.NewClient(st, &klaxon.Config{PollInterval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	if err := client.Register(refund); err != nil {
		panic(err)
	}
	if err := client.Start(ctx); err != nil {
		panic(err)
	}
	defer client.Stop(ctx)

	result, err := refund.Enqueue(ctx, client, "42", klaxon.WithEntity("order_id", "42"))
	if err != nil {
		panic(err)
	}
	awaitWaiting := func() {
		for {
			run, err := client.Run(ctx, result.Run.ID)
			if err != nil {
				panic(err)
			}
			if run.Status == klaxontype.RunStatusWaiting {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	awaitWaiting()
	sent, err := client.SignalEntity(ctx, "order_id", "42", "payment", []byte(`{"amount": 120}`), "payments-webhook")
	if err != nil {
		panic(err)
	}
	fmt.Println("signal taken by the wait:", sent[0].Consumed)

	for {
		inbox, err := client.Approvals(ctx, 0)
		if err != nil {
			panic(err)
		}
		if len(inbox) == 1 {
			fmt.Println("inbox:", inbox[0].Request.Title)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := client.DecideApproval(ctx, result.Run.ID, "refund", klaxon.Decision{Approved: true, Comment: "damaged parcel"}, "alice"); err != nil {
		panic(err)
	}
	out, err := refund.Await(ctx, client, result.Run.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output:
	// signal taken by the wait: true
	// inbox: Refund 120 EUR of order 42?
	// refunded 120 EUR, approved by alice
}
