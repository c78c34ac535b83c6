package channel_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

// stubConfig is the configuration of a stub channel: a URL.
type stubConfig struct {
	URL string `json:"url"`
}

func (c *stubConfig) Validate() error {
	if c.URL == "" {
		return &channel.FieldError{Field: "url", Err: errors.Join(channel.ErrInvalidDestination, errors.New("url is required"))}
	}
	return nil
}

func (c *stubConfig) Secrets() []string { return channel.SecretsOf(nil, nil, c.URL) }

// stub is a provider whose channel only has a name and refuses destinations without a URL.
type stub string

func (s stub) Name() string { return string(s) }
func (s stub) Spec() channel.Spec {
	return channel.Spec{EnabledVar: "STUB_ENABLED", Fields: []channel.Field{{Name: "url", Env: "STUB_URL", Required: true}},
		NewConfig: func() channel.Config { return &stubConfig{} }}
}
func (s stub) Render() *render.Profile                   { return nil }
func (s stub) PreviewConfig() channel.Config             { return &stubConfig{URL: "https://example.com"} }
func (s stub) New(channel.Deps) (channel.Channel, error) { return stubChannel(s), nil }

type stubChannel string

func (s stubChannel) Name() string { return string(s) }
func (s stubChannel) Validate(d channel.Destination) error {
	c, ok := d.Config.(*stubConfig)
	if !ok {
		return errors.Join(channel.ErrInvalidDestination, errors.New("not a stub configuration"))
	}
	return c.Validate()
}
func (s stubChannel) Send(context.Context, channel.Notification) channel.Outcome {
	return channel.Sent(200)
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	r, err := channel.NewRegistry(channel.Deps{}, stub("slack"), stub("discord"), stub("webhook"))
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
	if p, ok := r.Provider("slack"); !ok || p.Name() != "slack" {
		t.Fatalf("Provider(slack) = %v, %v", p, ok)
	}
	if _, ok := r.Get("sms"); ok {
		t.Fatal("Get(sms) found a channel")
	}
	if err := r.Validate(channel.Destination{ID: "x", Channel: "sms"}); !errors.Is(err, channel.ErrUnknownChannel) {
		t.Fatalf("Validate(sms) = %v, want ErrUnknownChannel", err)
	}
	if err := r.Validate(channel.Destination{ID: "x", Channel: "slack", Config: &stubConfig{}}); !errors.Is(err, channel.ErrInvalidDestination) {
		t.Fatalf("Validate(no url) = %v, want ErrInvalidDestination", err)
	}
	if err := r.Validate(channel.Destination{ID: "x", Channel: "slack", Config: &stubConfig{URL: "https://hooks.slack.com/x"}}); err != nil {
		t.Fatalf("Validate = %v", err)
	}
}

func TestRegistryRejects(t *testing.T) {
	t.Parallel()
	if _, err := channel.NewRegistry(channel.Deps{}, stub("webhook"), stub("webhook")); !errors.Is(err, channel.ErrDuplicateChannel) {
		t.Fatalf("duplicate: err = %v, want ErrDuplicateChannel", err)
	}
	if _, err := channel.NewRegistry(channel.Deps{}, stub("")); err == nil {
		t.Fatal("empty name accepted")
	}
	if _, err := channel.NewRegistry(channel.Deps{}, nil); err == nil {
		t.Fatal("nil provider accepted")
	}
	if r, err := channel.NewRegistry(channel.Deps{}); err != nil || len(r.Names()) != 0 {
		t.Fatalf("empty registry: %v, %v", r, err)
	}
}

