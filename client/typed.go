package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
	"github.com/cloudbutton/cloudbutton/internal/option"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// Start starts orchestrator o with input in and returns the instance id.
// Options set the instance id, the reuse policy and a scheduled start;
// Start builds the StartOptions of StartRaw from them.
func Start[In, Out any](ctx context.Context, c Client, o *orchestration.Orchestrator[In, Out], in In, opts ...StartOption) (string, error) {
	if o == nil {
		return "", errors.New("client.Start: nil orchestrator")
	}
	var s startSettings
	if err := option.Apply(&s, opts); err != nil {
		return "", fmt.Errorf("client.Start(%q): %w", o.Name(), err)
	}
	data, err := codec.Encode(c.Codec(), unbounded, fmt.Sprintf("input of orchestration %q", o.Name()), in)
	if err != nil {
		return "", err
	}
	return c.StartRaw(ctx, o.Name(), data, s.opts)
}

// Result waits for the instance and decodes its output as o's result. A
// failed or terminated instance gives an *InstanceError.
func Result[In, Out any](ctx context.Context, c Client, o *orchestration.Orchestrator[In, Out], instanceID string) (Out, error) {
	var zero Out
	st, err := c.Wait(ctx, instanceID)
	if err != nil {
		return zero, err
	}
	if st.RuntimeStatus != StatusCompleted {
		return zero, &InstanceError{Status: st}
	}
	return codec.Decode[Out](c.Codec(), fmt.Sprintf("output of orchestration %q", o.Name()), st.Output)
}

// unbounded leaves the size check to the engine, which knows its limit.
var unbounded = codec.Limits{MaxPayload: math.MaxInt}

// RaiseEvent delivers an external event with payload v.
func RaiseEvent[T any](ctx context.Context, c Client, instanceID, name string, v T) error {
	data, err := codec.Encode(c.Codec(), unbounded, fmt.Sprintf("payload of event %q", name), v)
	if err != nil {
		return err
	}
	return c.RaiseEventRaw(ctx, instanceID, name, data)
}

// InstanceError reports an instance that did not complete successfully. It
// unwraps, on every engine and in the test harness alike, to the
// *activity.Error of its failure's type (errors.As); to the
// *orchestration.ActivityError or *orchestration.SubOrchestrationError
// the orchestration failed with, naming the activity or the child; and to
// orchestration.ErrCanceled (terminated), ErrTimeout, ErrPanic or
// ErrNotRegistered where they apply (errors.Is).
type InstanceError struct{ Status *Status }

// Unwrap returns the errors the failure matches.
func (e *InstanceError) Unwrap() []error {
	s := e.Status
	var errs []error
	if f := s.Failure; f != nil {
		switch {
		case f.Activity != "":
			errs = []error{&orchestration.ActivityError{Activity: f.Activity, Type: f.Type, Message: f.Message, Stack: f.Stack, NonRetryable: true}}
		case f.SubOrchestration != "":
			errs = []error{&orchestration.SubOrchestrationError{Orchestration: f.SubOrchestration, Type: f.Type, Message: f.Message, Stack: f.Stack}}
		default:
			errs = failerr.Chain(f.Type, f.Message, f.Stack, true)
		}
	}
	if s.RuntimeStatus == StatusTerminated && !slices.Contains(errs, error(orchestration.ErrCanceled)) {
		errs = append(errs, orchestration.ErrCanceled)
	}
	return errs
}

// Error names the instance, its status and its failure.
func (e *InstanceError) Error() string {
	s := e.Status
	if s.Failure != nil {
		return fmt.Sprintf("orchestration %q (%s) %s: %s: %s", s.InstanceID, s.Name, s.RuntimeStatus, s.Failure.Type, s.Failure.Message)
	}
	return fmt.Sprintf("orchestration %q (%s) %s", s.InstanceID, s.Name, s.RuntimeStatus)
}
