// Package sdk is what a service imports to tell Herald that something happened. It holds the
// CloudEvents 1.0 envelope Herald carries ([Event]), typed payloads and constructors for the
// event types every channel knows how to render, a [Publisher] that puts events on NATS
// JetStream, and (in webhooks.go) the Standard Webhooks verifier that receivers of Herald's
// webhooks use.
//
// # Publishing a first event
//
// Build the event with the constructor of its type, then publish it:
//
//	// The producer's NATS credentials: on the single-machine default, the seed that the
//	// fleet wrote at first start; in production, the seed or .creds file issued to you.
//	creds, err := nats.NkeyOptionFromSeed("data/nats-credentials/producer.nk")
//	if err != nil { ... }
//	nc, err := nats.Connect(os.Getenv("NOTIFICATIONS_NATS_URL"), creds)
//	if err != nil { ... }
//	defer nc.Close()
//
//	pub, err := sdk.NewPublisher(nc) // subject prefix "herald", 5 s publish timeout
//	if err != nil { ... }
//
//	ev, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{
//		TenantID: "acme",
//		Reason:   "card declined",
//		Amount:   49.99,
//	}, sdk.WithSource("billing"))
//	if err != nil { ... } // a *ValidationError naming the field
//
//	ack, err := pub.Publish(ctx, ev)
//	if err != nil { ... } // safe to retry with the same ev: see below
//	log.Printf("published %s as EVENTS #%d", ev.ID, ack.Sequence)
//
// The event travels on the subject herald.events.acme.payment.failed (see [Event.Subject]);
// the fleet's dispatcher routes it to the tenant's and the operator's channels.
//
// # Identity and retries
//
// Every constructor gives the event a ULID ([NewID]), and [Publisher.Publish] sends it with
// the Nats-Msg-Id header set to that id. Publishing the same *Event again — after a timeout,
// say — is therefore safe: within the stream's duplicate window JetStream drops the copy
// (the ack says Duplicate), and after it the dispatcher's idempotency record does. Build a
// new event only for a new occurrence; reuse the old one for a retry.
//
// # Event types
//
// The types of the seed ([TypeTenantCreated], [TypePaymentFailed], [TypeNodeLaunched], ...)
// each have a payload struct and a constructor, and a default severity
// ([DefaultSeverity]). Any other dot-separated type may be published with [New]; channels
// render it generically. Durations in payloads are [Seconds]: JSON numbers of seconds.
//
// # Producers in other languages
//
// Any NATS client can publish: a CloudEvents JSON object (structured mode) on
// <prefix>.events.<tenant or _>.<type>, with the Nats-Msg-Id header set to the event id.
// The command publisher-sdk (cmd/publisher-sdk) does the same from a shell.
//
// Herald's dispatcher and renderer read the data of the seed types with
// [DecodeDataLenient], so that an event is never lost for the way a field is written:
// "time_remaining":"93s", "PT2M" or 120, "amount":"49.99" and "spot":"true" are all
// understood. A field that cannot be interpreted is counted and logged, and the event is
// still delivered, rendered generically on Discord, Slack and email. The constructors of
// this package stay strict, so that Go producers learn of a mistake when they publish.
package sdk
