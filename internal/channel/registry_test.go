package channel_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
)

// stub is a channel that only has a name and refuses destinations without a URL.
type stub string

func (s stub) Name() string { return string(s) }
func (s stub) Validate(d channel.Destination) error {
	if d.URL == "" {
		return errors.Join(channel.ErrInvalidDestination, errors.New("url is required"))
	}
	return nil
}
func (s stub) Send(context.Context, channel.Notification) channel.Outcome { return channel.Sent(200) }

func TestRegistry(t *testing.T) {
	t.Parallel()
	r, err := channel.NewRegistry(stub("slack"), stub("discord"), stub("webhook"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Names(); !slices.Equal(got, []string{"discord", "slack", "webhook"}) {
		t.Fatalf("Names = %q, want sorted", got)
	}
	r.Names()[0] = "changed"
	if r.Names()[0] != "discord" {
		t.Fatal("Names exposes the registry's own slice")
	}
	if ch, ok := r.Get("slack"); !ok || ch.Name() != "slack" {
		t.Fatalf("Get(slack) = %v, %v", ch, ok)
	}
	if _, ok := r.Get("sms"); ok {
		t.Fatal("Get(sms) found a channel")
	}
	if err := r.Validate(channel.Destination{ID: "x", Channel: "sms"}); !errors.Is(err, channel.ErrUnknownChannel) {
		t.Fatalf("Validate(sms) = %v, want ErrUnknownChannel", err)
	}
	if err := r.Validate(channel.Destination{ID: "x", Channel: "slack"}); !errors.Is(err, channel.ErrInvalidDestination) {
		t.Fatalf("Validate(no url) = %v, want ErrInvalidDestination", err)
	}
	if err := r.Validate(channel.Destination{ID: "x", Channel: "slack", URL: "https://hooks.slack.com/x"}); err != nil {
		t.Fatalf("Validate = %v", err)
	}
}

func TestRegistryRejects(t *testing.T) {
	t.Parallel()
	if _, err := channel.NewRegistry(stub("webhook"), stub("webhook")); !errors.Is(err, channel.ErrDuplicateChannel) {
		t.Fatalf("duplicate: err = %v, want ErrDuplicateChannel", err)
	}
	if _, err := channel.NewRegistry(stub("")); err == nil {
		t.Fatal("empty name accepted")
	}
	if _, err := channel.NewRegistry(nil); err == nil {
		t.Fatal("nil channel accepted")
	}
	if r, err := channel.NewRegistry(); err != nil || len(r.Names()) != 0 {
		t.Fatalf("empty registry: %v, %v", r, err)
	}
}
