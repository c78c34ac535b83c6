// Command webhook-echo is a webhook receiver for trying Herald out and for checking a
// secret: it verifies every request's Standard Webhooks signature with the SDK's verifier and
// prints one line per delivery. It can answer with another status to show retries and dead
// letters.
//
//	webhook-echo --addr 127.0.0.1:9000 --secret whsec_...   (or NOTIFICATIONS_WEBHOOK_SECRET)
//	webhook-echo --status 503                                  answer 503 to everything
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/heraldhq/herald/sdk"
)

func main() {
	fs := flag.NewFlagSet("webhook-echo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9000", "listen address")
	secret := fs.String("secret", os.Getenv("NOTIFICATIONS_WEBHOOK_SECRET"), "whsec_ secret(s) to verify with (default $NOTIFICATIONS_WEBHOOK_SECRET)")
	status := fs.Int("status", http.StatusOK, "status to answer verified requests with")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	v, err := sdk.NewVerifier(*secret)
	if err != nil {
		fmt.Fprintf(os.Stderr, "webhook-echo: --secret: %v\n", err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "webhook-echo: listening on http://%s, answering %d\n", *addr, *status)
	srv := &http.Server{Addr: *addr, Handler: handler(v, *status, os.Stdout), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintf(os.Stderr, "webhook-echo: %v\n", err)
		os.Exit(1)
	}
}

// handler verifies each request and prints a line for it.
func handler(v *sdk.Verifier, status int, out io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		id := r.Header.Get(sdk.HeaderWebhookID)
		if err := v.Verify(r.Header, body); err != nil {
			fmt.Fprintf(out, "%s REJECTED %s: %v\n", time.Now().Format(time.TimeOnly), id, err)
			http.Error(w, "signature does not verify", http.StatusUnauthorized)
			return
		}
		var ev sdk.Event
		_ = json.Unmarshal(body, &ev)
		fmt.Fprintf(out, "%s %d webhook-id=%s type=%s tenant=%s severity=%s data=%s\n",
			time.Now().Format(time.TimeOnly), status, id, ev.Type, ev.Tenant(), ev.Severity, ev.Data)
		w.WriteHeader(status)
	})
}
