// Package spot watches a cloud instance's metadata service for a spot (preemptible)
// termination notice and publishes one node.terminated event per notice to Herald.
//
// A Source reads one cloud's metadata service: AWS (IMDSv2 sessions and the
// spot/instance-action document), GCP (the instance/preempted flag) or Azure (Scheduled
// Events of type Preempt or Terminate). A Monitor polls a Source, turns each new Notice
// into an event whose id is derived from the cloud, the instance and the notice, and
// publishes it until the stream acknowledges it. Because the id depends only on what the
// metadata service says, a publish retried after a NATS outage, or by a monitor restarted
// while the notice stands, carries the same id, and JetStream's duplicate window and the
// dispatcher's idempotency record drop the copies.
package spot
