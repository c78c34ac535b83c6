package webhook

import (
	"sync"

	"github.com/heraldhq/herald/sdk"
)

// maxCachedSigners bounds the signer cache: one entry per distinct destination secret, so
// rotations and removed tenants cannot grow it without limit.
const maxCachedSigners = 4096

// signerCache keeps one parsed sdk.Signer per destination secret, so that a send neither
// decodes base64 nor builds HMAC state. It is safe for concurrent use.
type signerCache struct {
	mu  sync.RWMutex
	m   map[string]*sdk.Signer
	max int
}

func newSignerCache(max int) *signerCache {
	return &signerCache{m: make(map[string]*sdk.Signer), max: max}
}

// get returns the signer for secret, parsing and caching it on first use. Invalid secrets
// are not cached; the error never contains the secret.
func (c *signerCache) get(secret string) (*sdk.Signer, error) {
	c.mu.RLock()
	s := c.m[secret]
	c.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	s, err := sdk.NewSigner(secret)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev := c.m[secret]; prev != nil {
		return prev, nil
	}
	if len(c.m) >= c.max {
		// Evict one arbitrary entry: a full cache means many tenants, and an evicted
		// signer costs one re-parse on its next send.
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[secret] = s
	return s, nil
}

// len reports the number of cached signers.
func (c *signerCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
