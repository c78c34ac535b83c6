// Package tenants runs tenants' own destinations: the service behind the API's
// /v1/tenants/{tenant}/destinations (Service, an implementation of control.Destinations),
// their encryption at rest, their propagation to every dispatcher replica and channel worker,
// their routing, and their automatic disabling when they keep failing.
//
// # Storage
//
// A destination is a row of notification_config (store.DestinationStore). Its config column
// holds a small JSON record (see record) whose "sealed" member is the destination's channel
// configuration, and a rotated-out webhook secret while it still signs, sealed with
// secretbox under NOTIFICATIONS_SECRETS_KEY. The additional data binds the token to its
// tenant and id, so a sealed blob copied into another row does not open. Only what is not
// secret (the reason a destination is disabled, when a rotated secret stops signing) sits
// beside it in clear. Only the fields a tenant may set are stored: the operator's
// credentials of a channel (Twilio's account, say) are merged in from the operator's
// configuration when a destination is used, so they are never stored, shown or settable.
//
// # Propagation
//
// The service writes the database, then the key-value bucket <prefix>_destinations: key
// d.<tenant>.<id> holds an Entry, the destination's routing fields and its config still
// sealed. Every dispatcher replica and channel worker watches the bucket into a Table, so a
// change reaches them all within milliseconds, without a restart; workers open the sealed
// config with the same keyring, and nothing in NATS is ever in clear. A dispatcher reconciles
// the bucket from the database when it starts (Reconcile), which heals a crash between the
// two writes. A deleted destination leaves a delete marker in the bucket, which is how a
// worker tells "deleted" from "not heard of yet".
//
// # Failures
//
// Workers send tenant destinations through Sender, which uses the SSRF-guarded registry for
// channels whose host the tenant chooses, ends deliveries to deleted or disabled destinations,
// and notes failures in the same bucket (key h.<tenant>.<id>: since when the destination has
// failed without a success). A Disabler in every dispatcher replica disables a destination
// that has failed for NOTIFICATIONS_DESTINATION_DISABLE_AFTER and publishes a
// destination.disabled event with a deterministic id, so that two replicas publish it once.
package tenants
