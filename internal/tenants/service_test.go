package tenants

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

func ptr[T any](v T) *T { return &v }

func TestCreateRefusesInvalidInputNamingTheField(t *testing.T) {
	b := setup(t)
	tests := []struct {
		name  string
		in    control.DestinationInput
		field string
	}{
		{"unknown channel", control.DestinationInput{Channel: "fax", Config: json.RawMessage(`{}`), EventTypes: []string{"*"}}, "channel"},
		{"ftp url", control.DestinationInput{Channel: "webhook", Config: json.RawMessage(`{"url":"ftp://example.com/x"}`), EventTypes: []string{"*"}}, "config.url"},
		{"relative url", control.DestinationInput{Channel: "webhook", Config: json.RawMessage(`{"url":"/hook"}`), EventTypes: []string{"*"}}, "config.url"},
		{"malformed glob", control.DestinationInput{Channel: "webhook", Config: json.RawMessage(`{"url":"https://example.com/h"}`), EventTypes: []string{"payment.*", "payment.["}}, "event_types[1]"},
		{"no event types", control.DestinationInput{Channel: "webhook", Config: json.RawMessage(`{"url":"https://example.com/h"}`)}, "event_types"},
		{"bad id", control.DestinationInput{ID: "a/b", Channel: "webhook", Config: json.RawMessage(`{"url":"https://example.com/h"}`), EventTypes: []string{"*"}}, "id"},
		{"long id", control.DestinationInput{ID: strings.Repeat("a", 65), Channel: "webhook", Config: json.RawMessage(`{"url":"https://example.com/h"}`), EventTypes: []string{"*"}}, "id"},
		{"unknown config field", control.DestinationInput{Channel: "webhook", Config: json.RawMessage(`{"url":"https://example.com/h","colour":"red"}`), EventTypes: []string{"*"}}, "config.colour"},
		{"bad secret", control.DestinationInput{Channel: "webhook", Config: json.RawMessage(`{"url":"https://example.com/h","secret":"whsec_!!!"}`), EventTypes: []string{"*"}}, "config.secret"},
		{"config not an object", control.DestinationInput{Channel: "webhook", Config: json.RawMessage(`[1]`), EventTypes: []string{"*"}}, "config"},
		{"operator's credentials", control.DestinationInput{Channel: "sms", Config: json.RawMessage(`{"to":["+14155550100"],"auth_token":"x"}`), EventTypes: []string{"*"}}, "config.auth_token"},
		{"channel the operator has not configured", control.DestinationInput{Channel: "sms", Config: json.RawMessage(`{"to":["+14155550100"]}`), EventTypes: []string{"*"}}, "config.account_sid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.svc.Create(t.Context(), "acme", tc.in)
			var fe *control.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("error %v; want a *control.FieldError on %q", err, tc.field)
			}
			if strings.Contains(fe.Message, "whsec_!!!") {
				t.Errorf("the message quotes the secret: %s", fe.Message)
			}
		})
	}
	if _, err := b.svc.Create(t.Context(), "acme/x", webhookInput("https://example.com/h")); err == nil {
		t.Error("an invalid tenant was accepted")
	}
}

func webhookInput(url string, types ...string) control.DestinationInput {
	if len(types) == 0 {
		types = []string{"payment.*"}
	}
	cfg, _ := json.Marshal(map[string]string{"url": url})
	return control.DestinationInput{Channel: "webhook", Config: cfg, EventTypes: types}
}

