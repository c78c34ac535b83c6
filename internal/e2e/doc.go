// Package e2e holds Herald's end-to-end tests: the whole pipeline on a real embedded NATS
// JetStream server and a real PostgreSQL, with loopback webhook receivers, checked from the
// outside through the contracts users script against (subjects, webhook headers, ledger
// rows, DEAD messages, logs).
package e2e
