// Package natsproc runs real nats-server processes, alone or as a JetStream cluster, so that
// tests and commands can crash them for real.
//
// An embedded server's Shutdown hands leadership over gracefully and is no crash test: here
// every server is a child process of the nats-server binary, built from the nats-server/v2
// module this module already requires (so it is the version the fleet is tested against),
// and Kill sends it SIGKILL. A killed server restarts with Start on the same ports, store
// and configuration, as a machine coming back would.
//
// Build the binary once, then start what the test needs:
//
//	bin, err := natsproc.Build(ctx, dir) // go build -o dir/nats-server github.com/nats-io/nats-server/v2
//	srv, err := natsproc.StartServer(ctx, natsproc.Config{Binary: bin, Dir: dir})
//	defer srv.Stop()
//
//	c, err := natsproc.StartCluster(ctx, natsproc.Config{Binary: bin, Dir: dir}, 3)
//	defer c.Stop()
//	// NOTIFICATIONS_NATS_URL=c.URL(), NOTIFICATIONS_STREAM_REPLICAS=3
//	leader, err := c.StreamLeader(ctx, js, "DELIVERIES") // from the JetStream API
//	leader.Kill()                                         // SIGKILL
//	next, err := c.WaitStreamLeader(ctx, js, "DELIVERIES", leader.Name(), time.Minute)
//	err = leader.Start(ctx)                               // back on the same ports and store
//	err = c.WaitStreamCurrent(ctx, js, "DELIVERIES", time.Minute)
//
// The nodes of a cluster listen on fixed loopback ports chosen at start (client and cluster
// ports), with routes from every node to every other, so that a restarted node finds its
// peers and its clients find it at the URL they were given. Raft elections take seconds:
// the Wait methods poll the JetStream API until a condition holds, never sleep a fixed time.
//
// Every server allows 8 MiB messages (Config.MaxPayload), so that an event larger than
// Herald's own limit reaches the dispatcher and is refused there, not by the server.
//
// Nothing here depends on package testing; children die with the process that started them
// (see internal/childproc).
package natsproc
