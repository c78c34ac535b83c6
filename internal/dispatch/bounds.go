package dispatch

import "bytes"

// MaxJSONDepth is how deeply an event's JSON may nest, the envelope being the first level,
// so its data may nest 63 levels deep. Real payloads nest a few levels; an event nested
// thousands of levels deep costs every decoder on its way (the dispatcher, the renderer,
// every webhook receiver) a deep recursion, so it is dead-lettered with the reason "depth".
const MaxJSONDepth = 64

// depthWithin reports whether the JSON in b nests no deeper than limit. It scans the bytes
// once, without decoding or recursing, so that a hostile event is refused for the cost of
// reading it: brackets inside strings do not count, and each string is skipped with
// IndexByte. Malformed JSON is left to the decoder to report.
func depthWithin(b []byte, limit int) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			// Find the closing quote: the first one preceded by an even number of backslashes.
			for {
				j := bytes.IndexByte(b[i+1:], '"')
				if j < 0 {
					return true
				}
				i += j + 1
				n := 0
				for k := i - 1; b[k] == '\\'; k-- {
					n++
				}
				if n%2 == 0 {
					break
				}
			}
		case '{', '[':
			depth++
			if depth > limit {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}
