package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// checkStartKey refuses what the client's options refuse, for a
// StartOptions built by hand.
func checkStartKey(opts client.StartOptions) error {
	switch {
	case opts.DedupKey == "" && (opts.Debounce || opts.DedupWindow != 0):
		return errors.New("embedded: start: a deduplication window or debounce without a key")
	case opts.DedupKey == "":
		return nil
	case opts.DedupWindow <= 0:
		return fmt.Errorf("embedded: start: key %q: the window %s must be positive", opts.DedupKey, opts.DedupWindow)
	case opts.Debounce && !opts.StartAt.IsZero():
		return fmt.Errorf("embedded: start: key %q: a debounced start cannot also have a start time", opts.DedupKey)
	}
	return validText("start key", opts.DedupKey)
}

// startKeyed creates a deduplicated or debounced start: the key's check
// (and, debounced, the move of the waiting instance's start) and the
// creation share one store transaction, so that two clients never both
// create an instance for one key and window. It does not take the
// worker's group commit (client.Start's fast path): it is rarer, and
// needs the store's transaction.
func (e *Engine) startKeyed(ctx context.Context, inst store.Instance, start store.Message, replace bool, opts client.StartOptions, now time.Time) (string, error) {
	kind := "dedup/"
	if opts.Debounce {
		kind = "debounce/"
	}
	key := store.StartKey{Key: kind + opts.DedupKey, Now: now, Expires: now.Add(opts.DedupWindow), Debounce: opts.Debounce}
	if replace {
		_ = e.statusChanged(ctx, inst.ID, "", false)
		e.mu.Lock()
		p := e.proc
		e.mu.Unlock()
		if p != nil {
			p.runner.cancelInstance(inst.ID, inst.Generation-1, math.MaxInt64)
		}
	}
	id, err := e.store.CreateKeyed(ctx, inst, start, replace, key)
	if errors.Is(err, store.ErrAlreadyExists) {
		return "", fmt.Errorf("%w: %q", client.ErrAlreadyExists, inst.ID)
	}
	if err != nil {
		return "", err
	}
	e.wake()
	return id, nil
}
