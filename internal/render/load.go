package render

import (
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// Names of the files in a channel directory that are not per-type templates.
const (
	defaultFile    = "default.tmpl"
	layoutHTMLFile = "layout.html"
	layoutTextFile = "layout.txt"
)

// source is the text of one template file and the name errors and messages give it.
type source struct {
	name string
	text string
}

// Load loads the templates of the channels described by profiles, with any file under dir
// (laid out as <dir>/<channel>/<event type>.tmpl, and <dir>/<channel>/layout.html and
// layout.txt for a channel with layouts) replacing the profile's namesake; a file for a
// custom type (<dir>/discord/order.shipped.tmpl) is used for that type. Files and directories
// whose names start with a dot are ignored; any other file that does not fit the layout (a
// directory that names no channel, an unexpected extension) is an error naming it. Every
// template is parsed and test-rendered with the sample events: a type's template with its
// sample, default and custom-type templates with every sample. An error names the file and,
// for a template error, the line. An empty dir means the profiles' templates alone.
func Load(dir string, profiles ...Profile) (*Set, error) {
	sources := make(map[string]source) // by relative path, "discord/payment.failed.tmpl"
	byName := make(map[string]Profile, len(profiles))
	for _, p := range profiles {
		if _, dup := byName[p.Channel]; dup || p.Channel == "" || p.Templates == nil {
			return nil, fmt.Errorf("load templates: profile %q is unnamed, has no templates, or is given twice", p.Channel)
		}
		byName[p.Channel] = p
		err := fs.WalkDir(p.Templates, ".", func(fp string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(p.Templates, fp)
			if err != nil {
				return err
			}
			rel := p.Channel + "/" + fp
			sources[rel] = source{name: rel, text: string(b)}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load %s templates: %w", p.Channel, err)
		}
	}
	if dir != "" {
		if err := readOverrides(dir, byName, sources); err != nil {
			return nil, err
		}
	}
	s := &Set{channels: make(map[string]*channelSet)}
	for _, p := range profiles {
		cs, err := buildChannel(p, sources)
		if err != nil {
			return nil, err
		}
		s.channels[p.Channel] = cs
	}
	for _, p := range profiles {
		if err := s.channels[p.Channel].check(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// MustLoad is Load without an operator's directory, for templates embedded in the binary:
// it panics if they do not load, which their tests forbid.
func MustLoad(profiles ...Profile) *Set {
	s, err := Load("", profiles...)
	if err != nil {
		panic(err)
	}
	return s
}

// readOverrides adds the files under dir to sources, checking that each fits the layout.
func readOverrides(dir string, profiles map[string]Profile, sources map[string]source) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("load templates: %w", err)
	}
	for _, ent := range entries {
		if strings.HasPrefix(ent.Name(), ".") {
			continue
		}
		chDir := filepath.Join(dir, ent.Name())
		fi, err := os.Stat(chDir) // follows symbolic links, as mounted config volumes use them
		if err != nil {
			return fmt.Errorf("load templates: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("load templates: %s: a file outside a channel directory (want %s/<channel>/<event type>.tmpl)", chDir, dir)
		}
		prof, ok := profiles[ent.Name()]
		if !ok {
			names := make([]string, 0, len(profiles))
			for n := range profiles {
				names = append(names, n)
			}
			slices.Sort(names)
			return fmt.Errorf("load templates: %s: unknown channel directory %q (want one of %s)", chDir, ent.Name(), strings.Join(names, ", "))
		}
		files, err := os.ReadDir(chDir)
		if err != nil {
			return fmt.Errorf("load templates: %w", err)
		}
		for _, f := range files {
			if strings.HasPrefix(f.Name(), ".") {
				continue
			}
			p := filepath.Join(chDir, f.Name())
			if err := checkFileName(prof, f.Name()); err != nil {
				return fmt.Errorf("load templates: %s: %w", p, err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("load templates: %w", err)
			}
			sources[ent.Name()+"/"+f.Name()] = source{name: p, text: string(b)}
		}
	}
	return nil
}

// checkFileName reports whether name may stand in a channel's directory.
func checkFileName(p Profile, name string) error {
	if p.Layouts && (name == layoutHTMLFile || name == layoutTextFile) {
		return nil
	}
	typ, ok := strings.CutSuffix(name, ".tmpl")
	if !ok {
		want := "<event type>.tmpl"
		if p.Layouts {
			want += ", " + layoutHTMLFile + " or " + layoutTextFile
		}
		return fmt.Errorf("unexpected file (want %s)", want)
	}
	if typ != "default" && !sdk.ValidType(typ) {
		return fmt.Errorf("%q is not an event type", typ)
	}
	return nil
}

// buildChannel parses one channel's templates.
func buildChannel(p Profile, sources map[string]source) (*channelSet, error) {
	ch := p.Channel
	cs := &channelSet{name: ch, esc: p.Markup.escaper(), layouts: p.Layouts, byType: make(map[string]*typeTemplate)}
	fm := funcs(cs.esc)
	rels := make([]string, 0, len(sources))
	for rel := range sources {
		if path.Dir(rel) == ch {
			rels = append(rels, rel)
		}
	}
	slices.Sort(rels)
	for _, rel := range rels {
		src := sources[rel]
		file := path.Base(rel)
		switch {
		case !p.Layouts:
		case file == layoutHTMLFile:
			t, err := htmltemplate.New(src.name).Funcs(layoutFuncs).Funcs(htmlFuncs).Parse(src.text)
			if err != nil {
				return nil, fmt.Errorf("load templates: %w", err)
			}
			cs.html, cs.htmlName = t, src.name
			continue
		case file == layoutTextFile:
			t, err := template.New(src.name).Funcs(layoutFuncs).Parse(src.text)
			if err != nil {
				return nil, fmt.Errorf("load templates: %w", err)
			}
			cs.text, cs.textName = t, src.name
			continue
		}
		typ := strings.TrimSuffix(file, ".tmpl")
		t, err := template.New(src.name).Funcs(fm).Parse(src.text)
		if err != nil {
			return nil, fmt.Errorf("load templates: %w", err)
		}
		tt := &typeTemplate{name: src.name, generic: typ == "default" || !slices.Contains(sdk.KnownTypes(), typ),
			title: t.Lookup("title"), summary: t.Lookup("summary"), fields: t.Lookup("fields"),
			footer: t.Lookup("footer"), subject: t.Lookup("subject")}
		for _, b := range []struct {
			name string
			t    *template.Template
		}{{"title", tt.title}, {"summary", tt.summary}} {
			if b.t == nil {
				return nil, fmt.Errorf("load templates: %s: no {{define %q}} block", src.name, b.name)
			}
		}
		if typ == "default" {
			cs.def = tt
		} else {
			cs.byType[typ] = tt
		}
	}
	if cs.def == nil {
		return nil, fmt.Errorf("load templates: %s/%s is missing", ch, defaultFile)
	}
	if p.Layouts && (cs.html == nil || cs.text == nil) {
		return nil, fmt.Errorf("load templates: %s/%s or %s/%s is missing", ch, layoutHTMLFile, ch, layoutTextFile)
	}
	return cs, nil
}

// check test-renders every template of the channel with the samples: a seed type's
// template with its sample, default and custom-type templates with every sample as
// generic data.
func (cs *channelSet) check() error {
	samples := Samples()
	bySample := make(map[string]*sdk.Event, len(samples))
	for _, e := range samples {
		bySample[e.Type] = e
	}
	checkGeneric := func(t *typeTemplate) error {
		for _, e := range samples {
			data, err := decodeGeneric(e.Data)
			if err != nil {
				return fmt.Errorf("load templates: sample %s: %w", e.Type, err)
			}
			if _, err := cs.render(t, e, data, true); err != nil {
				return fmt.Errorf("load templates: %w", err)
			}
		}
		return nil
	}
	if err := checkGeneric(cs.def); err != nil {
		return err
	}
	types := make([]string, 0, len(cs.byType))
	for typ := range cs.byType {
		types = append(types, typ)
	}
	slices.Sort(types)
	for _, typ := range types {
		t := cs.byType[typ]
		if t.generic {
			if err := checkGeneric(t); err != nil {
				return err
			}
			continue
		}
		e := bySample[typ]
		p, err := sdk.DecodePayload(e)
		if err != nil {
			return fmt.Errorf("load templates: sample %s: %w", typ, err)
		}
		if _, err := cs.render(t, e, p, true); err != nil {
			return fmt.Errorf("load templates: %w", err)
		}
	}
	return nil
}

// layoutFuncs are the functions of the email layouts.
var layoutFuncs = template.FuncMap{
	// lines splits text into its lines, for <br> in HTML and indentation in text.
	"lines": func(s string) []string { return strings.Split(s, "\n") },
	// indent puts prefix before every line of s but the first.
	"indent": func(prefix, s string) string { return strings.ReplaceAll(s, "\n", "\n"+prefix) },
	"upper":  strings.ToUpper,
	// date formats the event's time for people, in UTC; "" for no time.
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006 15:04 MST")
	},
}

// htmlFuncs are the extra functions of the HTML layout. html/template drops comments, so
// Outlook's conditional comments, which give it the fixed-width table that it needs in
// place of max-width, come from functions; they are constants, never data.
var htmlFuncs = htmltemplate.FuncMap{
	"outlookStart": func() htmltemplate.HTML {
		return `<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->`
	},
	"outlookEnd": func() htmltemplate.HTML { return `<!--[if mso]></td></tr></table><![endif]-->` },
}
