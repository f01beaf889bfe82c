package soak

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
)

// drainPoll is how often the drain looks for progress; after quietFor
// without a change it also reads the live instances' histories (timers
// and events change only those), at most once per quietFor.
const (
	drainPoll = 250 * time.Millisecond
	quietFor  = 2 * time.Second
)

// drain waits, after the last kill, until the loaders have exited and
// every instance has ended, as long as something keeps changing: it
// gives up once nothing has for Idle (the verifier then reports the live
// instances as stuck). A worker that exits by itself is started again.
func (c *campaign) drain(ctx context.Context) error {
	var last, lastFull uint64
	lastChange, fullAt := time.Now(), time.Time{}
	for {
		fp, live, err := c.fingerprint(ctx, false)
		if err != nil {
			return err
		}
		loadersDone := true
		for _, l := range c.loaders {
			loadersDone = loadersDone && l.hasExited()
		}
		if loadersDone && live == 0 {
			return nil
		}
		switch {
		case fp != last:
			last, lastChange = fp, time.Now()
		case time.Since(lastChange) > quietFor && time.Since(fullAt) > quietFor:
			full, _, err := c.fingerprint(ctx, true)
			if err != nil {
				return err
			}
			if full != lastFull {
				lastFull, lastChange = full, time.Now()
			}
			fullAt = time.Now()
		}
		if time.Since(lastChange) > c.o.Idle {
			c.progress("no progress for %s: %d instances still live; giving up on them", c.o.Idle, live)
			return nil
		}
		if c.worker.hasExited() {
			c.selfExit(c.worker)
			if err := c.startWorker(ctx); err != nil {
				return err
			}
		}
		select {
		case <-time.After(drainPoll):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fingerprint hashes what progress changes: every instance's status and
// counters, the sizes of the logs and, with histories, the exported
// histories of the live instances. live counts the instances that have
// not ended.
func (c *campaign) fingerprint(ctx context.Context, histories bool) (fp uint64, live int, err error) {
	h := fnv.New64a()
	sts, err := c.eng.List(ctx, client.Filter{})
	if err != nil {
		return 0, 0, err
	}
	for _, st := range sts {
		fmt.Fprintf(h, "%s %s %d %d %d\n", st.InstanceID, st.RuntimeStatus, st.UpdatedAt.UnixNano(), st.ActivitiesDone, st.ActivitiesTotal)
		if st.RuntimeStatus.Terminal() {
			continue
		}
		live++
		if !histories {
			continue
		}
		var n countWriter
		if err := c.eng.ExportHistory(ctx, st.InstanceID, &n); err == nil {
			fmt.Fprintf(h, "history %d\n", n)
		}
	}
	names := []string{execFile}
	for i := range c.loaders {
		names = append(names, loaderLog(i))
	}
	for _, name := range names {
		if fi, err := os.Stat(filepath.Join(c.dir, name)); err == nil {
			fmt.Fprintf(h, "%s %d\n", name, fi.Size())
		}
	}
	return h.Sum64(), live, nil
}

// countWriter counts bytes.
type countWriter int64

func (w *countWriter) Write(p []byte) (int, error) {
	*w += countWriter(len(p))
	return len(p), nil
}

var _ io.Writer = (*countWriter)(nil)
