package natsauth

import (
	"bytes"
	"fmt"
	"strconv"
)

// AuthConf renders the users as a nats-server configuration block: an authorization block
// whose users authenticate with their nkeys and are held to their roles' allow lists, in the
// server's global account. A cluster's configuration includes it (include auth.conf). It
// holds public keys only, never a seed.
func AuthConf(users []User) []byte {
	var b bytes.Buffer
	b.WriteString(authConfHeader)
	b.WriteString("authorization {\n  users = [\n")
	for _, u := range users {
		fmt.Fprintf(&b, "    # %s\n    {\n      nkey: %s\n      permissions: {\n", u.Role.Name(), strconv.Quote(u.PublicKey))
		list(&b, "publish", u.Permissions.Publish)
		list(&b, "subscribe", u.Permissions.Subscribe)
		b.WriteString("      }\n    }\n")
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes()
}

// authConfHeader says where the file comes from and what to do with it.
const authConfHeader = `# Herald's NATS users, one per role, each an nkey public key held to its role's allow lists
# (docs/security.md lists them). Every node of the cluster includes this file.
#
# Made by
#
#   go run ./internal/natsauth/cmd/natsauth credentials
#
# which writes the matching seeds, mode 0600, into deploy/nats/creds/ (git ignores them:
# never commit a seed). The keys committed in the repository have no seeds anywhere: until
# you run it, nothing can connect. Each Herald service mounts that directory and names its
# role's seed in NOTIFICATIONS_NATS_CREDS: dispatcher.nk for the dispatchers,
# worker-<channel>.nk for a channel's workers, producer.nk for publishers. Regenerate
# rather than edit: the subjects come from internal/natsauth.
`

func list(b *bytes.Buffer, name string, subjects []string) {
	fmt.Fprintf(b, "        %s: { allow: [\n", name)
	for _, s := range subjects {
		fmt.Fprintf(b, "          %s\n", strconv.Quote(s))
	}
	b.WriteString("        ] }\n")
}
