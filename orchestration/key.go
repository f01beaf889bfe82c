package orchestration

import "unicode/utf8"

// maxKeyLen bounds a call's limit key.
const maxKeyLen = 256

// WithKey makes the call's attempts count against the worker's limits for
// key (worker.Options.KeyLimits): a downstream dependency such as
// "api.stripe.com", or a tenant id computed from the input. The worker
// runs at most the limit's number of attempts of a key at once and starts
// at most its rate per second, over all instances, taking the instances
// waiting on a key in turn. A key no limit matches is not limited. The
// key is recorded with the call, so replay and a restarted worker see
// it. An empty key, one that is not valid UTF-8 or one over 256 bytes is
// an error.
//
// Limits are enforced on the embedded engine (and the harness); on
// Temporal they are not mapped yet (see the engine/temporal package doc).
func WithKey(key string) CallOption {
	switch {
	case key == "":
		return invalidCall(`WithKey(""): empty; omit the option for an unlimited call`)
	case !utf8.ValidString(key):
		return invalidCall("WithKey(%q): not valid UTF-8", key)
	case len(key) > maxKeyLen:
		return invalidCall("WithKey(%.20q...): %d bytes (at most %d)", key, len(key), maxKeyLen)
	}
	return func(s *callSettings) error { s.act.Key = key; return nil }
}
