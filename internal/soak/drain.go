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

// drainPoll is how often the drain looks for progress.
const drainPoll = 250 * time.Millisecond

// drain waits, after the last kill, until the loaders have exited and
// every instance has ended, as long as something keeps changing: it
// gives up once nothing has for Idle (the verifier then reports the live
// instances as stuck). A worker that exits by itself is started again.
func (c *campaign) drain(ctx context.Context) error {
	last, lastChange := uint64(0), time.Now()
	for {
		fp, live, err := c.fingerprint(ctx)
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
		if fp != last {
			last, lastChange = fp, time.Now()
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
// counters, the exported histories of the live ones, and the sizes of
// the logs. live counts the instances that have not ended.
func (c *campaign) fingerprint(ctx context.Context) (fp uint64, live int, err error) {
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
