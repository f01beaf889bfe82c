package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
	"github.com/cloudbutton/cloudbutton/internal/telemetry"
	"github.com/cloudbutton/cloudbutton/internal/timeline"
)

// Client returns the engine as a client.Client.
func (e *Engine) Client() client.Client { return e }

// hosted reports whether the worker of this process or, from another
// process, the last worker that ran registers name, with the names it
// registers. Without any worker yet, every name counts as hosted.
func (e *Engine) hosted(ctx context.Context, name string) (bool, []string, error) {
	e.mu.Lock()
	reg := e.reg
	e.mu.Unlock()
	var names []string
	if reg != nil {
		names = reg.OrchestratorNames()
	} else {
		var err error
		if names, err = e.store.Registered(ctx); err != nil {
			return false, nil, err
		}
		if len(names) == 0 {
			return true, nil, nil
		}
	}
	return slices.Contains(names, name), names, nil
}

// validText refuses ids and names that are not valid UTF-8: they could not
// round-trip through history (any valid string does, control characters
// included).
func validText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("embedded: %s %q is not valid UTF-8", what, s)
	}
	return nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// StartRaw implements client.Client.
func (e *Engine) StartRaw(ctx context.Context, name string, input []byte, opts client.StartOptions) (string, error) {
	if name == "" {
		return "", errors.New("embedded: start: empty orchestrator name")
	}
	if err := validText("orchestrator name", name); err != nil {
		return "", err
	}
	if err := validText("instance id", opts.InstanceID); err != nil {
		return "", err
	}
	if err := checkStartKey(opts); err != nil {
		return "", err
	}
	hosted, names, err := e.hosted(ctx, name)
	if err != nil {
		return "", err
	}
	if !hosted && e.opts.CheckNames {
		return "", fmt.Errorf("%w: %q (registered: %s)", client.ErrUnknownName, name, strings.Join(names, ", "))
	}
	if err := codec.CheckSize(e.limits(), fmt.Sprintf("input of orchestration %q", name), input); err != nil {
		return "", err
	}
	id := opts.InstanceID
	if id == "" {
		id = newID()
	}
	replace, generation := false, 0
	if cur, err := e.store.Instance(ctx, id); err == nil {
		switch {
		case opts.Reuse == client.RejectDuplicate:
			return "", fmt.Errorf("%w: %q is %s", client.ErrAlreadyExists, id, cur.Status)
		case !store.Terminal(cur.Status) && opts.Reuse != client.TerminateIfRunning:
			return "", fmt.Errorf("%w: %q is %s (use TerminateIfRunning to replace it)", client.ErrAlreadyExists, id, cur.Status)
		case !store.Terminal(cur.Status):
			if err := e.terminateChildren(ctx, id); err != nil {
				return "", err
			}
		}
		replace, generation = true, cur.Generation+1
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	now := e.clock.Now().UTC()
	// A scheduled start's first step runs at its time: Context.Now, and
	// the timers the step creates, start from it.
	at := now
	if opts.StartAt.After(now) {
		at = opts.StartAt.UTC()
	}
	if opts.Debounce {
		at = now.Add(opts.DedupWindow)
	}
	inst, start := e.newInstance(ctx, id, name, input, generation, hosted, now, at)
	if opts.DedupKey != "" {
		return e.startKeyed(ctx, inst, start, replace, opts, now)
	}
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	if p != nil && opts.StartAt.IsZero() && hosted {
		// With the worker in this process, the instance is created (or
		// replaced, after the steps of the old run still being written)
		// and its first step run in the worker's next group commit.
		if err := p.create(ctx, inst, start.Event, replace); !errors.Is(err, errNoWorker) {
			return id, err
		}
	} else if replace {
		_ = e.statusChanged(ctx, id, "", false)
		if p != nil { // the old run's work stops
			p.runner.cancelInstance(id, generation-1, math.MaxInt64)
		}
	}
	if err := e.store.CreateInstance(ctx, inst, start, replace); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return "", fmt.Errorf("%w: %q", client.ErrAlreadyExists, id)
		}
		return "", err
	}
	e.wake()
	return id, nil
}

