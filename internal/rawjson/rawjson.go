// Package rawjson decides when encoded bytes can travel inside a JSON
// document as they are. Payloads do (in histories and in Lambda
// envelopes) when they are JSON that encoding/json copies byte for byte;
// others travel as base64, so that every payload arrives exactly as it
// was sent.
package rawjson

import (
	"encoding/json"
	"unicode/utf8"
)

// Stable reports whether p is a JSON value, in valid UTF-8, that
// encoding/json leaves byte for byte as it is when it writes p inside
// another document (as json.RawMessage or a Marshaler's output): no
// whitespace between tokens, and no <, >, &, U+2028 or U+2029 inside
// strings, which it compacts away or escapes. Every payload of the
// default codec (json.Marshal's output) is stable.
func Stable(p []byte) bool {
	if len(p) == 0 || !json.Valid(p) || !utf8.Valid(p) {
		return false
	}
	inString, escaped := false, false
	for i, c := range p {
		switch {
		case !inString:
			switch c {
			case '"':
				inString = true
			case ' ', '\t', '\n', '\r':
				return false
			}
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			inString = false
		case c == '<', c == '>', c == '&':
			return false
		case c == 0xE2 && i+2 < len(p) && p[i+1] == 0x80 && (p[i+2] == 0xA8 || p[i+2] == 0xA9):
			return false
		}
	}
	return true
}
