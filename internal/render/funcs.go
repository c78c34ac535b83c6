package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/heraldhq/herald/sdk"
)

// funcs returns the template functions for one channel. Functions that change text
// (upper, truncate, json ...) undo the channel's escaping first and redo it after, so that
// they never split or alter an escape sequence.
func funcs(e escaper) template.FuncMap {
	return template.FuncMap{
		"money":    money,
		"number":   number,
		"percent":  percent,
		"duration": duration,
		"ratio":    ratio,
		"yesno":    yesno,
		"plural":   plural,
		"join":     join,
		"default":  dflt,
		"upper":    func(s string) string { return e.esc(strings.ToUpper(e.unesc(s))) },
		"lower":    func(s string) string { return e.esc(strings.ToLower(e.unesc(s))) },
		"title":    func(s string) string { return e.esc(title(e.unesc(s))) },
		"truncate": func(n int, s string) string { return e.esc(truncate(n, e.unesc(s))) },
		"json":     func(v any) string { return e.esc(marshalCompact(escapeData(v, e.unesc))) },
	}
}

// toFloat accepts the numbers that payloads hold: Go numbers, sdk.Seconds and json.Number.
func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Float64()
	case string:
		return strconv.ParseFloat(x, 64)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), nil
	}
	return 0, fmt.Errorf("%v (%T) is not a number", v, v)
}

// currencySymbols are the currencies written with a symbol before the amount.
var currencySymbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£"}

// money formats an amount in a currency's major unit: "$1,249.50", "€12.00",
// "1,249.50 CHF", and "1,249.50" for an empty currency.
func money(amount any, currency string) (string, error) {
	f, err := toFloat(amount)
	if err != nil {
		return "", fmt.Errorf("money: %w", err)
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	s := group(strconv.FormatFloat(f, 'f', 2, 64))
	cur := strings.ToUpper(strings.TrimSpace(currency))
	if sym, ok := currencySymbols[cur]; ok {
		return sign + sym + s, nil
	}
	if cur == "" {
		return sign + s, nil
	}
	return sign + s + " " + cur, nil
}

// number formats a number with thousands separators and at most two decimals, without
// trailing zeros: 9500 is "9,500", 4210.754 is "4,210.75", 0.4 is "0.4".
func number(v any) (string, error) {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return group(strconv.FormatInt(i, 10)), nil
		}
	}
	if rv := reflect.ValueOf(v); rv.CanInt() {
		return group(strconv.FormatInt(rv.Int(), 10)), nil
	}
	f, err := toFloat(v)
	if err != nil {
		return "", fmt.Errorf("number: %w", err)
	}
	return formatFloat(f, 2), nil
}

// formatFloat formats f with at most prec decimals, trailing zeros dropped, and
// thousands separators.
func formatFloat(f float64, prec int) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	neg := strings.HasPrefix(s, "-")
	s = group(strings.TrimPrefix(s, "-"))
	if neg {
		return "-" + s
	}
	return s
}

// group puts a comma between every three digits of the integer part of a non-negative
// decimal number.
func group(s string) string {
	intPart, frac, _ := strings.Cut(s, ".")
	if len(intPart) <= 3 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(intPart)/3)
	lead := len(intPart) % 3
	if lead > 0 {
		b.WriteString(intPart[:lead])
	}
	for i := lead; i < len(intPart); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(intPart[i : i+3])
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// percent formats a percentage with at most one decimal. With one argument the value is
// already in percent (95 is "95%"); with two it is the share of the first in the second
// (percent 9500 10000 is "95%"), and "—" when the second is zero.
func percent(v any, of ...any) (string, error) {
	f, err := toFloat(v)
	if err != nil {
		return "", fmt.Errorf("percent: %w", err)
	}
	switch len(of) {
	case 0:
	case 1:
		d, err := toFloat(of[0])
		if err != nil {
			return "", fmt.Errorf("percent: %w", err)
		}
		if d == 0 {
			return "—", nil
		}
		f = f / d * 100
	default:
		return "", fmt.Errorf("percent: want 1 or 2 arguments, got %d", 1+len(of))
	}
	return formatFloat(f, 1) + "%", nil
}

// ratio formats a divided by b as a multiple with at most two decimals: "3.57×"; "—" when
// b is zero.
func ratio(a, b any) (string, error) {
	x, err := toFloat(a)
	if err != nil {
		return "", fmt.Errorf("ratio: %w", err)
	}
	y, err := toFloat(b)
	if err != nil {
		return "", fmt.Errorf("ratio: %w", err)
	}
	if y == 0 {
		return "—", nil
	}
	return formatFloat(x/y, 2) + "×", nil
}

// duration formats sdk.Seconds, a time.Duration or a number of seconds as Go does,
// rounded to the millisecond: "1m34s", "2m0s".
func duration(v any) (string, error) {
	var d time.Duration
	switch x := v.(type) {
	case time.Duration:
		d = x
	case sdk.Seconds:
		d = x.Duration()
	default:
		f, err := toFloat(v)
		if err != nil {
			return "", fmt.Errorf("duration: %w", err)
		}
		d = sdk.Seconds(f).Duration()
	}
	return d.Round(time.Millisecond).String(), nil
}

// yesno formats a boolean as "yes" or "no".
func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// plural returns singular when n is 1 and plural otherwise.
func plural(n any, singular, plural string) (string, error) {
	f, err := toFloat(n)
	if err != nil {
		return "", fmt.Errorf("plural: %w", err)
	}
	if f == 1 {
		return singular, nil
	}
	return plural, nil
}

// join joins the elements of a list with sep, as strings.Join does; the list comes last so
// that it can be piped: {{.Data.Issues | join ", "}}.
func join(sep string, list any) (string, error) {
	switch l := list.(type) {
	case nil:
		return "", nil
	case []string:
		return strings.Join(l, sep), nil
	}
	rv := reflect.ValueOf(list)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return "", fmt.Errorf("join: %T is not a list", list)
	}
	parts := make([]string, rv.Len())
	for i := range parts {
		parts[i] = fmt.Sprint(rv.Index(i).Interface())
	}
	return strings.Join(parts, sep), nil
}

// dflt returns v, or def when v is nil, an empty string, zero or an empty list:
// {{.Data.Plan | default "free"}}.
func dflt(def, v any) any {
	if v == nil {
		return def
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Slice, reflect.Map, reflect.Array:
		if rv.Len() == 0 {
			return def
		}
	default:
		if rv.IsZero() {
			return def
		}
	}
	return v
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// title upper-cases the first letter of every word.
func title(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	start := true
	for _, r := range s {
		if start {
			r = unicode.ToUpper(r)
		}
		start = unicode.IsSpace(r)
		b.WriteRune(r)
	}
	return b.String()
}

// truncate shortens s to at most n runes, ending it with "…" when it cut.
func truncate(n int, s string) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace) + "…"
}

// marshalCompact encodes v as one line of JSON without HTML escaping; values that cannot be
// encoded are printed with fmt.
func marshalCompact(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
