package replay

import (
	"fmt"

	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
)

// handlers are an instance's query and update handlers, registered by its
// code as it runs (so a replay registers them again, at the same points).
type handlers struct {
	queries map[string]core.QueryHandler
	updates map[string]core.UpdateHandler
	// reading is set while a query handler or a validator runs: the code
	// may read state then, not change it (see readOnly).
	reading string
	// rejected are the updates of the current step that were refused.
	rejected []Rejection
}

// Rejection is an update refused before anything was recorded.
type Rejection struct {
	UpdateID string
	// Err is a *core.HandlerError: ErrUnknownHandler or ErrUpdateRejected.
	Err error
}

// readOnlyViolation is the panic of a state change attempted while a
// query handler or a validator runs; Query and the validator's caller
// recover it.
type readOnlyViolation struct{ what string }

// readOnly refuses a state change (what) while a query handler or a
// validator runs: it unwinds the handler, not the orchestration.
func (x *Instance) readOnly(what string) {
	if x.reading != "" {
		panic(readOnlyViolation{what: what})
	}
}

func (c *coreCtx) SetQueryHandler(name string, h core.QueryHandler) {
	x := c.x
	x.readOnly("register a query handler")
	if h == nil {
		delete(x.queries, name)
		return
	}
	if x.queries == nil {
		x.queries = map[string]core.QueryHandler{}
	}
	x.queries[name] = h
}

func (c *coreCtx) SetUpdateHandler(name string, h core.UpdateHandler) {
	x := c.x
	x.readOnly("register an update handler")
	if h.Handle == nil {
		delete(x.updates, name)
		return
	}
	if x.updates == nil {
		x.updates = map[string]core.UpdateHandler{}
	}
	x.updates[name] = h
}

// Query runs the query handler name on arg against the current state,
// recording nothing. Errors are *core.HandlerError: ErrHandlerNotRunning
// once the run ended, ErrUnknownHandler, or ErrQueryFailed (the handler
// returned an error, panicked, or tried to schedule work or change
// state). The instance is unaffected by any of them.
func (x *Instance) Query(name string, arg []byte) ([]byte, error) {
	herr := func(kind error, msg string) error {
		return &core.HandlerError{Kind: kind, What: "query", Name: name, Message: msg}
	}
	if x.done || !x.Started() {
		return nil, herr(core.ErrHandlerNotRunning, "")
	}
	h, ok := x.queries[name]
	if !ok {
		return nil, herr(core.ErrUnknownHandler, "")
	}
	var out []byte
	msg := x.readOnlyCall("query handler", func() error {
		var err error
		out, err = h(arg)
		return err
	})
	if msg != "" {
		return nil, herr(core.ErrQueryFailed, msg)
	}
	return out, nil
}

// readOnlyCall runs fn in read-only mode and returns what went wrong ("":
// nothing): its error, a panic, or an attempted state change.
func (x *Instance) readOnlyCall(what string, fn func() error) (msg string) {
	x.reading = what
	defer func() {
		x.reading = ""
		switch r := recover().(type) {
		case nil:
		case readOnlyViolation:
			msg = fmt.Sprintf("a %s must not %s", what, r.what)
		default:
			msg = fmt.Sprintf("%s panicked: %v", what, r)
		}
	}()
	if err := fn(); err != nil {
		return err.Error()
	}
	return ""
}

// acceptUpdate applies an UpdateAccepted event: live, it first checks
// that a handler exists and that its validator accepts the argument (a
// refusal goes to rejected, and nothing is recorded); then it records the
// event and starts the handler as a coroutine, which records
// UpdateCompleted when it returns. On replay the recorded acceptance
// stands (validators are not run again); a handler the code no longer
// registers is nondeterminism.
func (x *Instance) acceptUpdate(e *Event) bool {
	h, ok := x.updates[e.Name]
	if !x.replaying {
		reject := func(kind error, msg string) bool {
			x.rejected = append(x.rejected, Rejection{UpdateID: e.UpdateID(),
				Err: &core.HandlerError{Kind: kind, What: "update", Name: e.Name, Message: msg}})
			return false
		}
		if !ok {
			return reject(core.ErrUnknownHandler, "")
		}
		if h.Validate != nil {
			if msg := x.readOnlyCall("validator", func() error { return h.Validate(e.Payload) }); msg != "" {
				return reject(core.ErrUpdateRejected, msg)
			}
		}
	} else if !ok {
		x.nondeterministic(x.seq, describe(e), "no update handler "+quote(e.Name), "the code registers its update handlers before the update was accepted")
		return false
	}
	x.now = e.Time
	x.record(e)
	co := x.sched.spawn(nil)
	ctx := &coreCtx{x: x, co: co, cancelable: true}
	id, name, arg := e.UpdateID(), e.Name, e.Payload
	co.fn = func() {
		out, err := h.Handle(ctx, arg)
		if x.sched.broken.Load() || x.done {
			return
		}
		done := &Event{Type: UpdateCompleted, InstanceID: id, Name: name}
		if err != nil {
			done.Failure = failerr.From(err)
		} else {
			done.Payload = out
		}
		x.record(done)
	}
	return true
}
