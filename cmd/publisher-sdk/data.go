package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

// parseData turns key=value arguments into a JSON object. A value that is a JSON number,
// true, false, null, an array or an object keeps its JSON type; a value in JSON string
// quotes is that string (the way to pass "12345" as a string); anything else is taken
// literally as a string. No arguments give no data (nil).
func parseData(pairs []string) (json.RawMessage, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	obj := make(map[string]json.RawMessage, len(pairs))
	for _, pair := range pairs {
		key, value, ok := strings.Cut(pair, "=")
		switch {
		case !ok:
			return nil, fmt.Errorf("data argument %q is not key=value (flags go before the data)", pair)
		case key == "":
			return nil, fmt.Errorf("data argument %q has an empty key", pair)
		}
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("data key %q is given twice", key)
		}
		obj[key] = dataValue(value)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	return b, nil
}

// dataValue is one value of parseData.
func dataValue(v string) json.RawMessage {
	t := strings.TrimSpace(v)
	if t != "" && strings.ContainsRune(`-0123456789tfn[{"`, rune(t[0])) && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	s, _ := json.Marshal(v) // a string always encodes
	return s
}
