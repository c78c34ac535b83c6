package sdk

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

var errNotDuration = errors.New("not a duration")

// parseSeconds reads a duration written as people and other languages write one: a number
// of seconds ("120", "90.5"), a Go duration ("93s", "1h30m", "1500ms", "-5s"), words
// ("2 minutes", "1d 2h", "90 sec"), or ISO 8601 ("PT2M", "P1DT2H30M", "P1W").
func parseSeconds(s string) (float64, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0, errNotDuration
	case isJSONNumber(s):
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) {
			return 0, errNotDuration
		}
		return f, nil
	case s[0] == 'P' || s[0] == 'p':
		return parseISO8601(s)
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d.Seconds(), nil
	}
	return parseWords(s)
}

// durationUnits are the unit words parseWords knows, in seconds. "m" is minutes, as in Go
// and in everyday writing; months have no unit here, their length depends on the calendar.
var durationUnits = map[string]float64{
	"ms": 0.001, "msec": 0.001, "msecs": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
	"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
	"m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
	"h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
	"d": 86400, "day": 86400, "days": 86400,
	"w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
}

// parseWords reads a sequence of <number><unit>, spaces and commas allowed between them
// and between a number and its unit: "2 minutes 3 sec", "1d2h", "1 hour, 30 min".
func parseWords(s string) (float64, error) {
	s = strings.ToLower(s)
	total, parts := 0.0, 0
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == ',' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			break
		}
		start := i
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		n, err := strconv.ParseFloat(s[start:i], 64)
		if start == i || err != nil {
			return 0, errNotDuration
		}
		for i < len(s) && s[i] == ' ' {
			i++
		}
		start = i
		for i < len(s) && s[i] >= 'a' && s[i] <= 'z' {
			i++
		}
		unit, ok := durationUnits[s[start:i]]
		if !ok {
			return 0, errNotDuration
		}
		total += n * unit
		parts++
	}
	if parts == 0 || math.IsInf(total, 0) {
		return 0, errNotDuration
	}
	return total, nil
}

// parseISO8601 reads an ISO 8601 duration: P[nW] or P[nD][T[nH][nM][nS]], each n a number
// that may have a fraction (with '.' or ','). Years and months are refused: their length
// depends on the calendar. A day is 24 hours.
func parseISO8601(s string) (float64, error) {
	s = strings.ToUpper(s)
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" {
		return 0, errNotDuration
	}
	dateUnits := map[byte]float64{'W': 604800, 'D': 86400}
	timeUnits := map[byte]float64{'H': 3600, 'M': 60, 'S': 1}
	units, total, parts, inTime := dateUnits, 0.0, 0, false
	order := ""
	for i := 0; i < len(rest); {
		if rest[i] == 'T' {
			if inTime || i == len(rest)-1 {
				return 0, errNotDuration
			}
			units, inTime, order = timeUnits, true, ""
			i++
			continue
		}
		start := i
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.' || rest[i] == ',') {
			i++
		}
		if start == i || i == len(rest) {
			return 0, errNotDuration
		}
		n, err := strconv.ParseFloat(strings.Replace(rest[start:i], ",", ".", 1), 64)
		unit, ok := units[rest[i]]
		if err != nil || !ok || strings.IndexByte(order, rest[i]) >= 0 {
			return 0, errNotDuration
		}
		order += string(rest[i])
		total += n * unit
		parts++
		i++
	}
	if parts == 0 || math.IsInf(total, 0) {
		return 0, errNotDuration
	}
	return total, nil
}
