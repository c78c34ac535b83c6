package smstest

import "unicode/utf16"

// An SMS carries 140 bytes: 160 characters of the GSM-7 alphabet, or 70 UTF-16 code units
// (UCS-2) as soon as one character lies outside it. A longer message is split into segments
// of 153 or 67, each billed as one message.
// https://www.twilio.com/docs/glossary/what-sms-character-limit
// https://www.twilio.com/docs/glossary/what-is-gsm-7-character-encoding
const (
	gsmSingle  = 160
	gsmSegment = 153
	ucsSingle  = 70
	ucsSegment = 67
)

// gsmBasic is the GSM 03.38 basic character set; each costs one septet.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table; each costs two septets (an escape first).
const gsmExtension = "^{}\\[~]|€\f"

var gsmCost = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// Encoding is how an SMS body is encoded on the air.
type Encoding string

// The two encodings of an SMS.
const (
	GSM7 Encoding = "GSM-7"
	UCS2 Encoding = "UCS-2"
)

// Segments returns how many SMS segments body takes and in which encoding, as Twilio's
// num_segments reports it.
func Segments(body string) (int, Encoding) {
	septets := 0
	for _, r := range body {
		c, ok := gsmCost[r]
		if !ok {
			return split(ucs2Units(body), ucsSingle, ucsSegment), UCS2
		}
		septets += c
	}
	return split(septets, gsmSingle, gsmSegment), GSM7
}

func ucs2Units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func split(n, single, segment int) int {
	if n <= single {
		return 1
	}
	return (n + segment - 1) / segment
}
