package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	fastjson "github.com/segmentio/encoding/json"
)

// DataMismatch is one field of a seed type's data that [DecodeDataLenient] could not
// interpret. The field keeps its zero value in the payload.
type DataMismatch struct {
	// Field is the JSON name of the payload field, such as "time_remaining", or "data" when
	// the data as a whole is missing or not a JSON object. It is always one of the payload
	// struct's JSON names or "data", so it is safe as a metric label.
	Field string
	// Reason says what is wrong and which spellings are understood, for people. It names
	// the JSON kind of the value, never the value itself, which may be personal data.
	Reason string
}

// DecodeDataLenient decodes the data of an event of a seed type as its typed payload
// (a NodeTerminated for node.terminated, ...), accepting the reasonable spellings of each
// field that producers in other languages write:
//
//   - durations ([Seconds]): a number of seconds (120, 90.5), a numeric string ("120"), a
//     Go duration ("93s", "2m", "1h30m", "1500ms"), words ("2 minutes", "1d 2h"), or an
//     ISO 8601 duration ("PT2M", "P1DT2H", "P1W"; years and months are refused, as their
//     length depends on the calendar);
//   - numbers: a JSON number or a string holding one ("49.99", " 1e3 "), and for whole
//     numbers a fraction of zero (8.0); a currency sign, a unit or a thousands separator
//     is refused as ambiguous;
//   - booleans: true and false, the strings "true" and "false" in any case, 1 and 0;
//   - strings: a JSON string, or a number or boolean as written;
//   - lists of strings: an array of strings, numbers or booleans, or a single string.
//
// null leaves a field at its zero value, and unknown fields are ignored, as encoding/json
// does. A value that fits none of its field's spellings is reported as a [DataMismatch] and
// leaves the field at its zero value; so does data that is missing, null or not an object
// (Field "data"). Mismatches are listed in the struct's field order.
//
// DecodeDataLenient is for consumers that must never drop an event for the way a field is
// written, such as Herald's dispatcher and renderer. It does not run the payload's
// Validate. Producers keep the strict checks of the constructors, [New] and
// [ValidateData], which refuse all of the above but the plain JSON forms. For a type
// without a payload struct it returns an error wrapping [ErrUnknownType].
func DecodeDataLenient(eventType string, data json.RawMessage) (Payload, []DataMismatch, error) {
	k, ok := known[eventType]
	if !ok {
		return nil, nil, fmt.Errorf("decode payload of %q: %w", eventType, ErrUnknownType)
	}
	p, bad := k.lenient(data)
	return p, bad, nil
}

// decodeLenient is DecodeDataLenient for one payload type. Data that the strict decoder
// takes is decoded by it alone, so that the common case costs what it did before the
// lenient rules existed; only data that it refuses is walked field by field.
func decodeLenient[T Payload](data json.RawMessage) (Payload, []DataMismatch) {
	var p T
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return p, []DataMismatch{{"data", dataKindReason(trimmed)}}
	}
	if err := fastjson.Unmarshal(trimmed, &p); err == nil {
		return p, nil
	}
	var zero T
	p = zero
	bad := lenientInto(reflect.ValueOf(&p).Elem(), trimmed)
	return p, bad
}

func dataKindReason(b []byte) string {
	if len(b) == 0 || string(b) == "null" {
		return "is missing, want a JSON object"
	}
	return "is a JSON " + jsonKind(b) + ", want an object"
}

// lenientField is one field of a payload struct as the lenient decoder sees it.
type lenientField struct {
	name  string // JSON name
	index int
	set   func(v reflect.Value, raw []byte) string // "" when raw was understood, else why not
}

var lenientFields sync.Map // reflect.Type -> []lenientField

func lenientFieldsOf(t reflect.Type) []lenientField {
	if v, ok := lenientFields.Load(t); ok {
		return v.([]lenientField)
	}
	var out []lenientField
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, lenientField{name: name, index: i, set: setterFor(sf.Type)})
	}
	lenientFields.Store(t, out)
	return out
}

var secondsType = reflect.TypeFor[Seconds]()

// setterFor returns how a value of type t is read leniently.
func setterFor(t reflect.Type) func(reflect.Value, []byte) string {
	switch {
	case t == secondsType:
		return setSeconds
	case t.Kind() == reflect.String:
		return setString
	case t.Kind() == reflect.Bool:
		return setBool
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return setFloat
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return setInt
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return setStrings
	}
	// A field of a kind the rules above do not cover takes what encoding/json takes.
	return func(v reflect.Value, raw []byte) string {
		if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
			return "is a JSON " + jsonKind(raw) + ", want " + v.Type().String()
		}
		return ""
	}
}

