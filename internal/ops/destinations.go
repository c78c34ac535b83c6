package ops

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/control"
)

var _ control.OperatorDestinations = (*Service)(nil)

// OperatorDestinations lists the operator's destinations (from NOTIFICATIONS_* variables) as
// the API shows them: every field its channel marks secret masked (each value of an object
// or a list of them, such as webhook headers), token-bearing URLs with their token masked.
// As a last guard, any string that still contains one of the configuration's secrets is
// replaced by a mask whole.
func (s *Service) OperatorDestinations(context.Context) ([]control.OperatorDestination, error) {
	out := make([]control.OperatorDestination, 0, len(s.deps.Destinations))
	for _, d := range s.deps.Destinations {
		od := control.OperatorDestination{ID: d.ID, Channel: d.Channel, Config: map[string]any{}}
		if d.Config != nil {
			od.Config = maskedConfig(s.spec(d.Channel), d.Config)
		}
		out = append(out, od)
	}
	slices.SortFunc(out, func(a, b control.OperatorDestination) int {
		return cmp.Or(cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// spec is the channel's configuration spec; an unknown channel has no fields, so that every
// value of its config is masked.
func (s *Service) spec(name string) channel.Spec {
	if s.deps.Channels != nil {
		if p, ok := s.deps.Channels.Provider(name); ok {
			return p.Spec()
		}
	}
	return channel.Spec{}
}

func maskedConfig(spec channel.Spec, cfg channel.Config) map[string]any {
	b, err := json.Marshal(cfg)
	m := map[string]any{}
	if err != nil || json.Unmarshal(b, &m) != nil {
		return map[string]any{}
	}
	for k, v := range m {
		secrecy := channel.Secret // a field the spec does not know is not shown
		if f, ok := spec.Field(k); ok {
			secrecy = f.Secret
		}
		m[k] = maskValue(secrecy, v)
	}
	var secrets []string
	for _, sec := range cfg.Secrets() {
		if len(sec) >= 4 {
			secrets = append(secrets, sec)
		}
	}
	for k, v := range m {
		m[k] = scrub(v, secrets)
	}
	return m
}

// maskValue masks v as a field of secrecy sec shows it.
func maskValue(sec channel.Secrecy, v any) any {
	if sec == channel.Public {
		return v
	}
	switch x := v.(type) {
	case string:
		if x == "" {
			return x
		}
		if sec == channel.SecretURL {
			return channel.RedactURL(x)
		}
		return channel.MaskSecret(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskValue(sec, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = maskValue(sec, e)
		}
		return out
	}
	return v
}

// scrub replaces any string of v that contains one of secrets with a mask.
func scrub(v any, secrets []string) any {
	switch x := v.(type) {
	case string:
		for _, sec := range secrets {
			if strings.Contains(x, sec) {
				return "****"
			}
		}
	case []any:
		for i, e := range x {
			x[i] = scrub(e, secrets)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = scrub(e, secrets)
		}
	}
	return v
}
