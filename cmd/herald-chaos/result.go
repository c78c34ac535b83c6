package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Result is what one scenario found.
type Result struct {
	// Scenario names the scenario; Summary says what it does.
	Scenario string `json:"scenario"`
	Summary  string `json:"summary"`
	// Events counts the events that count: those whose publish got an acknowledgement.
	Events int `json:"events"`
	// Expected counts the deliveries that must arrive: every counted event to every healthy
	// destination.
	Expected int `json:"expected_deliveries"`
	// Delivered counts the expected deliveries the receiver answered 2xx at least once.
	Delivered int `json:"delivered"`
	// Lost counts the expected deliveries that never arrived.
	Lost int `json:"lost"`
	// Duplicates counts the 2xx arrivals beyond the first of one delivery.
	Duplicates int `json:"duplicates"`
	// DupsSameID is false when one event reached one destination under more than one
	// webhook-id, or under a webhook-id that is not <event id>:<destination>.
	DupsSameID bool `json:"duplicates_same_webhook_id"`
	// Dead counts the DEAD stream's messages; HealthyInDead those of them that are
	// deliveries to a healthy destination or good events.
	Dead          int `json:"dead"`
	HealthyInDead int `json:"healthy_in_dead"`
	// DrainSeconds is the time from the first publish to the last expected delivery; Drained
	// is false when the scenario gave up waiting first.
	DrainSeconds float64 `json:"drain_seconds"`
	Drained      bool    `json:"drained"`
	// P99MS and MaxMS are the publish-to-delivery latency of the expected deliveries (the
	// first 2xx of each), in milliseconds.
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
	// Checks are the scenario's own checks; one that fails fails the scenario.
	Checks []Check `json:"checks"`
	// Error is why the harness could not run the scenario to its end.
	Error string `json:"error,omitempty"`
	// Pass is the verdict (see verdict).
	Pass bool `json:"pass"`
	// Seconds is how long the scenario took.
	Seconds float64 `json:"seconds"`
}

// Check is one condition a scenario verified.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// check appends a check.
func (r *Result) check(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// checkStall fails a scenario whose slowest delivery took longer than bound from its publish:
// a pipeline that stalls and then catches up must not pass for one that kept going.
func (r *Result) checkStall(bound time.Duration) {
	r.check("no stall", r.MaxMS <= float64(bound.Milliseconds()), "slowest delivery %s after its publish, bound %s", millis(r.MaxMS), bound)
}

// verdict decides: a scenario fails on any lost event, any healthy delivery in DEAD, any
// duplicate under another webhook-id, any failed check, or a harness error.
func (r *Result) verdict() {
	r.Pass = r.Error == "" && r.Lost == 0 && r.HealthyInDead == 0 && r.DupsSameID
	for _, c := range r.Checks {
		r.Pass = r.Pass && c.OK
	}
}

// failures lists why a scenario failed, in words.
func (r *Result) failures() []string {
	var out []string
	if r.Error != "" {
		out = append(out, "harness: "+r.Error)
	}
	if r.Lost > 0 {
		out = append(out, fmt.Sprintf("%d of %d deliveries lost", r.Lost, r.Expected))
	}
	if r.HealthyInDead > 0 {
		out = append(out, fmt.Sprintf("%d healthy deliveries in DEAD", r.HealthyInDead))
	}
	if !r.DupsSameID {
		out = append(out, "a delivery arrived under another webhook-id")
	}
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

// Report is a whole run.
type Report struct {
	Command string    `json:"command"`
	Scale   string    `json:"scale"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	Results []*Result `json:"results"`
}

// Pass reports whether every scenario passed.
func (rep *Report) Pass() bool {
	for _, r := range rep.Results {
		if !r.Pass {
			return false
		}
	}
	return len(rep.Results) > 0
}

// Markdown renders the table, then each scenario's checks.
func (rep *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "`%s` (scale %s), %s, %.0f s\n\n", rep.Command, rep.Scale, rep.Started.Format(time.RFC3339), rep.Seconds)
	b.WriteString("| scenario | events | delivered | lost | duplicates | dups same id | dead | healthy in dead | time to drain | p99 | max | result |\n")
	b.WriteString("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "| %s | %d | %d/%d | %d | %d | %s | %d | %d | %s | %s | %s | %s |\n",
			r.Scenario, r.Events, r.Delivered, r.Expected, r.Lost, r.Duplicates, yesNo(r.DupsSameID),
			r.Dead, r.HealthyInDead, drain(r), millis(r.P99MS), millis(r.MaxMS), passFail(r.Pass))
	}
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "\n**%s** (%s, %.0f s): %s\n\n", r.Scenario, passFail(r.Pass), r.Seconds, r.Summary)
		if r.Error != "" {
			fmt.Fprintf(&b, "- harness error: %s\n", r.Error)
		}
		for _, c := range r.Checks {
			mark := "ok"
			if !c.OK {
				mark = "**FAILED**"
			}
			fmt.Fprintf(&b, "- %s: %s", c.Name, mark)
			if c.Detail != "" {
				fmt.Fprintf(&b, " (%s)", c.Detail)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// Write writes results.md and results.json into dir, creating it.
func (rep *Report) Write(dir, md string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644)
}

// prefixed returns s after p, or nothing for an empty s.
func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "**FAIL**"
}

func drain(r *Result) string {
	if r.Error != "" && r.Expected == 0 {
		return "—"
	}
	if !r.Drained {
		return fmt.Sprintf("**not drained** (gave up after %.1f s)", r.DrainSeconds)
	}
	return fmt.Sprintf("%.1f s", r.DrainSeconds)
}

func millis(ms float64) string {
	if ms >= 10000 {
		return fmt.Sprintf("%.1f s", ms/1000)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
