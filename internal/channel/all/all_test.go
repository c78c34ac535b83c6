package all_test

import (
	"slices"
	"testing"

	"github.com/heraldhq/herald/internal/channel/all"
)

func TestDefault(t *testing.T) {
	t.Parallel()
	r, err := all.Default(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(r.Names(), "webhook") {
		t.Fatalf("Names = %q, want webhook among them", r.Names())
	}
}
