package soak

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/embedded"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// record is one line of a loader's log: what it did through the client,
// and every error a client call returned.
type record struct {
	Op     string `json:"op"` // start, raise, terminate, suspend, resume, ended, error
	ID     string `json:"id"`
	Kind   string `json:"kind,omitempty"`
	Spec   *Spec  `json:"spec,omitempty"`
	Event  string `json:"event,omitempty"`
	Seq    int    `json:"seq,omitempty"`
	Of     string `json:"of,omitempty"` // error: the operation that failed
	Err    string `json:"err,omitempty"`
	Status string `json:"status,omitempty"` // ended: the status Wait returned
	// At is when the call returned (for reading the logs side by side);
	// Began when the call began (raise, terminate, suspend, resume).
	At    time.Time `json:"at"`
	Began time.Time `json:"began,omitzero"`
}

// Operations of a loader's log.
const (
	opStart     = "start"
	opRaise     = "raise"
	opTerminate = "terminate"
	opSuspend   = "suspend"
	opResume    = "resume"
	opEnded     = "ended"
	opError     = "error"
)

// loader is a process that starts workload instances, at most InFlight
// at a time, and plays each one's script (events, terminate, suspend and
// resume) through the client, while the worker is killed and restarted.
type loader struct {
	c   client.Client
	mu  sync.Mutex
	out *os.File
}

func (l *loader) log(r record) {
	r.At = time.Now().UTC()
	data, _ := json.Marshal(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.out.Write(append(data, '\n'))
}

func runLoader(ctx context.Context, dir string, c config, index int, stdin io.Reader, stderr io.Writer) error {
	stop, gone := stdinSignals(stdin)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-gone // the parent went away: give up at once
		cancel()
	}()
	quiet := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := embedded.Open(ctx, filepath.Join(dir, dbFile), embedded.Options{PollInterval: c.Poll, Logger: quiet})
	if err != nil {
		return err
	}
	defer eng.Close()
	out, err := os.OpenFile(filepath.Join(dir, loaderLog(index)), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	l := &loader{c: eng, out: out}
	p := newPlanner(c, index)
	slots := make(chan struct{}, max(c.InFlight, 1))
	var wg sync.WaitGroup
	for {
		select {
		case <-stop:
		case slots <- struct{}{}:
		}
		if isClosed(stop) || ctx.Err() != nil {
			break
		}
		o, id, s := p.next()
		if !l.start(ctx, o, id, s) {
			<-slots
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			l.script(ctx, o, id, s)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// retries bounds how often a loader repeats a client call that failed.
const retries = 20

// start starts an instance, repeating the call after an error (which is
// logged): an id that exists after a failed call was created by it.
func (l *loader) start(ctx context.Context, o *orchestration.Orchestrator[Spec, Result], id string, s Spec) bool {
	for try := 0; ; try++ {
		_, err := client.Start(ctx, l.c, o, s, client.WithInstanceID(id), client.WithReusePolicy(client.RejectDuplicate))
		if err == nil || (try > 0 && errors.Is(err, client.ErrAlreadyExists)) {
			l.log(record{Op: opStart, ID: id, Kind: o.Name(), Spec: &s})
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		l.log(record{Op: opError, Of: opStart, ID: id, Kind: o.Name(), Err: err.Error()})
		if try == retries {
			return false
		}
		pause(ctx, 50*time.Millisecond)
	}
}

// call runs a client call, repeating it after an error that may pass
// (each is logged); ErrNotRunning and ErrNotFound are final.
func (l *loader) call(ctx context.Context, op string, r record, f func() error) bool {
	for try := 0; ; try++ {
		r.Began = time.Now().UTC()
		err := f()
		if err == nil {
			r.Op = op
			l.log(r)
			return true
		}
		if ctx.Err() != nil || isTerminalErr(err) {
			return false
		}
		r2 := r
		r2.Op, r2.Of, r2.Err = opError, op, err.Error()
		l.log(r2)
		if try == retries || errors.Is(err, client.ErrNotRunning) || errors.Is(err, client.ErrNotFound) {
			return false
		}
		pause(ctx, 20*time.Millisecond)
	}
}

func pause(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// script plays an instance's part of the campaign, with pauses drawn from
// its seed, then waits for it to end.
func (l *loader) script(ctx context.Context, o *orchestration.Orchestrator[Spec, Result], id string, s Spec) {
	rng := rand.New(rand.NewPCG(s.Seed, 0x5c1))
	ms := func(n int) time.Duration { return time.Duration(rng.IntN(n)) * time.Millisecond }
	raise := func(name string, seq int) bool {
		return l.call(ctx, opRaise, record{ID: id, Event: name, Seq: seq}, func() error {
			return client.RaiseEvent(ctx, l.c, id, name, Event{Seq: seq})
		})
	}
	switch o {
	case Waiter, ContinueAsNew:
		name, gap := eventWaiter, 30
		if o == ContinueAsNew {
			name, gap = eventCAN, 60
		}
		for seq := range s.N {
			if rng.IntN(4) > 0 { // else at once: bursts
				pause(ctx, ms(gap))
			}
			if !raise(name, seq) {
				break
			}
		}
	case Terminate:
		pause(ctx, ms(300))
		l.call(ctx, opTerminate, record{ID: id}, func() error { return l.c.Terminate(ctx, id, "soak: loader terminates") })
	case Suspend:
		pause(ctx, ms(50))
		if l.call(ctx, opSuspend, record{ID: id}, func() error { return l.c.Suspend(ctx, id, "soak: loader suspends") }) {
			pause(ctx, ms(20))
			raise(eventSuspend, 0) // while suspended
			pause(ctx, ms(300))
			l.call(ctx, opResume, record{ID: id}, func() error { return l.c.Resume(ctx, id, "soak: loader resumes") })
		} else {
			raise(eventSuspend, 0)
		}
	}
	st, err := l.c.Wait(ctx, id)
	if err == nil {
		l.log(record{Op: opEnded, ID: id, Status: string(st.RuntimeStatus)})
	}
}

// readRecords reads a loader's log.
func readRecords(path string) ([]record, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // a line cut by the kill of a stuck loader
		}
		rs = append(rs, r)
	}
	return rs, sc.Err()
}
