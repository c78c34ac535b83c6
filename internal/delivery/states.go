package delivery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DestinationState is what a worker process knows of one destination that is not simply
// healthy: its circuit (see Breaker) and a provider's pause (a rate limit that said how long
// to wait). Workers publish it to the circuits bucket (see StatesBucketConfig) for the admin
// status; each worker process has its own breaker and pacer, so each publishes under its
// own key and readers take the worst.
type DestinationState struct {
	Channel     string `json:"channel"`
	Destination string `json:"destination"`
	// Circuit is closed, open or half_open.
	Circuit string `json:"circuit"`
	// PausedUntil is when the provider's last pause ends; zero for none.
	PausedUntil time.Time `json:"paused_until,omitzero"`
	// Worker names the worker process that published it.
	Worker string    `json:"worker"`
	At     time.Time `json:"at"`
}

// Circuit states as DestinationState names them.
const (
	StateClosed   = "closed"
	StateOpen     = "open"
	StateHalfOpen = "half_open"
)

func stateName(s CircuitState) string {
	switch s {
	case CircuitOpen:
		return StateOpen
	case CircuitHalfOpen:
		return StateHalfOpen
	}
	return StateClosed
}

// statesTTL is how long a published state lives in the bucket unless its worker publishes
// it again: a worker refreshes the states it holds every statesTTL/4, so the states of a
// worker that died age out within statesTTL.
const statesTTL = 2 * time.Minute

// StatesBucketConfig is the bucket of destination states, <prefix>_circuits. Its TTL ages
// out the states of a worker that died.
func StatesBucketConfig(prefix string, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      prefix + "_circuits",
		Description: "Herald destinations' circuit and pause states, per worker process, for the admin status.",
		TTL:         statesTTL,
		History:     1,
		Storage:     jetstream.MemoryStorage,
		Replicas:    max(replicas, 1),
	}
}

// StateKey is the bucket key of one worker's state of one destination:
// <channel>.<destination, base64url>.<worker>. A destination id may hold characters a key
// may not ('/' of tenant destinations, ':'), hence the encoding.
func StateKey(channelName, destination, worker string) string {
	return channelName + "." + base64.RawURLEncoding.EncodeToString([]byte(destination)) + "." + worker
}

// ParseStateKey returns the channel and destination of a StateKey.
func ParseStateKey(key string) (channelName, destination string, ok bool) {
	parts := strings.Split(key, ".")
	if len(parts) != 3 {
		return "", "", false
	}
	d, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", "", false
	}
	return parts[0], string(d), true
}

// StatesKV is the part of jetstream.KeyValue that a StateBoard writes with.
type StatesKV interface {
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error
}

// StateBoard publishes one worker process's destination states, off the delivery path: a
// change is noted in memory and written by the board's own goroutine, the latest state of
// a destination replacing any not written yet, so that neither a slow bucket nor a flapping
// circuit ever slows a send. A nil *StateBoard publishes nothing.
type StateBoard struct {
	kv      StatesKV
	channel string
	worker  string
	log     *slog.Logger

	mu      sync.Mutex
	states  map[string]DestinationState // held states, by destination
	dirty   map[string]bool             // destinations to write
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// NewStateBoard starts a board for one channel's worker in this process; worker names the
// process (unique in the fleet). Stop ends it.
func NewStateBoard(kv StatesKV, channelName, worker string, log *slog.Logger) *StateBoard {
	b := &StateBoard{
		kv: kv, channel: channelName, worker: worker, log: log,
		states: map[string]DestinationState{}, dirty: map[string]bool{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	go b.run()
	return b
}

// Circuit notes a destination's circuit state.
func (b *StateBoard) Circuit(dest string, s CircuitState) {
	if b == nil {
		return
	}
	b.update(dest, func(st *DestinationState) { st.Circuit = stateName(s) })
}

// Paused notes that a provider paused a destination until the given time.
func (b *StateBoard) Paused(dest string, until time.Time) {
	if b == nil {
		return
	}
	b.update(dest, func(st *DestinationState) {
		if until.After(st.PausedUntil) {
			st.PausedUntil = until
		}
	})
}

func (b *StateBoard) update(dest string, f func(*DestinationState)) {
	b.mu.Lock()
	st, ok := b.states[dest]
	if !ok {
		st = DestinationState{Channel: b.channel, Destination: dest, Circuit: StateClosed, Worker: b.worker}
	}
	f(&st)
	b.states[dest] = st
	b.dirty[dest] = true
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Stop writes nothing more and removes this worker's states from the bucket.
func (b *StateBoard) Stop() {
	if b == nil {
		return
	}
	b.once.Do(func() { close(b.stop) })
	<-b.stopped
}

func (b *StateBoard) run() {
	defer close(b.stopped)
	refresh := time.NewTicker(statesTTL / 4)
	defer refresh.Stop()
	for {
		select {
		case <-b.wake:
		case <-refresh.C:
			b.mu.Lock()
			for d := range b.states {
				b.dirty[d] = true
			}
			b.mu.Unlock()
		case <-b.stop:
			b.clear()
			return
		}
		b.flush()
	}
}

// flush writes the dirty states: a healthy one (closed, no pause ahead) is deleted and
// forgotten, any other put.
func (b *StateBoard) flush() {
	now := time.Now()
	b.mu.Lock()
	var puts []DestinationState
	var deletes []string
	for d := range b.dirty {
		st := b.states[d]
		if st.Circuit == StateClosed && !st.PausedUntil.After(now) {
			deletes = append(deletes, d)
			delete(b.states, d)
		} else {
			st.At = now.UTC()
			puts = append(puts, st)
		}
		delete(b.dirty, d)
	}
	b.mu.Unlock()
	for _, st := range puts {
		body, err := json.Marshal(st)
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = b.kv.Put(ctx, StateKey(b.channel, st.Destination, b.worker), body)
		cancel()
		if err != nil {
			b.log.Debug("publish destination state", "destination", st.Destination, "err", err)
		}
	}
	for _, d := range deletes {
		b.remove(d)
	}
}

func (b *StateBoard) clear() {
	b.mu.Lock()
	dests := make([]string, 0, len(b.states))
	for d := range b.states {
		dests = append(dests, d)
	}
	b.mu.Unlock()
	for _, d := range dests {
		b.remove(d)
	}
}

func (b *StateBoard) remove(dest string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.kv.Delete(ctx, StateKey(b.channel, dest, b.worker)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		b.log.Debug("remove destination state", "destination", dest, "err", err)
	}
}
