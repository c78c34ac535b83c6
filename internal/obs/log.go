// Package obs sets up what operators see of a process: structured logs (tint on a terminal,
// JSON otherwise, secrets masked in every line) and Prometheus metrics.
package obs

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/lmittmann/tint"
	"github.com/mattn/go-isatty"

	"github.com/heraldhq/herald/internal/redact"
)

// LogConfig configures NewLogger.
type LogConfig struct {
	// Level is debug, info, warn or error. Defaults to info.
	Level string
	// Format is auto, text or json. Defaults to auto: tint when Out is a terminal, else JSON.
	Format string
	// Secrets are masked wherever they appear in a string or error attribute.
	Secrets []string
	// Out is where lines go. Defaults to os.Stderr.
	Out io.Writer
}

// NewLogger builds the process logger. Every string and error attribute, and the message,
// pass through redact.Text: URLs lose their tokens, and the configured secrets are masked.
func NewLogger(c LogConfig) *slog.Logger {
	if c.Out == nil {
		c.Out = os.Stderr
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	replace := func(_ []string, a slog.Attr) slog.Attr {
		switch a.Value.Kind() {
		case slog.KindString:
			a.Value = slog.StringValue(redact.Text(a.Value.String(), c.Secrets...))
		case slog.KindAny:
			if err, ok := a.Value.Any().(error); ok {
				a.Value = slog.StringValue(redact.Text(err.Error(), c.Secrets...))
			} else if s, ok := a.Value.Any().(fmt.Stringer); ok {
				a.Value = slog.StringValue(redact.Text(s.String(), c.Secrets...))
			}
		}
		return a
	}
	format := c.Format
	if format == "" || format == "auto" {
		format = "json"
		if f, ok := c.Out.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(tint.NewHandler(c.Out, &tint.Options{Level: level, ReplaceAttr: replace, TimeFormat: time.TimeOnly}))
	}
	return slog.New(slog.NewJSONHandler(c.Out, &slog.HandlerOptions{Level: level, ReplaceAttr: replace}))
}

// Discard is a logger that drops everything, for tests that do not look at logs.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
