// Package natsauth is Herald's side of NATS security: the roles that connect to NATS, the
// subjects each may publish and subscribe to, their credentials, and the TLS material of a
// development cluster.
//
// Anyone who can publish on <prefix>.deliver.webhook.<tenant> can have arbitrary bytes
// delivered with a valid signature under the operator's secret, so NATS itself must refuse
// what a connection has no business doing. Every process connects as one role, a NATS user
// authenticated by an nkey (a signature over the server's nonce, so that the server holds
// only public keys and no secret crosses the wire), with allow lists of subjects:
//
//   - Producer publishes events (<prefix>.events.>) and nothing else; a JetStream publish
//     with an acknowledgement needs no JetStream API subject, only its reply inbox.
//   - Worker, for its channels, reads its channel's consumer on DELIVERIES, publishes its
//     results and dead letters, and keeps its key-value buckets; it cannot read another
//     channel's deliveries nor publish events or deliveries.
//   - Dispatcher reads EVENTS, writes DELIVERIES, RESULTS and DEAD, and manages Herald's
//     streams, consumers and buckets: it also runs the control API (redrive, replay, status).
//     The single-machine herald process, which is the dispatcher and every worker, connects
//     as the dispatcher, whose rights include every worker's.
//   - Admin may do everything, for operators' tools.
//
// All roles live in one account with JetStream (the server's global account, so that
// existing streams stay where they are). Role.Permissions is the one place the subjects are
// listed; the embedded server (package broker/embedded) and the auth.conf of a NATS cluster
// (AuthConf) are both made from it.
//
// Each role but the producer receives its replies on an inbox of its own,
// _INBOX_<public key>.>, so that no role can read the replies another gets (stream
// messages, key-value entries): ClientOptions sets that prefix from the seed. Producers may
// use the standard _INBOX.> as any NATS client does.
package natsauth
