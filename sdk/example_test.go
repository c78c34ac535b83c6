package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/sdk"
)

func ExampleNewPaymentFailed() {
	e, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{
		TenantID: "acme",
		Reason:   "card declined",
		Amount:   49.99,
	}, sdk.WithSource("billing"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Type, e.Severity, e.Source)
	fmt.Println(e.Subject(sdk.DefaultSubjectPrefix))
	fmt.Println(string(e.Data))
	// Output:
	// payment.failed warning billing
	// herald.events.acme.payment.failed
	// {"tenant_id":"acme","reason":"card declined","amount":49.99}
}

func ExampleNew() {
	// A custom type: any dot-separated tokens; channels render it generically.
	e, err := sdk.New("deploy.finished", "acme", map[string]any{"service": "api", "version": "1.4.2"},
		sdk.WithSource("ci"), sdk.WithSeverity(sdk.SeverityInfo))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.Subject("herald"), string(e.Data))
	// Output:
	// herald.events.acme.deploy.finished {"service":"api","version":"1.4.2"}
}

func ExampleValidationError() {
	_, err := sdk.New("payment failed", "acme", nil)
	var ve *sdk.ValidationError
	if errors.As(err, &ve) {
		fmt.Println("bad field:", ve.Field)
	}
	// Output:
	// bad field: type
}

func ExampleDecodePayload() {
	e, _ := sdk.NewNodeTerminated("acme", sdk.NodeTerminated{NodeID: "n-7", TimeRemaining: 120, Reason: "spot reclaim"})
	p, err := sdk.DecodePayload(e)
	if err != nil {
		log.Fatal(err)
	}
	switch p := p.(type) {
	case sdk.NodeTerminated:
		fmt.Printf("%s goes in %s (%s)\n", p.NodeID, p.TimeRemaining, e.Severity)
	}
	// Output:
	// n-7 goes in 2m0s (critical)
}

func ExamplePublisher_Publish() {
	// The embedded fleet's producer credentials; in production, the seed issued to you.
	creds, err := nats.NkeyOptionFromSeed("data/nats-credentials/producer.nk")
	if err != nil {
		log.Fatal(err)
	}
	nc, err := nats.Connect("nats://127.0.0.1:4222", creds)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	pub, err := sdk.NewPublisher(nc, sdk.WithPublishTimeout(3*time.Second))
	if err != nil {
		log.Fatal(err)
	}

	e, err := sdk.NewNodeLaunched("acme", sdk.NodeLaunched{
		NodeID: "n-7", Provider: "aws", Region: "us-east-1", GPUType: "H100", GPUCount: 8,
		Model: "llama-3-70b", Spot: true, PricePerHour: 12.5, LaunchDuration: sdk.SecondsOf(93 * time.Second),
	}, sdk.WithSource("node-manager"))
	if err != nil {
		log.Fatal(err)
	}
	ack, err := pub.Publish(context.Background(), e)
	if errors.Is(err, sdk.ErrPublishTimeout) {
		// Safe: the same event id makes the stream drop a copy that did arrive.
		ack, err = pub.Publish(context.Background(), e)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("published %s stream=%s seq=%d\n", e.ID, ack.Stream, ack.Sequence)
}

func ExamplePublisher_PublishBatch() {
	// The embedded fleet's producer credentials; in production, the seed issued to you.
	creds, err := nats.NkeyOptionFromSeed("data/nats-credentials/producer.nk")
	if err != nil {
		log.Fatal(err)
	}
	nc, err := nats.Connect("nats://127.0.0.1:4222", creds)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		log.Fatal(err)
	}

	var events []*sdk.Event
	for _, node := range []string{"n-1", "n-2", "n-3"} {
		e, err := sdk.NewNodeHealthDegraded("acme", sdk.NodeHealthDegraded{NodeID: node, HealthScore: 40, Issues: []string{"ecc errors"}})
		if err != nil {
			log.Fatal(err)
		}
		events = append(events, e)
	}
	_, err = pub.PublishBatch(context.Background(), events)
	var be *sdk.BatchError
	if errors.As(err, &be) {
		for i, err := range be.Errs {
			if err != nil {
				log.Printf("event %s: %v", events[i].ID, err) // republish these
			}
		}
	} else if err != nil {
		log.Fatal(err)
	}
}
