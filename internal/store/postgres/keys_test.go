package postgres_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/store/storetest"
)

func TestKeysConformance(t *testing.T) {
	t.Parallel()
	storetest.RunKeys(t, func(t *testing.T) storetest.KeyLedger { return newStore(t) })
}