// lenientInto decodes the members of a JSON object into the struct v, field by field.
func lenientInto(v reflect.Value, obj []byte) []DataMismatch {
	fields := lenientFieldsOf(v.Type())
	reasons := make([]string, len(fields))
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil { // the opening brace
		return []DataMismatch{{"data", "is not valid JSON"}}
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return []DataMismatch{{"data", "is not valid JSON"}}
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return []DataMismatch{{"data", "is not valid JSON"}}
		}
		i := lookupField(fields, key)
		if i < 0 {
			continue
		}
		fv := v.Field(fields[i].index)
		fv.SetZero() // a later duplicate replaces an earlier one whole, as encoding/json does
		reasons[i] = ""
		if string(raw) == "null" {
			continue
		}
		if r := fields[i].set(fv, raw); r != "" {
			fv.SetZero()
			reasons[i] = r
		}
	}
	var bad []DataMismatch
	for i, r := range reasons {
		if r != "" {
			bad = append(bad, DataMismatch{fields[i].name, r})
		}
	}
	return bad
}

// lookupField finds a key as encoding/json does: the exact name first, then a name equal
// under case folding.
func lookupField(fields []lenientField, key string) int {
	for i, f := range fields {
		if f.name == key {
			return i
		}
	}
	for i, f := range fields {
		if strings.EqualFold(f.name, key) {
			return i
		}
	}
	return -1
}

// jsonKind names the kind of an encoded JSON value.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// scalarText returns a JSON string's content, or a number or boolean as written.
func scalarText(raw []byte) (string, bool) {
	switch jsonKind(raw) {
	case "string":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case "number", "boolean":
		return string(raw), true
	}
	return "", false
}

// numberText returns the JSON number raw holds, as a number or inside a string.
func numberText(raw []byte) (string, bool) {
	switch jsonKind(raw) {
	case "number":
		return string(raw), true
	case "string":
		s, _ := scalarText(raw)
		s = strings.TrimSpace(s)
		return s, isJSONNumber(s)
	}
	return "", false
}

// isJSONNumber reports whether s is a number as JSON writes it: no sign but '-', no
// leading zeros, no hexadecimal, no NaN or Inf, no separators.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func parseFloat(raw []byte) (float64, string) {
	s, ok := numberText(raw)
	if !ok {
		if jsonKind(raw) == "string" {
			return 0, "is a JSON string that is not a number, want a number such as 49.99 or \"49.99\""
		}
		return 0, "is a JSON " + jsonKind(raw) + ", want a number"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, "is a number out of range"
	}
	return f, ""
}

func setFloat(v reflect.Value, raw []byte) string {
	f, reason := parseFloat(raw)
	if reason != "" {
		return reason
	}
	if v.OverflowFloat(f) {
		return "is a number out of range"
	}
	v.SetFloat(f)
	return ""
}

func setInt(v reflect.Value, raw []byte) string {
	s, ok := numberText(raw)
	if !ok {
		if jsonKind(raw) == "string" {
			return "is a JSON string that is not a number, want a whole number such as 8 or \"8\""
		}
		return "is a JSON " + jsonKind(raw) + ", want a whole number"
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		switch {
		case ferr != nil || math.IsInf(f, 0) || f < math.MinInt64 || f >= math.MaxInt64:
			return "is a number out of range"
		case f != math.Trunc(f):
			return "is a number with a fraction, want a whole number"
		}
		n = int64(f)
	}
	if v.OverflowInt(n) {
		return "is a number out of range"
	}
	v.SetInt(n)
	return ""
}

func setBool(v reflect.Value, raw []byte) string {
	const want = "want true or false (also \"true\", \"false\", 1 or 0)"
	s, ok := scalarText(raw)
	if !ok {
		return "is a JSON " + jsonKind(raw) + ", " + want
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		v.SetBool(true)
	case "false", "0":
		v.SetBool(false)
	default:
		return "is a JSON " + jsonKind(raw) + " that is not a boolean, " + want
	}
	return ""
}

func setString(v reflect.Value, raw []byte) string {
	s, ok := scalarText(raw)
	if !ok {
		return "is a JSON " + jsonKind(raw) + ", want a string"
	}
	v.SetString(s)
	return ""
}

func setStrings(v reflect.Value, raw []byte) string {
	if s, ok := scalarText(raw); ok && jsonKind(raw) == "string" {
		out := reflect.MakeSlice(v.Type(), 1, 1)
		out.Index(0).SetString(s)
		v.Set(out)
		return ""
	}
	var items []json.RawMessage
	if jsonKind(raw) != "array" || json.Unmarshal(raw, &items) != nil {
		return "is a JSON " + jsonKind(raw) + ", want an array of strings"
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		s, ok := scalarText(item)
		if !ok {
			return "holds a JSON " + jsonKind(item) + ", want an array of strings"
		}
		out.Index(i).SetString(s)
	}
	v.Set(out)
	return ""
}

func setSeconds(v reflect.Value, raw []byte) string {
	const want = "want seconds as a number (120), a Go duration (\"93s\", \"2m\") or ISO 8601 (\"PT2M\")"
	var (
		secs float64
		err  error
	)
	switch jsonKind(raw) {
	case "number":
		var reason string
		if secs, reason = parseFloat(raw); reason != "" {
			return reason
		}
	case "string":
		s, _ := scalarText(raw)
		if secs, err = parseSeconds(s); err != nil {
			return "is a JSON string that is not a duration, " + want
		}
	default:
		return "is a JSON " + jsonKind(raw) + ", " + want
	}
	v.SetFloat(secs)
	return ""
}
