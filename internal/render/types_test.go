package render

import (
	"slices"
	"testing"

	"github.com/heraldhq/herald/sdk"
)

// TestSetTypes: the types with templates of their own are the seed types and the custom
// types an operator added, so that metrics can label them by name.
func TestSetTypes(t *testing.T) {
	t.Parallel()
	if got := Default().Types(); !slices.Equal(got, sdk.KnownTypes()) {
		t.Errorf("embedded: %v, want the seed types %v", got, sdk.KnownTypes())
	}
	s, err := Load(overrideDir(t, map[string]string{
		"slack/order.shipped.tmpl": `{{define "title"}}Shipped{{end}}{{define "summary"}}{{.Type}}{{end}}`,
	}), testProfiles()...)
	if err != nil {
		t.Fatal(err)
	}
	want := append(sdk.KnownTypes(), "order.shipped")
	slices.Sort(want)
	if got := s.Types(); !slices.Equal(got, want) {
		t.Errorf("with an override: %v, want %v", got, want)
	}
}
