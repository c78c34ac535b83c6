package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/redact"
)

// Connect opens a NATS connection named after the process that keeps reconnecting for as
// long as the process lives: an outage of NATS delays work, it never ends a process. The
// process's credentials and TLS come in extra (see natsauth.ClientFor); a server that
// refuses them is reported with the variable to set. A permissions violation, a request
// outside the process's role, is logged as a NATS async error naming the subject.
func Connect(url, name string, log *slog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("nats async error", "subject", subject, "err", err)
		}),
	}, extra...)
	nc, err := nats.Connect(url, opts...)
	if errors.Is(err, nats.ErrAuthorization) {
		return nil, fmt.Errorf("connect to nats %s: %w: the server takes only Herald's roles: set NOTIFICATIONS_NATS_CREDS to this process's seed file (docs/security.md)",
			redact.Text(url), err)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", redact.Text(url), err)
	}
	return nc, nil
}
