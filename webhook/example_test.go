package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/webhook"
)

// A webhook as the handler of a dead-letter channel: every run dead-lettered
// to "security" is posted, signed, to the receiver.
func ExampleNew() {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var entry klaxontype.DeadLetter
		_ = json.Unmarshal(body, &entry)
		fmt.Println("verified:", webhook.Verify([]byte("shared-secret"), body, r.Header.Get("Klaxon-Signature")))
		fmt.Println("delivery:", r.Header.Get("Klaxon-Delivery"))
		fmt.Println("entry:", entry.Class, entry.Reason)
	}))
	defer receiver.Close()

	security, err := webhook.New(receiver.URL, []byte("shared-secret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	config := &klaxon.Config{
		Channels: map[string]klaxon.DeadLetterHandler{"security": security},
	}
	_ = config // klaxon.NewClient(store, config) then delivers through the outbox.

	// What the client's dispatcher does for each notification:
	err = security.HandleDeadLetter(context.Background(), &klaxontype.DeadLetter{
		ID: "01JPB6Q3Z8Y1N2M3K4J5H6G7F8", Class: klaxontype.ClassPolicyViolation,
		Reason: "the model refused", Channel: "security", State: klaxontype.DeadLetterOpen,
	})
	fmt.Println("error:", err)
	// Output:
	// verified: true
	// delivery: 01JPB6Q3Z8Y1N2M3K4J5H6G7F8
	// entry: policy_violation the model refused
	// error: <nil>
}

// A receiver checks the signature over the body exactly as received, before
// decoding it, and acts once per delivery ID: delivery is at least once.
func ExampleVerify() {
	secret := []byte("shared-secret")
	var (
		mu   sync.Mutex
		seen = make(map[string]bool)
	)
	receive := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if !webhook.Verify(secret, body, r.Header.Get(webhook.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		duplicate := seen[r.Header.Get(webhook.DeliveryHeader)]
		seen[r.Header.Get(webhook.DeliveryHeader)] = true
		mu.Unlock()
		if duplicate {
			return // already handled: answer 2xx so it is not sent again
		}
		var entry klaxontype.DeadLetter
		if err := json.Unmarshal(body, &entry); err != nil {
			http.Error(w, "bad entry", http.StatusBadRequest)
			return
		}
		fmt.Println("page the on-call engineer about run", entry.RunID)
	})

	body := []byte(`{"id":"01JPB6Q3Z8Y1N2M3K4J5H6G7F8","run_id":"01JPB6Q0000000000000000000","class":"permanent"}`)
	for _, signature := range []string{webhook.Sign(secret, body), webhook.Sign(secret, body), "sha256=forged"} {
		request := httptest.NewRequest(http.MethodPost, "/hooks/klaxon", bytes.NewReader(body))
		request.Header.Set(webhook.SignatureHeader, signature)
		request.Header.Set(webhook.DeliveryHeader, "01JPB6Q3Z8Y1N2M3K4J5H6G7F8")
		response := httptest.NewRecorder()
		receive.ServeHTTP(response, request)
		fmt.Println(response.Code)
	}
	// Output:
	// page the on-call engineer about run 01JPB6Q0000000000000000000
	// 200
	// 200
	// 401
}
