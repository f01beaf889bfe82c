package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
)

// Options configures a soak (Run). Command is required; the zero value of
// every other field is a default.
type Options struct {
	// Command is the command line that makes a process call RunChild (the
	// environment tells it its role): the CLI's hidden "soak child"
	// command, or a test binary run with -test.run on a test that calls
	// RunChild.
	Command []string
	// Dir is the soak directory: the database, the logs of the worker,
	// the loaders and the activities' executions. It must be empty or
	// not exist; empty means a new temporary directory. It is removed at
	// the end unless Keep.
	Dir  string
	Keep bool
	// Seed draws the kill schedule and the loaders' instances, their
	// inputs and pauses.
	Seed uint64
	// Kills is how many times the worker is killed (SIGKILL) and
	// restarted: the soak is bounded by kills, not by time.
	Kills int
	// Sizes scale the workloads (default SmallSizes).
	Sizes Sizes
	// Loaders is the number of loader processes (default 2); each keeps
	// InFlight instances live (default 4).
	Loaders  int
	InFlight int
	// MaxKillDelay is the latest a kill falls after the worker is ready
	// (default 1s).
	MaxKillDelay time.Duration
	// Idle bounds the wait for progress: once the kills are done, the
	// soak fails the instances still live when nothing (statuses,
	// histories, logs) has changed for Idle (default 60s). A worker that
	// is not ready after Idle counts as stuck too.
	Idle time.Duration
	// Poll is the engine's poll interval in the children (default 20ms).
	Poll time.Duration
	// Progress receives a line now and then (nil: none).
	Progress io.Writer
}

func (o Options) withDefaults() Options {
	if o.Sizes == (Sizes{}) {
		o.Sizes = SmallSizes()
	}
	if o.Loaders <= 0 {
		o.Loaders = 2
	}
	if o.InFlight <= 0 {
		o.InFlight = 4
	}
	if o.MaxKillDelay <= 0 {
		o.MaxKillDelay = time.Second
	}
	if o.Idle <= 0 {
		o.Idle = 60 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 20 * time.Millisecond
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// defaultReady stands for the time to ready before any was measured.
const defaultReady = 100 * time.Millisecond

// Run runs a soak: one worker process on a SQLite file, killed with
// SIGKILL Kills times at moments drawn from Seed and restarted each time,
// while Loaders loader processes start instances of every workload and
// raise their events, terminate, suspend and resume them. After the last
// kill it lets the worker finish (bounded by lack of progress, see Idle),
// stops it, and verifies the database and the logs (see Verify). The
// report's Failures say what went wrong; an error means the soak itself
// could not run.
func Run(ctx context.Context, opts Options) (*Report, error) {
	o := opts.withDefaults()
	if len(o.Command) == 0 {
		return nil, errors.New("soak: no command to start the children with")
	}
	if o.Kills < 0 {
		return nil, fmt.Errorf("soak: %d kills", o.Kills)
	}
	if err := o.Sizes.Validate(); err != nil {
		return nil, err
	}
	dir, err := prepareDir(o.Dir)
	if err != nil {
		return nil, err
	}
	if !o.Keep {
		defer os.RemoveAll(dir)
	}
	cfg := config{Seed: o.Seed, Sizes: o.Sizes, Loaders: o.Loaders, InFlight: o.InFlight, Poll: o.Poll}
	if err := cfg.write(dir); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := embedded.Open(ctx, filepath.Join(dir, dbFile), embedded.Options{Logger: quiet}) // a client only
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	began := time.Now()
	c := &campaign{o: o, dir: dir, eng: eng, rep: &Report{Seed: o.Seed, Dir: dir, Kept: o.Keep}}
	defer c.killAll()
	if err := c.run(ctx); err != nil {
		return nil, err
	}
	if err := verify(ctx, dir, eng, c.rep); err != nil {
		return nil, err
	}
	c.rep.Duration = time.Since(began)
	return c.rep, nil
}

// prepareDir returns the soak directory: dir, which must be empty or not
// exist, or a new temporary one.
func prepareDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "cloudbutton-soak-")
	}
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return dir, os.MkdirAll(dir, 0o755)
	case err != nil:
		return "", fmt.Errorf("soak: %w", err)
	case len(ents) > 0:
		return "", fmt.Errorf("soak: directory %s is not empty (a soak needs a fresh one)", dir)
	}
	return dir, nil
}

