package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// nodeRequest is the body of POST /nodes.
type nodeRequest struct {
	TenantID     string  `json:"tenant_id"`
	Provider     string  `json:"provider"`
	Region       string  `json:"region"`
	GPUType      string  `json:"gpu_type"`
	GPUCount     int     `json:"gpu_count"`
	Model        string  `json:"model"`
	Spot         bool    `json:"spot"`
	PricePerHour float64 `json:"price_per_hour"`
}

// node is a node the orchestrator launched.
type node struct {
	id             string
	req            nodeRequest
	status         string // launching, running
	launchDuration time.Duration
}

// launchNode accepts a launch (202) and starts the node in the background; node.launched is
// published once the node is up, with how long the launch took.
func (s *Server) launchNode(w http.ResponseWriter, r *http.Request) {
	var req nodeRequest
	if !decode(w, r, &req) {
		return
	}
	if req.TenantID != "" && !sdk.ValidTenant(req.TenantID) {
		writeError(w, http.StatusBadRequest, "tenant_id: letters, digits, '-' and '_'")
		return
	}
	if req.GPUCount < 0 || req.PricePerHour < 0 {
		writeError(w, http.StatusBadRequest, "gpu_count and price_per_hour must not be negative")
		return
	}
	id, err := sdk.NewID()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "node id: "+err.Error())
		return
	}
	n := &node{id: "gpu-" + strings.ToLower(id), req: req, status: "launching"}
	s.mu.Lock()
	s.nodes[n.id] = n
	s.mu.Unlock()
	s.wg.Add(1)
	go s.launch(n, s.c.Now())
	writeJSON(w, http.StatusAccepted, map[string]any{"node_id": n.id, "status": "launching"})
}

// launch starts the (simulated) node, then publishes node.launched, retrying through a
// NATS outage with the same event until it is stored or the server closes.
func (s *Server) launch(n *node, start time.Time) {
	defer s.wg.Done()
	// The simulated boot: a real orchestrator would call the cloud's API here and wait
	// for the node to register.
	t := time.NewTimer(s.c.LaunchTime)
	defer t.Stop()
	select {
	case <-s.ctx.Done():
		return
	case <-t.C:
	}
	took := s.c.Now().Sub(start)
	s.mu.Lock()
	n.status, n.launchDuration = "running", took
	s.mu.Unlock()

	ev, err := sdk.NewNodeLaunched(n.req.TenantID, sdk.NodeLaunched{
		NodeID: n.id, Provider: n.req.Provider, Region: n.req.Region, GPUType: n.req.GPUType,
		GPUCount: n.req.GPUCount, Model: n.req.Model, Spot: n.req.Spot, PricePerHour: n.req.PricePerHour,
		LaunchDuration: sdk.SecondsOf(took),
	}, sdk.WithID("node-launched-"+n.id), sdk.WithSource("control-plane/orchestrator"))
	if err != nil {
		s.c.Log.Error("node.launched is invalid", "node_id", n.id, "err", err)
		return
	}
	for backoff := 250 * time.Millisecond; ; backoff = min(backoff*2, 10*time.Second) {
		ack, err := s.c.Publisher.Publish(s.ctx, ev)
		if err == nil {
			s.c.Log.Info("published", "event_id", ev.ID, "type", ev.Type, "launch_duration", took.String(), "duplicate", ack.Duplicate)
			return
		}
		var ve *sdk.ValidationError
		if errors.As(err, &ve) || s.ctx.Err() != nil {
			s.c.Log.Error("node.launched not published", "event_id", ev.ID, "err", err)
			return
		}
		s.c.Log.Warn("publish failed; retrying", "event_id", ev.ID, "err", err, "retry_in", backoff.String())
		if !wait(s.ctx, backoff) {
			return
		}
	}
}

// getNode answers a node's status.
func (s *Server) getNode(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n, ok := s.nodes[r.PathValue("id")]
	var status string
	var took time.Duration
	if ok {
		status, took = n.status, n.launchDuration
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "no such node")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"node_id": r.PathValue("id"), "status": status, "launch_duration_seconds": took.Seconds()})
}

// wait waits d or until ctx ends, and reports whether d passed.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
