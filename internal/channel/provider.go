package channel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/render"
)

// Provider is everything Herald knows about one channel, declared by the channel's own
// package: its name, its typed destination configuration (read from the operator's
// NOTIFICATIONS_* variables and from a tenant's JSON), which of its fields are secret, how
// its messages are rendered, a destination for previews, and how to build its sender.
// Configuration loading, rendering, the preview command and the documentation tests iterate
// the registered providers instead of naming channels, so adding a channel is its package and
// one line in package all.
type Provider interface {
	// Name is the channel's name in subjects, routes, destinations and metrics ("slack").
	Name() string
	// Spec describes the channel's destination configuration.
	Spec() Spec
	// Render is how the channel's messages are rendered from templates; nil for a channel
	// that sends the event as published, such as the webhook channel.
	Render() *render.Profile
	// PreviewConfig is a realistic configuration with made-up credentials, for previews.
	PreviewConfig() Config
	// New builds the channel's sender.
	New(deps Deps) (Channel, error)
}

// Deps are what a channel's sender is built with.
type Deps struct {
	// Client sends the channel's HTTP requests. Channels that must not follow redirects
	// wrap it with NoRedirects.
	Client *http.Client
	// Templates are the loaded templates of every channel that renders.
	Templates *render.Set
	// Logger records each send at debug level.
	Logger *slog.Logger
}

// Config is a channel's typed destination configuration, such as *slack.Config. It is
// decoded from JSON (a tenant's "config" object, or the operator's variables turned into
// one) with the field names of the channel's Spec.
type Config interface {
	// Validate checks the configuration. Its errors are *FieldError naming the JSON field,
	// and never contain a secret.
	Validate() error
	// Secrets lists every string of the configuration that must never appear in a reason,
	// an error or a log line (see SecretsOf).
	Secrets() []string
}

// FieldKind is how a configuration field is written in a variable.
type FieldKind int

// The kinds of configuration fields.
const (
	// Text is a string, written as is in its variable.
	Text FieldKind = iota
	// List is a JSON array of strings, e.g. ["ops@example.com"].
	List
	// Object is a JSON object, e.g. {"X-Team":"billing"}.
	Object
	// Number is a whole number, e.g. 587.
	Number
)

// Secrecy says how a field's value is shown.
type Secrecy int

// The secrecy of configuration fields.
const (
	// Public values are shown as they are.
	Public Secrecy = iota
	// Secret values are never shown, logged or stored in clear.
	Secret
	// SecretURL values are URLs whose path or query carries a token (a Discord or Slack
	// webhook URL): shown with the token masked, never logged or stored in clear.
	SecretURL
)

// Field is one field of a channel's configuration.
type Field struct {
	// Name is the field's JSON name in a tenant's config ("webhook_url").
	Name string
	// Env is the variable that sets it for the operator's destination
	// ("NOTIFICATIONS_SLACK_WEBHOOK_URL"); empty if only tenants set it.
	Env string
	// Kind is how the variable writes the value.
	Kind FieldKind
	// Secret says how the value is shown.
	Secret Secrecy
	// Required fields must be set for the channel to be enabled.
	Required bool
	// Tenant fields may be set in a tenant's config; the others (an API key, a sender
	// address) come from the operator's configuration of the channel.
	Tenant bool
	// Default is the value when the variable is unset, as the variable would hold it.
	Default string
	// Doc says what the field is, for the documentation and the API's schemas.
	Doc string
}

// Spec describes a channel's destination configuration.
type Spec struct {
	// EnabledVar turns the operator's destination of the channel on
	// ("NOTIFICATIONS_SLACK_ENABLED").
	EnabledVar string
	// Fields are the configuration's fields, in the order of the documentation.
	Fields []Field
	// NewConfig returns a new, empty typed configuration to decode into, such as
	// &slack.Config{}.
	NewConfig func() Config
}