// campaign is one soak's processes and figures.
type campaign struct {
	o       Options
	dir     string
	eng     *embedded.Engine
	rep     *Report
	worker  *proc
	loaders []*proc
	readies []time.Duration
}

// proc is a child process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	started time.Time
	ready   chan struct{} // closed when the worker printed readyLine
	readyAt atomic.Int64  // nanoseconds after started
	exited  chan struct{} // closed once waited for
	killed  atomic.Bool   // the exit was our SIGKILL
}

func (c *campaign) start(name, role, stderrFile string) (*proc, error) {
	errf, err := os.OpenFile(filepath.Join(c.dir, stderrFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer errf.Close() // the child has its own copy
	cmd := exec.Command(c.o.Command[0], c.o.Command[1:]...)
	cmd.Env = append(os.Environ(), EnvRole+"="+role, EnvDir+"="+c.dir)
	cmd.Stderr = errf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = w
	p := &proc{name: name, cmd: cmd, stdin: stdin, ready: make(chan struct{}), exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("soak: starting the %s: %w", name, err)
	}
	w.Close()
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if sc.Text() == readyLine && p.readyAt.Load() == 0 {
				p.readyAt.Store(int64(max(time.Since(p.started), 1)))
				close(p.ready)
			}
		}
	}()
	go func() {
		<-read // all of stdout read before Wait
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// sigkill kills p with SIGKILL and waits for it.
func (p *proc) sigkill() {
	if p == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	p.killed.Store(true)
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func (p *proc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// killAll kills the children still running (an interrupted soak).
func (c *campaign) killAll() {
	c.worker.sigkill()
	for _, l := range c.loaders {
		l.sigkill()
	}
}

func (c *campaign) progress(format string, args ...any) {
	fmt.Fprintf(c.o.Progress, "soak: "+format+"\n", args...)
}

func (c *campaign) run(ctx context.Context) error {
	for i := range c.o.Loaders {
		l, err := c.start(fmt.Sprintf("loader %d", i), fmt.Sprintf("loader %d", i), loaderStderr(i))
		if err != nil {
			return err
		}
		c.loaders = append(c.loaders, l)
	}
	c.progress("%s: seed %d, %d kills, %d loaders", c.dir, c.o.Seed, c.o.Kills, c.o.Loaders)
	every := max(c.o.Kills/20, 1)
	for i, k := range schedule(c.o.Seed, c.o.Kills) {
		if err := c.killOnce(ctx, k, i == c.o.Kills-1); err != nil {
			return err
		}
		if (i+1)%every == 0 || i+1 == c.o.Kills {
			c.progress("%d/%d kills (%d during open or recovery), %s", i+1, c.o.Kills, c.rep.KillsBeforeReady, c.census(ctx))
		}
	}
	if err := c.startWorker(ctx); err != nil {
		return err
	}
	for _, l := range c.loaders {
		_, _ = io.WriteString(l.stdin, "stop\n")
	}
	c.progress("kills done; loaders told to stop; waiting for the instances to end")
	if err := c.drain(ctx); err != nil {
		return err
	}
	c.stopWorker()
	for _, l := range c.loaders {
		l.stdin.Close()
		select {
		case <-l.exited:
		case <-time.After(10 * time.Second):
			l.sigkill()
		}
	}
	c.rep.ReadyMedian, c.rep.ReadyMax = median(c.readies), maxOf(c.readies)
	return nil
}

func maxOf(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// census summarises the instances for progress lines.
func (c *campaign) census(ctx context.Context) string {
	sts, err := c.eng.List(ctx, client.Filter{})
	if err != nil {
		return err.Error()
	}
	live := 0
	for _, st := range sts {
		if !st.RuntimeStatus.Terminal() {
			live++
		}
	}
	return fmt.Sprintf("%d instances (%d live)", len(sts), live)
}

// startWorker starts a worker process and waits until it is ready (or
// exits, which is recorded, and is started again).
func (c *campaign) startWorker(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		if attempt == 5 {
			return fmt.Errorf("soak: the worker exited by itself %d times in a row; see %s", attempt, filepath.Join(c.dir, workerLog))
		}
		if err := c.spawnWorker(); err != nil {
			return err
		}
		switch c.waitReady(ctx) {
		case readyOK:
			return nil
		case readyCanceled:
			return ctx.Err()
		}
	}
}

func (c *campaign) spawnWorker() error {
	p, err := c.start("worker", "worker", workerLog)
	if err != nil {
		return err
	}
	c.worker = p
	c.rep.WorkerStarts++
	return nil
}

type readyResult int

const (
	readyOK readyResult = iota
	readyExited
	readyStuck
	readyCanceled
)

// waitReady waits for the worker to be ready, bounded by Idle.
func (c *campaign) waitReady(ctx context.Context) readyResult {
	p := c.worker
	t := time.NewTimer(c.o.Idle)
	defer t.Stop()
	select {
	case <-p.ready:
		c.readies = append(c.readies, time.Duration(p.readyAt.Load()))
		return readyOK
	case <-p.exited:
		c.selfExit(p)
		return readyExited
	case <-t.C:
		c.rep.fail("", "", fmt.Sprintf("worker start %d was not ready after %s (stuck in open or recovery); killed", c.rep.WorkerStarts, c.o.Idle))
		p.sigkill()
		return readyStuck
	case <-ctx.Done():
		return readyCanceled
	}
}

// selfExit records a worker that exited without being killed.
func (c *campaign) selfExit(p *proc) {
	c.rep.SelfExits++
	c.rep.fail("", "", fmt.Sprintf("worker start %d exited by itself (%s); last lines of %s: %s", c.rep.WorkerStarts,
		p.cmd.ProcessState, workerLog, tail(filepath.Join(c.dir, workerLog), 3)))
}

// killOnce starts a worker, kills it when k says, and waits for it. The
// last kill also waits, for a while, until an instance is suspended: the
// final restart then recovers one, which a later kill would not let the
// verifier see.
func (c *campaign) killOnce(ctx context.Context, k kill, last bool) error {
	if err := c.spawnWorker(); err != nil {
		return err
	}
	p := c.worker
	if k.when == killOpen {
		ready := median(c.readies)
		if ready == 0 {
			ready = defaultReady
		}
		t := time.NewTimer(k.delay(ready, c.o.MaxKillDelay))
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.exited:
			c.selfExit(p)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
		if p.readyAt.Load() != 0 {
			c.readies = append(c.readies, time.Duration(p.readyAt.Load()))
		}
	} else {
		switch c.waitReady(ctx) {
		case readyExited, readyStuck:
			return nil
		case readyCanceled:
			return ctx.Err()
		}
		t := time.NewTimer(k.delay(0, c.o.MaxKillDelay))
		defer t.Stop()
		select {
		case <-t.C:
		case <-p.exited:
			c.selfExit(p)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if last {
		c.awaitSuspended(ctx)
	}
	if p.hasExited() {
		c.selfExit(p)
		return nil
	}
	if p.readyAt.Load() == 0 {
		c.rep.KillsBeforeReady++
	}
	p.sigkill()
	c.rep.Kills++
	return nil
}

// awaitSuspended waits until some instance is suspended, or for
// awaitSuspendedFor at most (there may be none to come).
func (c *campaign) awaitSuspended(ctx context.Context) {
	deadline := time.Now().Add(awaitSuspendedFor)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		sts, err := c.eng.List(ctx, client.Filter{Statuses: []client.RuntimeStatus{client.StatusSuspended}, Limit: 1})
		if err == nil && len(sts) > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const awaitSuspendedFor = 10 * time.Second

// stopWorker stops the worker gracefully (its stdin closes), or kills it
// after 30 s.
func (c *campaign) stopWorker() {
	p := c.worker
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		c.rep.fail("", "", "the worker did not stop within 30 s of being asked to; killed")
		p.sigkill()
	}
}

// tail returns the last n lines of a file, joined with " | ".
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