// newInstance is a new instance, Pending, and its start message, visible
// at at: what StartRaw and a schedule's slot create.
func (e *Engine) newInstance(ctx context.Context, id, name string, input []byte, generation int, hosted bool, now, at time.Time) (store.Instance, store.Message) {
	inst := store.Instance{ID: id, Name: name, Status: store.StatusPending, Input: input, Generation: generation, CreatedAt: now, UpdatedAt: now}
	if !hosted {
		// Accepted, as on Temporal: it waits for a worker that hosts it
		// (a deploy of new code), and its status says so.
		inst.Blocked = notHosted(name)
	}
	start := store.Message{InstanceID: id, VisibleAt: at,
		Event: replay.Event{Type: replay.OrchestrationStarted, Name: name, InstanceID: id, Generation: generation,
			RunID: e.opts.RunIDs(), Payload: input, Time: at, Trace: replay.NewTraceContext(telemetry.ParentFromContext(ctx))}}
	return inst, start
}

// terminateChildren asks the live sub-orchestrations of an instance that
// is being replaced to terminate (cooperatively, as Terminate does).
func (e *Engine) terminateChildren(ctx context.Context, id string) error {
	children, err := e.store.List(ctx, store.Filter{ParentID: id})
	if err != nil {
		return err
	}
	for _, c := range children {
		if !store.Terminal(c.Status) {
			if err := e.Terminate(ctx, c.ID, "parent replaced"); err != nil && !errors.Is(err, client.ErrNotRunning) {
				return err
			}
		}
	}
	return nil
}

func toStatus(in *store.Instance) *client.Status {
	st := &client.Status{InstanceID: in.ID, Name: in.Name, RuntimeStatus: client.RuntimeStatus(in.Status),
		Input: in.Input, Output: in.Output, CustomStatus: in.CustomStatus, ParentInstanceID: in.ParentID,
		CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt, CompletedAt: in.CompletedAt,
		ActivitiesDone: in.ActivitiesDone, ActivitiesTotal: in.ActivitiesTotal, Blocked: in.Blocked,
		Usage: in.Usage.Client()}
	if in.Failure != nil {
		st.Failure = timeline.Failure(in.Failure)
	}
	return st
}

func (e *Engine) instance(ctx context.Context, id string) (*store.Instance, error) {
	in, err := e.store.Instance(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", client.ErrNotFound, id)
	}
	return in, err
}

