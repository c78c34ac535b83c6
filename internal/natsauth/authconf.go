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
	b.WriteString("# Herald's NATS users, one per role: nkey public keys and allow lists. Made by\n")
	b.WriteString("#   go run ./internal/natsauth/cmd/natsauth credentials\n")
	b.WriteString("# which writes the matching seeds beside it; see docs/security.md. Regenerate rather\n")
	b.WriteString("# than edit: the subjects come from internal/natsauth.\n")
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

func list(b *bytes.Buffer, name string, subjects []string) {
	fmt.Fprintf(b, "        %s: { allow: [\n", name)
	for _, s := range subjects {
		fmt.Fprintf(b, "          %s\n", strconv.Quote(s))
	}
	b.WriteString("        ] }\n")
}
