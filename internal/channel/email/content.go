package email

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// maxSubjectRunes keeps subjects readable in any mail client and far below RFC 5322's
	// 998-character line limit once encoded. Clients show about 60 to 80 characters; the rest
	// is cut with an ellipsis.
	// https://www.rfc-editor.org/rfc/rfc5322#section-2.1.1
	maxSubjectRunes = 200
	// maxIdempotencyKeyLen is the longest Idempotency-Key Resend accepts. Longer delivery ids
	// are sent as their SHA-256.
	// https://resend.com/docs/dashboard/emails/idempotency-keys
	maxIdempotencyKeyLen = 256
	// maxDeliveryIDLen bounds a delivery id carried in headers.
	maxDeliveryIDLen = 512
	// maxTagLen is the longest tag name or value Resend accepts.
	// https://resend.com/docs/api-reference/emails/send-email
	maxTagLen = 256
	// HeaderDeliveryID carries the delivery id in every email, so that receivers can dedup.
	HeaderDeliveryID = "X-Herald-Delivery-Id"
)

// content is one notification rendered for email, with what identifies it.
type content struct {
	deliveryID string
	eventType  string
	tenant     string
	subject    string
	html       string
	text       string
}

// compose renders n. Its errors are safe to put in a reason.
func (c *Channel) compose(n channel.Notification) (*content, error) {
	if err := checkDeliveryID(n.DeliveryID); err != nil {
		return nil, err
	}
	m, err := channel.RenderEvent(c.tpl, Name, n.Event)
	if err != nil {
		return nil, err
	}
	ct := &content{
		deliveryID: n.DeliveryID,
		eventType:  n.Event.Type,
		tenant:     n.Event.Tenant(),
		subject:    subjectLine(m.Subject),
		html:       m.HTML,
		text:       m.Text,
	}
	if ct.subject == "" {
		ct.subject = subjectLine(m.Title)
	}
	if ct.subject == "" {
		ct.subject = n.Event.Type
	}
	if ct.text == "" && ct.html == "" {
		return nil, fmt.Errorf("email: template for %s rendered neither text nor HTML", n.Event.Type)
	}
	return ct, nil
}

// checkDeliveryID accepts printable ASCII without spaces: the id goes into headers.
func checkDeliveryID(id string) error {
	if id == "" {
		return errors.New("email: notification has no delivery id")
	}
	if len(id) > maxDeliveryIDLen {
		return fmt.Errorf("email: delivery id longer than %d bytes", maxDeliveryIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] >= 0x7f {
			return fmt.Errorf("email: delivery id %q holds a character that may not appear in a header", id)
		}
	}
	return nil
}

// subjectLine collapses white space and control characters to single spaces, trims, and cuts
// the result to maxSubjectRunes runes, ending a cut subject with an ellipsis.
func subjectLine(s string) string {
	s = strings.Join(strings.FieldsFunc(strings.ToValidUTF8(s, ""), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if utf8.RuneCountInString(s) <= maxSubjectRunes {
		return s
	}
	runes := []rune(s)[:maxSubjectRunes-1]
	return strings.TrimRightFunc(string(runes), unicode.IsSpace) + "…"
}

// idempotencyKey is the delivery id, or its SHA-256 when Resend would refuse its length.
func idempotencyKey(deliveryID string) string {
	if len(deliveryID) <= maxIdempotencyKeyLen {
		return deliveryID
	}
	sum := sha256.Sum256([]byte(deliveryID))
	return "sha256-" + hex.EncodeToString(sum[:])
}

// tagValue maps s onto what Resend accepts in a tag: ASCII letters, digits, '_' and '-', at
// most maxTagLen characters; anything else becomes '_'.
func tagValue(s string) string {
	b := []byte(s)
	if len(b) > maxTagLen {
		b = b[:maxTagLen]
	}
	for i, ch := range b {
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9', ch == '_', ch == '-':
		default:
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}
