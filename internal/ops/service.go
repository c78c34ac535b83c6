package ops

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

// Config configures a Service.
type Config struct {
	// Prefix is the subject prefix. Defaults to herald.
	Prefix string
	// Channels are the fleet's channels, each listed by Status. Defaults to the channels of
	// Deps.Destinations.
	Channels []string
	// RedriveRate caps the dead letters a redrive publishes per second, so that a redrive of
	// thousands reaches the channel workers no faster than they drain it and live
	// deliveries are not queued behind it. Defaults to 500.
	RedriveRate int
	// ReplayRate caps the events a replay re-dispatches per second, for the same reason.
	// Defaults to 500.
	ReplayRate int
	// PublishTimeout bounds each wait for JetStream. Defaults to 10s.
	PublishTimeout time.Duration
	// SendTimeout bounds one test send. Defaults to 10s.
	SendTimeout time.Duration
	// HealthMaxAge is how long Status reuses the ledger's figures (success rates, dead
	// letters) before it queries again: however many dashboards poll a replica, the ledger
	// answers one status query per HealthMaxAge. Defaults to 2s; negative queries on every
	// poll.
	HealthMaxAge time.Duration
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "herald"
	}
	if c.RedriveRate <= 0 {
		c.RedriveRate = 500
	}
	if c.ReplayRate <= 0 {
		c.ReplayRate = 500
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = 10 * time.Second
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 10 * time.Second
	}
	if c.HealthMaxAge == 0 {
		c.HealthMaxAge = 2 * time.Second
	}
	return c
}

// Ledger is what the engines read and write of the ledger.
type Ledger interface {
	store.HistoryStore
	Delivery(ctx context.Context, deliveryID string) (store.Delivery, []store.Attempt, error)
}

// JetStream is the part of jetstream.JetStream the engines use: DEAD and EVENTS read with
// ordered consumers, the channels' consumers' figures, and publishes to DELIVERIES.
type JetStream interface {
	broker.Publisher
	Stream(ctx context.Context, name string) (jetstream.Stream, error)
	OrderedConsumer(ctx context.Context, stream string, cfg jetstream.OrderedConsumerConfig) (jetstream.Consumer, error)
	Consumer(ctx context.Context, stream, consumer string) (jetstream.Consumer, error)
}

// Dispatcher is the part of dispatch.Dispatcher a replay goes through, so that replayed
// events are validated and routed exactly as live ones.
type Dispatcher interface {
	Validate(msg jetstream.Msg) (*sdk.Event, error)
	Route(ev *sdk.Event) []channel.Destination
	Redispatch(ctx context.Context, data []byte, ev *sdk.Event, dests []channel.Destination, replayID string) error
}

// Deps are what a Service works with.
type Deps struct {
	Ledger     Ledger
	JetStream  JetStream
	Dispatcher Dispatcher
	// Attempts is the workers' count of attempts, reset by a redrive.
	Attempts delivery.Attempts
	// Replays is the bucket of replay jobs (see ReplaysBucketConfig).
	Replays jetstream.KeyValue
	// Circuits is the bucket the workers publish destination states to (see
	// delivery.StatesBucketConfig).
	Circuits jetstream.KeyValue
	// Channels builds the channels of test sends.
	Channels *channel.Registry
	// Destinations are the operator's destinations.
	Destinations []channel.Destination
	// Disabled lists the disabled tenant destinations for Status, as the API shows them;
	// nil lists none.
	Disabled func(ctx context.Context) ([]control.Destination, error)
	Logger   *slog.Logger
}

// Service implements control.History, control.StatusReader and control.ChannelTester, and
// serves control.DeadLetters and control.Replays (DeadLetters, Replays). Start it before
// use; Stop ends its
// background work (redrives and replays in progress stop where they are: a redrive leaves
// the rest of its letters on the dead list, a replay is marked failed).
type Service struct {
	cfg  Config
	deps Deps
	subj broker.Subjects
	log  *slog.Logger

	ctx    context.Context // background work; cancelled by Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	states *stateCache

	deadAgeMu sync.Mutex
	deadAge   time.Duration // DEAD's max_age, read once

	healthMu sync.Mutex
	health   []store.Health // the ledger's figures, as of healthAt
	healthAt time.Time
}

var (
	_ control.History       = (*Service)(nil)
	_ control.StatusReader  = (*Service)(nil)
	_ control.ChannelTester = (*Service)(nil)
	_ control.DeadLetters   = deadLetters{}
	_ control.Replays       = replays{}
)

// DeadLetters returns the dead-letter engine (see package doc).
func (s *Service) DeadLetters() control.DeadLetters { return deadLetters{s} }

// Replays returns the replay engine (see package doc).
func (s *Service) Replays() control.Replays { return replays{s} }

// New builds a Service; Start runs its background parts.
func New(cfg Config, deps Deps) *Service {
	cfg = cfg.withDefaults()
	if len(cfg.Channels) == 0 {
		seen := map[string]bool{}
		for _, d := range deps.Destinations {
			if !seen[d.Channel] {
				seen[d.Channel] = true
				cfg.Channels = append(cfg.Channels, d.Channel)
			}
		}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		cfg: cfg, deps: deps, subj: broker.Subjects{Prefix: cfg.Prefix},
		log:    deps.Logger.With("component", "ops"),
		states: newStateCache(),
	}
}

// Start begins watching the workers' destination states.
func (s *Service) Start(ctx context.Context) error {
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if s.deps.Circuits != nil {
		w, err := s.deps.Circuits.WatchAll(s.ctx)
		if err != nil {
			s.cancel()
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.states.follow(s.ctx, w)
		}()
	}
	return nil
}

// Stop ends the background work and waits for it.
func (s *Service) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// background runs f on the service's context, counted for Stop.
func (s *Service) background(f func(ctx context.Context)) error {
	if s.ctx == nil {
		return errors.New("ops: the service is not started")
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.ctx)
	}()
	return nil
}

// notFound makes the store's not-found the API's.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errors.Join(err, control.ErrNotFound)
	}
	return err
}

// pace waits so that n items since start go no faster than rate per second.
func pace(ctx context.Context, start time.Time, n, rate int) error {
	due := start.Add(time.Duration(n) * time.Second / time.Duration(rate))
	d := time.Until(due)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