func TestConfigFromEnvAndJSON(t *testing.T) {
	t.Parallel()
	s := stub("s").Spec()
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if c, err := channel.ConfigFromEnv(s, get); c != nil || err != nil {
		t.Fatalf("disabled: %v, %v", c, err)
	}
	env["STUB_ENABLED"] = "yes"
	var ve *channel.VarError
	if _, err := channel.ConfigFromEnv(s, get); !errors.As(err, &ve) || ve.Var != "STUB_ENABLED" {
		t.Fatalf("bad boolean: %v, want a VarError naming STUB_ENABLED", err)
	}
	env["STUB_ENABLED"] = "true"
	if _, err := channel.ConfigFromEnv(s, get); !errors.As(err, &ve) || ve.Var != "STUB_URL" {
		t.Fatalf("missing url: %v, want a VarError naming STUB_URL", err)
	}
	env["STUB_URL"] = "https://example.com/hook"
	c, err := channel.ConfigFromEnv(s, get)
	if err != nil || c.(*stubConfig).URL != "https://example.com/hook" {
		t.Fatalf("ConfigFromEnv = %+v, %v", c, err)
	}

	var fe *channel.FieldError
	if _, err := channel.DecodeConfig(s, json.RawMessage(`{"url":"https://x","extra":1}`)); !errors.As(err, &fe) || fe.Field != "extra" {
		t.Fatalf("unknown field: %v, want a FieldError naming extra", err)
	}
	if _, err := channel.DecodeConfig(s, json.RawMessage(`{"url":42}`)); !errors.As(err, &fe) || fe.Field != "url" {
		t.Fatalf("wrong type: %v, want a FieldError naming url", err)
	}
	if _, err := channel.DecodeConfig(s, json.RawMessage(`{}`)); !errors.As(err, &fe) || fe.Field != "url" {
		t.Fatalf("missing: %v, want a FieldError naming url", err)
	}
}

func TestSecretsAndMasked(t *testing.T) {
	t.Parallel()
	s := channel.Spec{Fields: []channel.Field{
		{Name: "url", Secret: channel.SecretURL}, {Name: "key", Secret: channel.Secret}, {Name: "name"},
	}}
	type cfg struct {
		stubConfig
		Key  string `json:"key"`
		Name string `json:"name"`
	}
	c := &cfg{stubConfig: stubConfig{URL: "https://hooks.example.com/services/T1/B2/tokentokentoken"}, Key: "sk_live_0123456789abcdef", Name: "ops"}
	got := channel.Secrets(s, c)
	if !slices.Contains(got, c.Key) || !slices.Contains(got, c.URL) {
		t.Errorf("Secrets = %q, want the key and the URL", got)
	}
	m := channel.Masked(s, c)
	if m["key"] != "****cdef" || m["name"] != "ops" || m["url"] == c.URL {
		t.Errorf("Masked = %v", m)
	}
}

func TestDecodeTenantConfig(t *testing.T) {
	t.Parallel()
	s := channel.Spec{Fields: []channel.Field{
		{Name: "url", Required: true, Tenant: true},
		{Name: "key", Required: true, Secret: channel.Secret},
	}, NewConfig: func() channel.Config { return &keyed{} }}
	op := &keyed{stubConfig: stubConfig{URL: "https://operator.example"}, Key: "sk_operator_0123456789"}
	c, err := channel.DecodeTenantConfig(s, op, json.RawMessage(`{"url":"https://tenant.example"}`))
	if err != nil {
		t.Fatal(err)
	}
	if k := c.(*keyed); k.URL != "https://tenant.example" || k.Key != op.Key {
		t.Errorf("merged = %+v, want the tenant's url and the operator's key", k)
	}
	var fe *channel.FieldError
	if _, err := channel.DecodeTenantConfig(s, op, json.RawMessage(`{"url":"https://t","key":"mine"}`)); !errors.As(err, &fe) || fe.Field != "key" {
		t.Errorf("a tenant setting the operator's key: %v, want a FieldError naming key", err)
	}
	if _, err := channel.DecodeTenantConfig(s, nil, json.RawMessage(`{"url":"https://t"}`)); !errors.As(err, &fe) || fe.Field != "key" {
		t.Errorf("no operator configuration: %v, want a FieldError naming key", err)
	}
}

// keyed is a configuration with an operator's key.
type keyed struct {
	stubConfig
	Key string `json:"key"`
}
