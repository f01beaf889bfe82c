// Package handlerr maps the errors of query and update requests onto the
// client package's sentinels: one rule for every engine.
package handlerr

import (
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// ToClient returns err, a *core.HandlerError of the request of instance
// id, as the client error of its kind, naming the instance and the
// handler; other errors are returned as they are.
func ToClient(id string, err error) error {
	var he *core.HandlerError
	if !errors.As(err, &he) {
		return err
	}
	var kind error
	switch {
	case errors.Is(he.Kind, core.ErrUnknownHandler):
		kind = client.ErrUnknownHandler
	case errors.Is(he.Kind, core.ErrUpdateRejected):
		kind = client.ErrUpdateRejected
	case errors.Is(he.Kind, core.ErrQueryFailed):
		kind = client.ErrQueryFailed
	case errors.Is(he.Kind, core.ErrHandlerNotRunning):
		kind = client.ErrNotRunning
	default:
		return err
	}
	return New(kind, id, he.What, he.Name, he.Message)
}

// New is the client error kind of the query or update (what) name of
// instance id, with msg (which may be empty).
func New(kind error, id, what, name, msg string) error {
	if msg == "" {
		return fmt.Errorf("%w: %s %q of instance %q", kind, what, name, id)
	}
	return fmt.Errorf("%w: %s %q of instance %q: %s", kind, what, name, id, msg)
}

// UpdateFailed is the error of an accepted update whose handler failed
// with f.
func UpdateFailed(id, name string, f *core.Failure) error {
	return New(client.ErrUpdateFailed, id, "update", name, f.Type+": "+f.Message)
}