func TestCreateGeneratesASecretShownOnceAndMasksAnswers(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	in := webhookInput("https://hooks.example.com/in?token=tok_hidden_value_1234")
	in.Config = json.RawMessage(`{"url":"https://hooks.example.com/in?token=tok_hidden_value_1234","headers":{"Authorization":"Bearer very-secret-header-value"}}`)
	d, err := b.svc.Create(ctx, "acme", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.NewSigner(d.Secret); err != nil || !strings.HasPrefix(d.Secret, "whsec_") {
		t.Fatalf("generated secret %q is not a whsec_ secret: %v", d.Secret, err)
	}
	if d.ID == "" || !validID(d.ID) || !d.Enabled || d.DisabledReason != "" {
		t.Errorf("created %+v; want a generated valid id, enabled", d)
	}
	got, err := b.svc.Get(ctx, "acme", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Secret != "" {
		t.Error("Get shows the secret in full")
	}
	for _, leak := range []string{d.Secret, "tok_hidden_value_1234", "very-secret-header-value"} {
		if bytes.Contains(got.Config, []byte(leak)) || bytes.Contains(d.Config, []byte(leak)) {
			t.Errorf("an answer shows %q: %s", leak, got.Config)
		}
	}
	var m map[string]any
	_ = json.Unmarshal(got.Config, &m)
	if m["secret"] != "****"+d.Secret[len(d.Secret)-4:] {
		t.Errorf("secret shown as %v; want masked with its last four", m["secret"])
	}
	// The same id in another tenant is another destination.
	in.ID = d.ID
	if _, err := b.svc.Create(ctx, "globex", in); err != nil {
		t.Fatalf("another tenant cannot use the same id: %v", err)
	}
	if _, err := b.svc.Create(ctx, "acme", in); !errors.Is(err, control.ErrExists) {
		t.Errorf("a duplicate id: %v; want ErrExists", err)
	}
	if _, err := b.svc.Get(ctx, "initech", d.ID); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("another tenant's Get: %v; want ErrNotFound", err)
	}
	list, next, err := b.svc.List(ctx, "acme", control.Page{Limit: 10})
	if err != nil || len(list) != 1 || next != "" {
		t.Errorf("List: %d items, next %q, %v; want acme's one", len(list), next, err)
	}
}

func TestListPages(t *testing.T) {
	b := setup(t)
	for _, id := range []string{"c", "a", "b"} {
		in := webhookInput("https://example.com/" + id)
		in.ID = id
		if _, err := b.svc.Create(t.Context(), "acme", in); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	page := control.Page{Limit: 2}
	for {
		items, next, err := b.svc.List(t.Context(), "acme", page)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range items {
			ids = append(ids, d.ID)
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if strings.Join(ids, ",") != "a,b,c" {
		t.Errorf("pages listed %v; want a,b,c", ids)
	}
}

func TestUpdateMergesConfigAndKeepsMaskedValues(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	in := webhookInput("https://example.com/a")
	in.ID = "h"
	in.Config = json.RawMessage(`{"url":"https://example.com/a","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","method":"PUT"}`)
	d, err := b.svc.Create(ctx, "acme", in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Secret != "" {
		t.Error("a secret the tenant gave is shown in full")
	}
	var shown map[string]json.RawMessage
	_ = json.Unmarshal(d.Config, &shown)
	// Send back what GET showed, with a new URL and the method removed.
	patch := json.RawMessage(`{"url":"https://example.com/b","secret":` + string(shown["secret"]) + `,"method":null}`)
	types := []string{"node.*", "tenant.created"}
	got, err := b.svc.Update(ctx, "acme", "h", control.DestinationPatch{Config: patch, EventTypes: &types})
	if err != nil {
		t.Fatal(err)
	}
	_, _, sc, err := b.svc.open(ctx, "acme", "h")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]string
	_ = json.Unmarshal(sc.Config, &cfg)
	if cfg["secret"] != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" || cfg["url"] != "https://example.com/b" || cfg["method"] != "" {
		t.Errorf("stored config after the patch: url %q, method %q, secret kept %v", cfg["url"], cfg["method"], cfg["secret"] == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	}
	if strings.Join(got.EventTypes, ",") != "node.*,tenant.created" {
		t.Errorf("event types %v", got.EventTypes)
	}
	bad := []string{"node.["}
	if _, err := b.svc.Update(ctx, "acme", "h", control.DestinationPatch{EventTypes: &bad}); !isField(err, "event_types[0]") {
		t.Errorf("a malformed pattern in a patch: %v", err)
	}
	if _, err := b.svc.Update(ctx, "acme", "h", control.DestinationPatch{Config: json.RawMessage(`{"url":"gopher://x"}`)}); !isField(err, "config.url") {
		t.Errorf("a gopher URL in a patch: %v", err)
	}
	off, err := b.svc.SetEnabled(ctx, "acme", "h", false)
	if err != nil || off.Enabled || off.DisabledReason != DisabledManual {
		t.Errorf("disable: %+v, %v; want disabled, reason manual", off, err)
	}
	if list, err := b.svc.Disabled(ctx); err != nil || len(list) != 1 || list[0].ID != "h" {
		t.Errorf("Disabled: %+v, %v; want the one disabled destination", list, err)
	}
	on, err := b.svc.SetEnabled(ctx, "acme", "h", true)
	if err != nil || !on.Enabled || on.DisabledReason != "" {
		t.Errorf("enable: %+v, %v", on, err)
	}
	// A destination that becomes a webhook gets a secret, shown once.
	in2 := control.DestinationInput{ID: "s", Channel: "slack", Config: json.RawMessage(`{"webhook_url":"https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"}`), EventTypes: []string{"*"}}
	if _, err := b.svc.Create(ctx, "acme", in2); err != nil {
		t.Fatal(err)
	}
	moved, err := b.svc.Update(ctx, "acme", "s", control.DestinationPatch{Channel: ptr("webhook"), Config: json.RawMessage(`{"url":"https://example.com/w"}`)})
	if err != nil || moved.Channel != "webhook" || !strings.HasPrefix(moved.Secret, "whsec_") {
		t.Errorf("slack to webhook: %+v, %v; want a webhook with a new secret shown once", moved, err)
	}
	if _, err := b.svc.RotateSecret(ctx, "acme", "h", 0); err != nil {
		t.Errorf("rotate: %v", err)
	}
	if err := b.svc.Delete(ctx, "acme", "h"); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.Delete(ctx, "acme", "h"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("deleting twice: %v; want ErrNotFound", err)
	}
}

func isField(err error, field string) bool {
	var fe *control.FieldError
	return errors.As(err, &fe) && fe.Field == field
}

func TestNoKeyRefusesClearly(t *testing.T) {
	b := setup(t)
	svc := NewService(ServiceDeps{Store: b.store, Bucket: b.bucket, Channels: b.channels, Logger: b.svc.log})
	_, err := svc.Create(t.Context(), "acme", webhookInput("https://example.com/h"))
	if !errors.Is(err, control.ErrConflict) || !strings.Contains(err.Error(), secretbox.EnvVar) {
		t.Fatalf("without a key: %v; want a conflict naming %s", err, secretbox.EnvVar)
	}
	kr, src, err := LoadKeyring("", "postgres://db/herald", t.TempDir())
	if kr != nil || src != KeysNone || err != nil {
		t.Errorf("PostgreSQL without a key: %v %v %v; want no keyring", kr, src, err)
	}
	if kr, src, err := LoadKeyringFor("", t.TempDir(), false); kr != nil || src != KeysNone || err != nil {
		t.Errorf("a process that does not own its data directory: %v %v %v; want no keyring", kr, src, err)
	}
	dir := t.TempDir()
	kr, src, err = LoadKeyring("", "", dir)
	if err != nil || kr == nil || src != KeysFromFile {
		t.Fatalf("embedded default: %v %v", src, err)
	}
	again, _, _ := LoadKeyring("", "", dir)
	if again.PrimaryID() != kr.PrimaryID() {
		t.Error("the key file changed between starts")
	}
}

func TestSecretsAreSealedAndBoundToTheirRow(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	in := webhookInput("https://example.com/path?token=tok_secret_in_url")
	in.ID = "h"
	d, err := b.svc.Create(ctx, "acme", in)
	if err != nil {
		t.Fatal(err)
	}
	row, err := b.store.Destination(ctx, "acme", "h")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{d.Secret, strings.TrimPrefix(d.Secret, "whsec_"), "tok_secret_in_url", "example.com"} {
		if bytes.Contains(row.Config, []byte(s)) {
			t.Errorf("the row holds %q in clear", s)
		}
	}
	e, err := b.bucket.Get(ctx, destKey("acme", "h"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(e.Value(), []byte(d.Secret)) || bytes.Contains(e.Value(), []byte("tok_secret_in_url")) {
		t.Error("the bucket holds a secret in clear")
	}
	// A sealed config copied into another tenant's row does not open there.
	if _, err := b.store.CreateDestination(ctx, store.TenantDestination{Tenant: "evil", ID: "h", Channel: "webhook", Config: row.Config, EventTypes: []string{"*"}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	_, err = b.svc.Get(ctx, "evil", "h")
	if !errors.Is(err, secretbox.ErrCorrupt) {
		t.Errorf("a copied row opened: %v; want ErrCorrupt", err)
	}
}

func TestRewrapMovesEveryRowToTheFirstKey(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	for _, id := range []string{"a", "b"} {
		in := webhookInput("https://example.com/" + id)
		in.ID = id
		if _, err := b.svc.Create(ctx, "acme", in); err != nil {
			t.Fatal(err)
		}
	}
	newKeyValue := newKey(t)
	// The operator puts a new key first, keeping the old one.
	both := newKeyring(t, newKeyValue, b.keyValue)
	n, err := Rewrap(ctx, b.store, both)
	if err != nil || n != 2 {
		t.Fatalf("rewrap: %d, %v; want 2", n, err)
	}
	rows, _ := b.store.ListDestinations(ctx, "")
	for _, r := range rows {
		rec, _ := decodeRecord(r)
		if !strings.HasPrefix(rec.Sealed, "v1."+both.PrimaryID()+".") {
			t.Errorf("%s/%s still sealed under another key", r.Tenant, r.ID)
		}
	}
	if n, err := Rewrap(ctx, b.store, both); err != nil || n != 0 {
		t.Errorf("second rewrap: %d, %v; want nothing to do", n, err)
	}
	// The old key can go: the new one alone opens everything.
	alone := newKeyring(t, newKeyValue)
	svc := NewService(ServiceDeps{Store: b.store, Bucket: b.bucket, Keyring: alone, Channels: b.channels, Logger: b.svc.log})
	if _, err := svc.Get(ctx, "acme", "a"); err != nil {
		t.Errorf("the new key alone: %v", err)
	}
	// A wrong key fails clearly.
	wrong := newKeyring(t, newKey(t))
	svc = NewService(ServiceDeps{Store: b.store, Bucket: b.bucket, Keyring: wrong, Channels: b.channels, Logger: b.svc.log})
	if _, err := svc.Get(ctx, "acme", "a"); !errors.Is(err, secretbox.ErrUnknownKey) {
		t.Errorf("a wrong key: %v; want ErrUnknownKey", err)
	}
	if _, err := Rewrap(ctx, b.store, wrong); !errors.Is(err, secretbox.ErrUnknownKey) || !strings.Contains(err.Error(), "acme/a") {
		t.Errorf("rewrap with a wrong key: %v; want ErrUnknownKey naming the destination", err)
	}
}

func TestRotateSecretSignsWithBothUntilTheOverlapEnds(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	ep := newEndpoint(t, "127.0.0.2", 204)
	in := webhookInput(ep.URL + "/h")
	in.ID = "h"
	d, err := b.svc.Create(ctx, "acme", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.RotateSecret(ctx, "acme", "nope", 0); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("rotating a missing destination: %v", err)
	}
	r, err := b.svc.RotateSecret(ctx, "acme", "h", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.Secret == "" || r.Secret == d.Secret || r.SecretOverlapUntil == nil {
		t.Fatalf("rotation answered %+v; want a new secret in full and the overlap's end", r)
	}
	oldV, _ := sdk.NewVerifier(d.Secret)
	newV, _ := sdk.NewVerifier(r.Secret)
	out, err := b.svc.Test(ctx, "acme", "h")
	if err != nil || out.Status != store.StatusDelivered || out.Destination != "acme/h" || !strings.HasSuffix(out.DeliveryID, ":acme/h") {
		t.Fatalf("test send: %+v, %v", out, err)
	}
	if oldV.Verify(ep.lastHeader(), ep.lastBody()) != nil || newV.Verify(ep.lastHeader(), ep.lastBody()) != nil {
		t.Fatal("during the overlap a delivery does not verify with both secrets")
	}
	// Workers compute the secrets at send time from the same record.
	testutil.WaitFor(t, time.Second, "the rotation reaches the table", func() bool {
		dest, ok := b.table.Destination("acme/h")
		return ok && strings.Contains(strings.Join(dest.Config.Secrets(), " "), r.Secret)
	})
	if dest, _ := b.table.Destination("acme/h"); !strings.Contains(strings.Join(dest.Config.Secrets(), " "), d.Secret) {
		t.Error("during the overlap a worker does not sign with the old secret")
	}
	testutil.WaitFor(t, 5*time.Second, "the overlap ends for workers", func() bool {
		dest, _ := b.table.Destination("acme/h")
		return !strings.Contains(strings.Join(dest.Config.Secrets(), " "), d.Secret)
	})
	if _, err := b.svc.Test(ctx, "acme", "h"); err != nil {
		t.Fatal(err)
	}
	if oldV.Verify(ep.lastHeader(), ep.lastBody()) == nil {
		t.Error("after the overlap the old secret still signs")
	}
	if newV.Verify(ep.lastHeader(), ep.lastBody()) != nil {
		t.Error("after the overlap the new secret does not sign")
	}
	if g, _ := b.svc.Get(ctx, "acme", "h"); g.SecretOverlapUntil != nil {
		t.Error("after the overlap the answer still shows its end")
	}
}
