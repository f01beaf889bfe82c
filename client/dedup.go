package client

import (
	"errors"
	"time"
	"unicode/utf8"
)

// maxStartKey bounds a deduplication or debounce key.
const maxStartKey = 512

func checkStartKey(opt, key string, window time.Duration) StartOption {
	switch {
	case key == "":
		return invalidStart("%s(%q, %s): empty key", opt, key, window)
	case !utf8.ValidString(key):
		return invalidStart("%s(%q, %s): key is not valid UTF-8", opt, key, window)
	case len(key) > maxStartKey:
		return invalidStart("%s(%.20q..., %s): key of %d bytes (at most %d)", opt, key, window, len(key), maxStartKey)
	case window <= 0:
		return invalidStart("%s(%q, %s): the window must be positive", opt, key, window)
	}
	return nil
}

// WithDedup deduplicates the start by key: while an instance started
// with key exists and window has not passed since it was started, Start
// creates nothing and returns that instance's id (with a nil error), its
// input unchanged; after the window, a start with key creates a new
// instance, which holds the key for the next window. Keys are those of
// the engine (all clients of one database or namespace share them). An
// empty key or a window that is not positive is an error; so is
// combining it with WithDebounce.
//
// With WithInstanceID, the id is the one created when the key is free.
func WithDedup(key string, window time.Duration) StartOption {
	if bad := checkStartKey("WithDedup", key, window); bad != nil {
		return bad
	}
	return func(s *startSettings) error {
		if s.opts.Debounce {
			return errDedupAndDebounce
		}
		s.opts.DedupKey, s.opts.DedupWindow = key, window
		return nil
	}
}

// WithDebounce debounces the start by key: the first start creates an
// instance that starts once window has passed (a scheduled start); each
// start with key before then replaces that instance's input with its own
// and pushes its start to window after itself, and returns the same id.
// So N starts within a window of each other give one run, with the last
// input. A start after the run began creates the next instance. An empty
// key or a window that is not positive is an error; so is combining it
// with WithDedup or WithStartAt.
func WithDebounce(key string, window time.Duration) StartOption {
	if bad := checkStartKey("WithDebounce", key, window); bad != nil {
		return bad
	}
	return func(s *startSettings) error {
		if s.opts.DedupKey != "" && !s.opts.Debounce {
			return errDedupAndDebounce
		}
		if !s.opts.StartAt.IsZero() {
			return errDebounceAndStartAt
		}
		s.opts.DedupKey, s.opts.DedupWindow, s.opts.Debounce = key, window, true
		return nil
	}
}

var (
	errDedupAndDebounce   = errors.New("WithDedup and WithDebounce: choose one")
	errDebounceAndStartAt = errors.New("WithDebounce and WithStartAt: a debounced start's time is its window's end")
)