// Field returns the field named name.
func (s Spec) Field(name string) (Field, bool) {
	i := slices.IndexFunc(s.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return s.Fields[i], true
}

// Vars lists every variable of the channel: its switch, then its fields'.
func (s Spec) Vars() []string {
	out := []string{s.EnabledVar}
	for _, f := range s.Fields {
		if f.Env != "" {
			out = append(out, f.Env)
		}
	}
	return out
}

// ErrConfig is wrapped by every configuration error of DecodeConfig and ConfigFromEnv.
var ErrConfig = errors.New("invalid configuration")

// DecodeConfig decodes and validates a channel's configuration from a JSON object, such as
// a tenant's "config". Unknown fields are refused; errors are *FieldError naming the field.
func DecodeConfig(s Spec, raw json.RawMessage) (Config, error) {
	cfg := s.NewConfig()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, decodeError(err)
	}
	for _, f := range s.Fields {
		if f.Required && isZero(cfg, f.Name) {
			return nil, &FieldError{Field: f.Name, Err: fmt.Errorf("%w: %s is required", ErrConfig, f.Name)}
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decodeError turns a JSON decoding error into a FieldError naming the field, without
// quoting the value (it may be a secret).
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &FieldError{Field: te.Field, Err: fmt.Errorf("%w: %s must be a JSON %s, not %s", ErrConfig, te.Field, jsonKind(te.Type), te.Value)}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &FieldError{Field: name, Err: fmt.Errorf("%w: unknown field %q", ErrConfig, name)}
	}
	return fmt.Errorf("%w: not a JSON object: %s", ErrConfig, msg)
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint16, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	}
	return "string"
}

// isZero reports whether the JSON form of cfg lacks the field or holds its zero value.
func isZero(cfg Config, name string) bool {
	m, err := toMap(cfg)
	if err != nil {
		return true
	}
	v, ok := m[name]
	if !ok || v == nil {
		return true
	}
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case float64:
		return x == 0
	}
	return false
}

func toMap(cfg Config) (map[string]any, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(b, &m)
	return m, err
}

// VarError is a configuration error of the operator's variables, naming the variable.
type VarError struct {
	Var    string
	Reason string
}

func (e *VarError) Error() string { return e.Var + ": " + e.Reason }

// ConfigFromEnv reads the operator's destination of a channel from its variables: nil if
// the channel's EnabledVar is not true. Every error is a *VarError naming the variable.
func ConfigFromEnv(s Spec, getenv func(string) string) (Config, error) {
	on := strings.TrimSpace(getenv(s.EnabledVar))
	if on == "" {
		return nil, nil
	}
	enabled, err := strconv.ParseBool(on)
	if err != nil {
		return nil, &VarError{Var: s.EnabledVar, Reason: fmt.Sprintf("%q is not a boolean (true or false)", on)}
	}
	if !enabled {
		return nil, nil
	}
	obj := map[string]json.RawMessage{}
	for _, f := range s.Fields {
		if f.Env == "" {
			continue
		}
		v := strings.TrimSpace(getenv(f.Env))
		if v == "" {
			v = f.Default
		}
		if v == "" {
			if f.Required {
				return nil, &VarError{Var: f.Env, Reason: "is required when its channel is enabled"}
			}
			continue
		}
		raw, err := envValue(f, v)
		if err != nil {
			return nil, &VarError{Var: f.Env, Reason: err.Error()}
		}
		obj[f.Name] = raw
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	cfg, err := DecodeConfig(s, b)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			if f, ok := s.Field(fe.Field); ok && f.Env != "" {
				return nil, &VarError{Var: f.Env, Reason: fe.Error()}
			}
		}
		return nil, &VarError{Var: s.EnabledVar, Reason: err.Error()}
	}
	return cfg, nil
}

// envValue turns a variable's text into the field's JSON value.
func envValue(f Field, v string) (json.RawMessage, error) {
	switch f.Kind {
	case List:
		var l []string
		if err := json.Unmarshal([]byte(v), &l); err != nil {
			return nil, errors.New(`must be a JSON array of strings, e.g. ["a","b"]`)
		}
		return json.Marshal(l)
	case Object:
		var o map[string]string
		if err := json.Unmarshal([]byte(v), &o); err != nil {
			return nil, errors.New(`must be a JSON object of strings, e.g. {"X-Team":"ops"}`)
		}
		return json.Marshal(o)
	case Number:
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", v)
		}
		return json.Marshal(n)
	}
	return json.Marshal(v)
}

