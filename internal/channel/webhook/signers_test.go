package webhook

import (
	"sync"
	"testing"

	"github.com/heraldhq/herald/sdk"
)

func TestSignerCache(t *testing.T) {
	t.Parallel()
	c := newSignerCache(2)
	secrets := make([]string, 3)
	for i := range secrets {
		s, err := sdk.NewWebhookSecret()
		if err != nil {
			t.Fatal(err)
		}
		secrets[i] = s
	}

	// Concurrent first uses of one secret end with one cached signer, shared by all.
	var wg sync.WaitGroup
	got := make([]*sdk.Signer, 16)
	for i := range got {
		wg.Go(func() {
			s, err := c.get(secrets[0])
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		})
	}
	wg.Wait()
	for _, s := range got {
		if s != got[0] {
			t.Fatal("concurrent gets returned different signers for one secret")
		}
	}
	if c.len() != 1 {
		t.Fatalf("len = %d, want 1", c.len())
	}

	// The cache stays within its bound.
	for _, s := range secrets {
		if _, err := c.get(s); err != nil {
			t.Fatal(err)
		}
	}
	if c.len() != 2 {
		t.Fatalf("len = %d, want the bound 2", c.len())
	}

	// Invalid secrets are refused and not cached.
	if _, err := c.get("whsec_short"); err == nil {
		t.Fatal("invalid secret accepted")
	}
	if c.len() != 2 {
		t.Fatalf("len = %d after an invalid secret, want 2", c.len())
	}
}