// Status implements client.Client, with the usage of the instance's
// sub-orchestrations (one indexed query over its descendants).
func (e *Engine) Status(ctx context.Context, id string) (*client.Status, error) {
	st, err := e.status(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.withSubUsage(ctx, st)
}

// status is Status without the sub-orchestrations' usage (Wait's polls).
func (e *Engine) status(ctx context.Context, id string) (*client.Status, error) {
	in, err := e.instance(ctx, id)
	if err != nil {
		return nil, err
	}
	return toStatus(in), nil
}

func (e *Engine) withSubUsage(ctx context.Context, st *client.Status) (*client.Status, error) {
	sub, err := e.store.SubUsage(ctx, st.InstanceID)
	if err != nil {
		return nil, err
	}
	st.SubOrchestrationUsage = sub.Client()
	return st, nil
}

// Wait implements client.Client. In the worker's process it wakes at once;
// from another process it polls.
func (e *Engine) Wait(ctx context.Context, id string) (*client.Status, error) {
	done, stop := e.watch(id)
	defer func() { stop() }() // the latest watch
	delay := 5 * time.Millisecond
	e.mu.Lock()
	if e.proc != nil {
		// The worker runs here: it wakes the watch; polling is a fallback.
		delay = time.Second
	}
	e.mu.Unlock()
	for {
		st, err := e.status(ctx, id)
		if err != nil {
			return nil, err
		}
		if st.RuntimeStatus.Terminal() {
			return e.withSubUsage(ctx, st)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return st, fmt.Errorf("embedded: waiting for %q: %w", id, ctx.Err())
		case <-done:
			done, stop = e.rewatch(id, stop)
		case <-t.C:
		}
		t.Stop()
		delay = min(delay*2, max(delay, 250*time.Millisecond))
	}
}

func (e *Engine) rewatch(id string, stop func()) (<-chan struct{}, func()) {
	stop()
	return e.watch(id)
}

// RaiseEventRaw implements client.Client. An event for an unknown or
// finished instance is an error (ErrNotFound, ErrNotRunning).
func (e *Engine) RaiseEventRaw(ctx context.Context, id, name string, payload []byte) error {
	if name == "" {
		return errors.New("embedded: raise: empty event name")
	}
	if err := validText("event name", name); err != nil {
		return err
	}
	if err := codec.CheckSize(e.limits(), fmt.Sprintf("payload of event %q", name), payload); err != nil {
		return err
	}
	return e.send(ctx, id, replay.Event{Type: replay.EventRaised, Name: name, Payload: payload})
}

func (e *Engine) send(ctx context.Context, id string, ev replay.Event) error {
	in, err := e.instance(ctx, id)
	if err != nil {
		return err
	}
	if store.Terminal(in.Status) {
		return fmt.Errorf("%w: %q is %s", client.ErrNotRunning, id, in.Status)
	}
	ev.Time = e.clock.Now().UTC()
	// Visible at once (VisibleAt zero): only timers are delayed, and a
	// step that drops an ended run's timers never drops an event.
	if err := e.store.AddMessages(ctx, store.Message{InstanceID: id, Event: ev}); err != nil {
		return err
	}
	e.wake()
	return nil
}

// Terminate implements client.Client: the orchestrator sees ErrCanceled
// in its waits, may clean up, and ends Terminated; sub-orchestrations are
// terminated too.
func (e *Engine) Terminate(ctx context.Context, id, reason string) error {
	if reason == "" {
		reason = "terminated by client"
	}
	if err := validText("termination reason", reason); err != nil {
		return err
	}
	abort := e.holdAttempts(id)
	if err := e.send(ctx, id, replay.Event{Type: replay.TerminationRequested, Name: reason}); err != nil {
		abort()
		return err
	}
	e.terminationSent(ctx, id)
	return nil
}

// holdAttempts is the first half of a termination, before its request is
// written: with the worker in this process, no queued attempt of the
// instance starts from now on. abort undoes it if the request was not
// written.
func (e *Engine) holdAttempts(id string) (abort func()) {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	if p == nil {
		return func() {}
	}
	p.runner.hold(id)
	return func() { p.runner.unhold(id) }
}

// terminationSent is the second half, once the request is written: a
// termination ends a suspension, so that the instance steps again, takes
// the request (its waits return ErrCanceled), and ends.
func (e *Engine) terminationSent(ctx context.Context, id string) {
	_ = e.unsuspend(ctx, id) // an error: it was not suspended
}

// unsuspend sets a suspended instance Running and lets the worker of this
// process step it again (Resume, and a termination).
func (e *Engine) unsuspend(ctx context.Context, id string) error {
	if err := e.store.SetStatus(ctx, id, []string{store.StatusSuspended}, store.StatusRunning); err != nil {
		return err
	}
	_ = e.statusChanged(ctx, id, store.StatusRunning, false)
	e.wake()
	return nil
}

// Suspend implements client.Client.
func (e *Engine) Suspend(ctx context.Context, id, reason string) error {
	if _, err := e.instance(ctx, id); err != nil {
		return err
	}
	if err := e.store.SetStatus(ctx, id, []string{store.StatusPending, store.StatusRunning}, store.StatusSuspended); err != nil {
		return fmt.Errorf("%w: %v", client.ErrNotRunning, err)
	}
	// The worker of this process, if any, makes no step of it once this
	// returns; one of another process stops at its next poll.
	return e.statusChanged(ctx, id, store.StatusSuspended, true)
}

// Resume implements client.Client.
func (e *Engine) Resume(ctx context.Context, id, reason string) error {
	if _, err := e.instance(ctx, id); err != nil {
		return err
	}
	if err := e.unsuspend(ctx, id); err != nil {
		return fmt.Errorf("%w: %v", client.ErrNotRunning, err)
	}
	return nil
}

// statusChanged tells the worker of this process, if any, that an
// instance's status changed outside it; with wait, it returns once the
// worker applied the change (or ctx ends).
func (e *Engine) statusChanged(ctx context.Context, id, status string, wait bool) error {
	e.mu.Lock()
	p := e.proc
	e.mu.Unlock()
	if p == nil {
		return nil
	}
	c := statusChange{id: id, status: status}
	if wait {
		c.done = make(chan struct{})
	}
	p.evictRequest(c)
	if !wait {
		return nil
	}
	select {
	case <-c.done:
		return nil
	case <-p.exited:
		return nil // the worker stopped: the next one reads the status
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Purge implements client.Client.
func (e *Engine) Purge(ctx context.Context, id string) error {
	err := e.store.Purge(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %q", client.ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", client.ErrNotRunning, err)
	}
	return nil
}

// ExportHistory implements client.Client.
func (e *Engine) ExportHistory(ctx context.Context, id string, w io.Writer) error {
	in, err := e.instance(ctx, id)
	if err != nil {
		return err
	}
	hist, err := e.store.History(ctx, id)
	if err != nil {
		return err
	}
	h := replay.History{InstanceID: id, Name: in.Name, Events: hist}
	if !in.Usage.IsZero() {
		h.Usage = in.Usage.Client()
	}
	return replay.WriteHistory(w, h)
}
