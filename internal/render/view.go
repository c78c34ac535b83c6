package render

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// View is what a template sees as its dot. Every string in it that comes from the event
// (attributes, payload strings, slices and map values) is already escaped for the
// template's channel; the template's own text is not.
type View struct {
	// ID is the event id.
	ID string
	// Type is the event type, such as "payment.failed".
	Type string
	// Tenant is the event's tenant, or "_" for none.
	Tenant string
	// Source is the event's source.
	Source string
	// Severity is the event's severity, or its type's default.
	Severity sdk.Severity
	// Time is the event's time (zero if it has none).
	Time time.Time
	// Channel is the channel being rendered for.
	Channel string
	// Data is the payload: the typed struct of the sdk for a known type (sdk.PaymentFailed
	// for payment.failed, so that a misspelt field fails at Load), and for any other type
	// the decoded JSON (a map[string]any for an object, numbers as json.Number).
	Data any

	esc    escaper
	raw    any // Data before escaping, for Pairs
	fields []Field
}

// Field appends a field to the message and returns "", so that templates can call it as
// an action: {{.Field "Amount" (money .Data.Amount .Data.Currency) true}}. A value that is
// nil or renders as blank is dropped, since providers reject empty field values.
func (v *View) Field(name string, value any, inline bool) string {
	var s string
	switch x := value.(type) {
	case nil:
		return ""
	case string:
		s = x
	default:
		s = fmt.Sprint(x)
	}
	if strings.TrimSpace(s) == "" {
		return ""
	}
	v.fields = append(v.fields, Field{Name: name, Value: s, Inline: inline})
	return ""
}

// TypeTitle returns the event type as a heading: "order.shipped" becomes "Order shipped".
func (v *View) TypeTitle() string { return v.esc.esc(humanize(v.esc.unesc(v.Type))) }

// Pair is one top-level key of a custom event's data, ready to show.
type Pair struct {
	// Name is the key made readable ("order_id" becomes "Order ID"), escaped.
	Name string
	// Key is the key as it is in the data, escaped.
	Key string
	// Value is the value: strings as they are, numbers as written, booleans as yes or no,
	// objects and arrays as compact JSON; escaped.
	Value string
	// Inline is true for scalars, false for objects and arrays.
	Inline bool
}

// Pairs returns the top-level keys of the data with their values, sorted by key, for the
// generic rendering of custom types. Data that is not a JSON object gives one pair named
// "Data".
func (v *View) Pairs() []Pair {
	e := v.esc.esc
	switch d := v.raw.(type) {
	case nil:
		return nil
	case map[string]any:
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		pairs := make([]Pair, 0, len(keys))
		for _, k := range keys {
			val, inline := compact(d[k])
			pairs = append(pairs, Pair{Name: e(humanize(k)), Key: e(k), Value: e(val), Inline: inline})
		}
		return pairs
	default:
		val, inline := compact(d)
		return []Pair{{Name: "Data", Key: "", Value: e(val), Inline: inline}}
	}
}

// compact formats one unescaped JSON value for people.
func compact(v any) (s string, scalar bool) {
	switch x := v.(type) {
	case nil:
		return "—", true
	case string:
		return x, true
	case bool:
		return yesno(x), true
	case json.Number:
		return x.String(), true
	default:
		return marshalCompact(x), false
	}
}

// initialisms are the words humanize writes in capitals.
var initialisms = map[string]string{"id": "ID", "url": "URL", "ip": "IP", "api": "API", "gpu": "GPU", "cpu": "CPU", "sku": "SKU", "uri": "URI"}

// humanize turns a key or type into words: "order.shipped" into "Order shipped",
// "tracking_url" into "Tracking URL".
func humanize(s string) string {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '.' || r == '-' || r == ' ' })
	for i, w := range words {
		if up, ok := initialisms[strings.ToLower(w)]; ok {
			words[i] = up
		} else if i == 0 {
			words[i] = capitalize(w)
		}
	}
	if len(words) == 0 {
		return s
	}
	return strings.Join(words, " ")
}

// escapeData returns a deep copy of v with every string passed through esc. Map keys are
// kept as they are so that templates can still index by them.
func escapeData(v any, esc func(string) string) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return esc(x)
	case json.Number, bool, float64, int, int64:
		return x
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = escapeData(e, esc)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = escapeData(e, esc)
		}
		return s
	case []string:
		s := make([]string, len(x))
		for i, e := range x {
			s[i] = esc(e)
		}
		return s
	}
	rv := reflect.ValueOf(v)
	return escapeValue(rv, esc).Interface()
}

// escapeValue is escapeData for the typed payloads, by reflection.
func escapeValue(v reflect.Value, esc func(string) string) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		return reflect.ValueOf(esc(v.String())).Convert(v.Type())
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if f := out.Field(i); f.CanSet() {
				f.Set(escapeValue(v.Field(i), esc))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(escapeValue(v.Index(i), esc))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(escapeValue(v.Index(i), esc))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			out.SetMapIndex(it.Key(), escapeValue(it.Value(), esc))
		}
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(escapeValue(v.Elem(), esc))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(escapeValue(v.Elem(), esc))
		return out
	}
	return v
}