// Secrets returns the secret values of cfg (its Secret and SecretURL fields, a list's every
// element), for masking in logs and errors. Space-separated values (a webhook's secrets
// during a rotation) are returned one by one.
func Secrets(s Spec, cfg Config) []string {
	if cfg == nil {
		return nil
	}
	m, err := toMap(cfg)
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range s.Fields {
		if f.Secret == Public {
			continue
		}
		switch v := m[f.Name].(type) {
		case string:
			out = append(out, strings.Fields(v)...)
		case []any:
			for _, e := range v {
				if str, ok := e.(string); ok && str != "" {
					out = append(out, str)
				}
			}
		}
	}
	return out
}

// Masked returns cfg as a JSON object with every secret masked: a Secret field as "****"
// followed by its last four characters when it is long enough to keep them hidden, a
// SecretURL field with its token masked (RedactURL). It is what an API shows.
func Masked(s Spec, cfg Config) map[string]any {
	m, err := toMap(cfg)
	if err != nil {
		return map[string]any{}
	}
	for _, f := range s.Fields {
		str, ok := m[f.Name].(string)
		if !ok || str == "" {
			continue
		}
		switch f.Secret {
		case Secret:
			m[f.Name] = MaskSecret(str)
		case SecretURL:
			m[f.Name] = RedactURL(str)
		}
	}
	return m
}

// MaskSecret shows a secret as "****" and, when it is at least 16 characters long, its last
// four, so that an operator can tell two secrets apart without learning either.
func MaskSecret(s string) string {
	if len(s) < 16 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}

// ConfigOf returns d's configuration as the channel's own type T, such as *slack.Config, or
// an error naming the destination if it holds another (or none).
func ConfigOf[T Config](d Destination) (T, error) {
	c, ok := d.Config.(T)
	if !ok || d.Config == nil {
		var zero T
		return zero, fmt.Errorf("%w: destination %s has no %s configuration", ErrInvalidDestination, d, d.Channel)
	}
	return c, nil
}

// EmbeddedProfile is the render profile of a channel whose templates are embedded in its
// package under dir.
func EmbeddedProfile(name string, fsys fs.FS, dir string, markup render.Markup, layouts bool) render.Profile {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the embedded directory exists: a build error otherwise
	}
	return render.Profile{Channel: name, Templates: sub, Markup: markup, Layouts: layouts}
}

// DecodeTenantConfig decodes a tenant's configuration of a channel: the fields a tenant may
// set (Field.Tenant) from raw, the others (an API key, a sender) from the operator's
// configuration of the channel, which may be nil if the operator has none. A field a tenant
// may not set is refused, naming it, so that a tenant can neither read nor replace the
// operator's credentials.
func DecodeTenantConfig(s Spec, operator Config, raw json.RawMessage) (Config, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrConfig)
	}
	merged := map[string]json.RawMessage{}
	if operator != nil {
		b, err := json.Marshal(operator)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &merged); err != nil {
			return nil, err
		}
	}
	for _, f := range s.Fields {
		if f.Tenant {
			delete(merged, f.Name)
		}
	}
	for k, v := range obj {
		f, ok := s.Field(k)
		switch {
		case !ok:
			return nil, &FieldError{Field: k, Err: fmt.Errorf("%w: unknown field %q", ErrConfig, k)}
		case !f.Tenant:
			return nil, &FieldError{Field: k, Err: fmt.Errorf("%w: %s is the operator's to set", ErrConfig, k)}
		}
		merged[k] = v
	}
	for _, f := range s.Fields {
		if !f.Tenant && f.Required && merged[f.Name] == nil {
			return nil, &FieldError{Field: f.Name, Err: fmt.Errorf("%w: the operator has not configured %s (%s)", ErrConfig, f.Name, f.Env)}
		}
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	return DecodeConfig(s, b)
}
