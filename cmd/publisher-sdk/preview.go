package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// preview renders an event for one channel, or every channel that renders, without sending.
func preview(args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	var (
		f          publishFlags
		ch, html   string
		templates  string
		sampleType string
	)
	fs := newEventFlagSet("preview", &f)
	fs.StringVar(&ch, "channel", "all", "")
	fs.StringVar(&html, "html", "", "")
	fs.StringVar(&templates, "templates", getenv("NOTIFICATIONS_TEMPLATES_DIR"), "")
	fs.StringVar(&sampleType, "sample", "", "")
	var e *sdk.Event
	if i := slices.IndexFunc(args, func(a string) bool { return a == "--sample" || a == "-sample" || strings.HasPrefix(a, "--sample=") }); i >= 0 {
		// A sample needs no --type or --file: parse the preview flags alone.
		if err := fs.Parse(args); err != nil {
			return usagef("preview: %v", err)
		}
		var err error
		if e, err = sample(sampleType); err != nil {
			return err
		}
	} else {
		if err := parseEventFlags(fs, &f, args); err != nil {
			return err
		}
		var err error
		if e, _, err = buildEvent(f, stdin); err != nil {
			return err
		}
	}

	set, err := all.Templates(templates)
	if err != nil {
		return fmt.Errorf("templates (--templates, NOTIFICATIONS_TEMPLATES_DIR): %w", err)
	}
	registry, err := all.Default(nil, set, nil)
	if err != nil {
		return err
	}
	names := []string{ch}
	if ch == "all" {
		names = registry.Names()
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	for _, name := range names {
		c, ok := registry.Get(name)
		if !ok {
			return usagef("preview: unknown channel %q (known: %s)", name, strings.Join(registry.Names(), ", "))
		}
		pv, ok := channel.As[channel.Previewer](c)
		if !ok {
			// The webhook channel sends the event itself.
			fmt.Fprintf(stdout, "== %s: the event as published, signed\n%s\n", name, indent(raw))
			continue
		}
		// A stand-in for the operator's destination, of the channel's own kind: preview sends
		// nothing.
		prov, _ := registry.Provider(name)
		d := channel.Destination{ID: name, Channel: name, Config: prov.PreviewConfig()}
		p, err := pv.Preview(channel.Notification{DeliveryID: e.ID + ":" + name, Attempt: 1, Event: e, Raw: raw, Destination: d})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if p.HTML == "" {
			fmt.Fprintf(stdout, "== %s (%s)\n%s\n", name, p.ContentType, indent(p.Body))
			continue
		}
		file := html
		if file == "" {
			file = e.Type + ".email.html"
		}
		if err := os.WriteFile(file, []byte(p.HTML), 0o644); err != nil {
			return fmt.Errorf("write the HTML part: %w", err)
		}
		fmt.Fprintf(stdout, "== %s\nSubject: %s\nHTML part: %s\n\n%s\n", name, p.Subject, file, strings.TrimRight(p.Text, "\n"))
	}
	return nil
}

// sample returns the sample event of a type (render.Samples), or lists the types.
func sample(eventType string) (*sdk.Event, error) {
	var types []string
	for _, e := range render.Samples() {
		if e.Type == eventType {
			return e, nil
		}
		types = append(types, e.Type)
	}
	return nil, usagef("preview: no sample of type %q (samples: %s)", eventType, strings.Join(types, ", "))
}

// indent pretty-prints JSON, and returns anything else as it is.
func indent(b []byte) string {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		return string(b)
	}
	return out.String()
}
