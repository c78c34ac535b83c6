package emailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Part is one leaf MIME part of a message, its body decoded.
type Part struct {
	// ContentType is the part's media type, without parameters ("text/plain").
	ContentType string
	// Charset is its charset parameter.
	Charset string
	// Encoding is its Content-Transfer-Encoding as sent.
	Encoding string
	// Body is the decoded body.
	Body string
}

// Message is one message the SMTP server took.
type Message struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To are the envelope recipients (RCPT TO).
	To []string
	// Header is the parsed header.
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// MessageID is the Message-ID header, with its angle brackets.
	MessageID string
	// ContentType is the message's media type, without parameters
	// ("multipart/alternative").
	ContentType string
	// Parts are the leaf parts in order (one, for a single-part message).
	Parts []Part
	// Text is the body of the first text/plain part; HTML of the first text/html part.
	Text string
	HTML string
	// Raw is the message exactly as received.
	Raw []byte
	// TLS says whether the session was encrypted when the message came.
	TLS bool
	// User is the authenticated user, or "".
	User string
}

// parseMessage reads a message's header and, through any multipart nesting, its parts.
func parseMessage(raw []byte) (Message, error) {
	m := Message{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m, fmt.Errorf("read message: %w", err)
	}
	m.Header = msg.Header
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return m, fmt.Errorf("decode subject: %w", err)
	}
	m.MessageID = msg.Header.Get("Message-Id")
	ct := msg.Header.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return m, fmt.Errorf("content type %q: %w", ct, err)
	}
	m.ContentType = mt
	if err := m.walk(ct, msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0); err != nil {
		return m, err
	}
	for _, p := range m.Parts {
		switch {
		case p.ContentType == "text/plain" && m.Text == "":
			m.Text = p.Body
		case p.ContentType == "text/html" && m.HTML == "":
			m.HTML = p.Body
		}
	}
	return m, nil
}

// walk appends the leaf parts of one entity to m.Parts.
func (m *Message) walk(contentType, encoding string, body io.Reader, depth int) error {
	if depth > 5 {
		return errors.New("multipart nesting deeper than 5")
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		if params["boundary"] == "" {
			return fmt.Errorf("%s without a boundary", mt)
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart() // raw: the transfer encoding is decoded below, and recorded
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s part: %w", mt, err)
			}
			enc := p.Header.Get("Content-Transfer-Encoding")
			pct := p.Header.Get("Content-Type")
			if pct == "" {
				pct = "text/plain"
			}
			if err := m.walk(pct, enc, p, depth+1); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "", "7bit", "8bit", "binary":
	default:
		return fmt.Errorf("unknown Content-Transfer-Encoding %q", encoding)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%s body: %w", mt, err)
	}
	m.Parts = append(m.Parts, Part{ContentType: mt, Charset: params["charset"], Encoding: encoding, Body: string(b)})
	return nil
}

// newlineStripper drops CR and LF, which base64 bodies carry every 76 characters.
type newlineStripper struct{ r io.Reader }

func (s newlineStripper) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
