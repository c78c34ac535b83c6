package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
)

// APIServices are the services behind the HTTP API of a dispatcher process. Each is built
// by the wiring of its own package (tenants.go, and the operations' file) before the API is
// mounted; one left nil makes its routes answer 503.
type APIServices struct {
	// Destinations are tenants' destinations (package tenants).
	Destinations control.Destinations
	// History, DeadLetters, Replays, Status and Tester are the operators' engines (package
	// ops).
	History     control.History
	DeadLetters control.DeadLetters
	Replays     control.Replays
	Status      control.StatusReader
	Tester      control.ChannelTester
	// Stats, Previews and Operator serve the dashboard's charts, previews and the
	// operator's destinations (package ops).
	Stats    control.StatsReader
	Previews control.Previewer
	Operator control.OperatorDestinations
}

// mountAPI puts the HTTP API on the process's HTTP server, over the ledger (for tenant keys)
// and svc. On the single-machine default (the embedded NATS server, no
// NOTIFICATIONS_ADMIN_TOKEN) it generates the admin token into the data directory at first
// start and logs where, never the token.
func (p *Process) mountAPI(ctx context.Context, mux *http.ServeMux, svc APIServices) error {
	if p.ledger == nil {
		if p.parts.OpenLedger == nil {
			return errors.New("this binary has no ledger, which the API needs")
		}
		ledger, err := p.parts.OpenLedger(ctx, p.cfg)
		if err != nil {
			return err
		}
		p.ledger = ledger
	}
	keys, ok := p.ledger.(store.KeyStore)
	if !ok {
		return fmt.Errorf("the ledger (%T) does not keep tenant keys", p.ledger)
	}
	token := p.cfg.AdminToken
	if token == "" && p.cfg.NATSURL == "" && p.embedded != nil {
		var (
			path    string
			created bool
			err     error
		)
		token, path, created, err = api.LoadOrCreateAdminToken(p.cfg.DataDir)
		if err != nil {
			return fmt.Errorf("NOTIFICATIONS_DATA_DIR: %w", err)
		}
		msg := "admin API token: read it from the file (NOTIFICATIONS_ADMIN_TOKEN overrides it)"
		if created {
			msg = "admin API token generated: read it from the file (NOTIFICATIONS_ADMIN_TOKEN overrides it)"
		}
		p.log.Info(msg, "file", path)
	}
	if token == "" {
		p.log.Warn("the admin API is off: set NOTIFICATIONS_ADMIN_TOKEN")
	}
	tenantsList, _ := p.ledger.(store.TenantsStore)
	h := api.New(api.Deps{
		Tenants:      tenantsList,
		AdminToken:   token,
		Keys:         keys,
		Destinations: svc.Destinations,
		History:      svc.History,
		DeadLetters:  svc.DeadLetters,
		Replays:      svc.Replays,
		Status:       svc.Status,
		Tester:       svc.Tester,
		Stats:        svc.Stats,
		Previews:     svc.Previews,
		Operator:     svc.Operator,
		EventTypes:   p.namedEventTypes(),
		Logger:       p.log,
	})
	for _, path := range api.Paths {
		mux.Handle(path, h)
	}
	return nil
}

// namedEventTypes are the event types the operator names: the exact routes and the custom
// types of NOTIFICATIONS_TEMPLATES_DIR (<channel>/<type>.tmpl), which were parsed at start.
func (p *Process) namedEventTypes() []string {
	var out []string
	for _, r := range p.cfg.Routes {
		out = append(out, r.Pattern)
	}
	if p.cfg.TemplatesDir != "" {
		files, _ := filepath.Glob(filepath.Join(p.cfg.TemplatesDir, "*", "*.tmpl"))
		for _, f := range files {
			if t := strings.TrimSuffix(filepath.Base(f), ".tmpl"); t != "default" {
				out = append(out, t)
			}
		}
	}
	return out
}

// apiServices gathers the services of the API from the parts of the process that run
// them: tenant destinations (tenants.go) and the operators' engines (ops.go). A service's
// wiring that is added later sets its field here.
func (p *Process) apiServices() APIServices {
	svc := APIServices{Destinations: p.Destinations()}
	if o := p.Ops(); o != nil {
		svc.History, svc.Status, svc.Tester = o, o, o
		svc.Stats, svc.Previews, svc.Operator = o, o, o
		svc.DeadLetters, svc.Replays = o.DeadLetters(), o.Replays()
	}
	return svc
}
