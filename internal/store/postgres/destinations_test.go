package postgres_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/store/storetest"
)

func TestDestinationsConformance(t *testing.T) {
	t.Parallel()
	storetest.RunDestinations(t, func(t *testing.T) storetest.DestinationLedger { return newStore(t) })
}
