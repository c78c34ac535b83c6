package tenants

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"reflect"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/sdk"
)

// maxIDLen bounds a destination id, as sdk.ValidTenant bounds a tenant.
const maxIDLen = 64

// validID reports whether id is 1 to 64 letters, digits, '-' and '_': it is part of delivery
// ids, subjects' headers and bucket keys.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func fieldErr(field, format string, args ...any) error {
	return &control.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func checkTenant(tenant string) error {
	if !sdk.ValidTenant(tenant) {
		return fieldErr("tenant", "must be 1 to 64 letters, digits, '-' and '_'")
	}
	return nil
}

// checkEventTypes checks patterns in the syntax of NOTIFICATIONS_ROUTES: a glob over the
// event type, "*" and a trailing ".*" spanning dots. A malformed glob ("payment.[") is
// refused, as the configuration refuses it.
func checkEventTypes(types []string) error {
	if len(types) == 0 {
		return fieldErr("event_types", `must list at least one event type pattern, such as "payment.*" or "*"`)
	}
	for i, p := range types {
		field := fmt.Sprintf("event_types[%d]", i)
		if p == "" {
			return fieldErr(field, "is empty")
		}
		if _, err := path.Match(p, ""); err != nil {
			return fieldErr(field, "%q is not a valid pattern (a glob such as \"payment.*\")", p)
		}
		if strings.ContainsAny(p, " \t\r\n>") {
			return fieldErr(field, "%q is not a valid pattern: event types are dot-separated tokens", p)
		}
	}
	return nil
}

// decodeObject reads a config object. Its errors never quote the value.
func decodeObject(raw json.RawMessage) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return m, nil
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fieldErr("config", "must be a JSON object")
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	return m, nil
}

// checkConfig validates a tenant's configuration of a channel: its URLs are http or https,
// and the channel accepts it merged with the operator's configuration. Errors name the
// field as config.<name> and never quote a value.
func (c *Channels) checkConfig(name string, m map[string]json.RawMessage) error {
	spec, _ := c.spec(name)
	for _, f := range urlFields(spec) {
		raw, ok := m[f]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fieldErr("config."+f, "must be a string")
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fieldErr("config."+f, "must be an absolute http or https URL")
		}
	}
	b, _ := json.Marshal(m)
	if _, err := c.decode(name, b); err != nil {
		return configError(err)
	}
	return nil
}

// configError turns a channel's configuration error into a *control.FieldError naming the
// field under "config".
func configError(err error) error {
	var fe *channel.FieldError
	if errors.As(err, &fe) && fe.Field != "" {
		return fieldErr("config."+fe.Field, "%s", safeFieldError(err))
	}
	return fieldErr("config", "%s", safeFieldError(err))
}

// safeFieldError is a channel configuration error's message: channels keep secrets out of
// them (channel.Config's contract), so it is shown as is, without the "invalid
// configuration: " prefix every one carries.
func safeFieldError(err error) string {
	msg := err.Error()
	return strings.TrimPrefix(msg, channel.ErrConfig.Error()+": ")
}

// masked returns the tenant's configuration as the API shows it: Secret fields masked
// (every value of an object or list of them), SecretURL fields with their token masked.
func masked(spec channel.Spec, m map[string]json.RawMessage) map[string]any {
	out := make(map[string]any, len(m))
	for k, raw := range m {
		var v any
		_ = json.Unmarshal(raw, &v)
		f, _ := spec.Field(k)
		out[k] = maskValue(f.Secret, v)
	}
	return out
}

func maskValue(s channel.Secrecy, v any) any {
	if s == channel.Public {
		return v
	}
	switch x := v.(type) {
	case string:
		if x == "" {
			return x
		}
		if s == channel.SecretURL {
			return channel.RedactURL(x)
		}
		return channel.MaskSecret(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskValue(s, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = maskValue(s, e)
		}
		return out
	}
	return v
}

// isMaskedForm reports whether v is what the API showed for stored: a PATCH that sends a
// masked value back keeps the stored one.
func isMaskedForm(spec channel.Spec, key string, stored, v json.RawMessage) bool {
	f, ok := spec.Field(key)
	if !ok || f.Secret == channel.Public || stored == nil {
		return false
	}
	var sv, pv any
	if json.Unmarshal(stored, &sv) != nil || json.Unmarshal(v, &pv) != nil {
		return false
	}
	return reflect.DeepEqual(maskValue(f.Secret, sv), pv)
}
