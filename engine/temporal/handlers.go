package temporal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/failerr"
	"github.com/cloudbutton/cloudbutton/internal/handlerr"
)

// Queries and updates are Temporal's own: a query handler is a
// workflow.SetQueryHandler of the same name, an update handler a
// workflow.SetUpdateHandlerWithOptions with its validator, and the client
// calls QueryWorkflow and UpdateWorkflow (waiting for completion). Their
// errors are mapped onto the client's sentinels.

// updateRejectedType is the application error type of a validator's
// refusal, so that the client tells it from a handler's failure.
const updateRejectedType = "cloudbutton.UpdateRejected"

// acceptedUpdateCompletedWorkflow is the application error type of an
// update whose workflow completed before its handler returned.
const acceptedUpdateCompletedWorkflow = "AcceptedUpdateCompletedWorkflow"

// queryFailedPrefix marks the message of a query handler's failure.
const queryFailedPrefix = "cloudbutton query failed: "

func (c *tctx) SetQueryHandler(name string, h core.QueryHandler) {
	if h == nil { // Temporal cannot remove a handler: it answers as for none
		unknown := errors.New("unknown queryType " + name)
		if err := workflow.SetQueryHandler(c.coro, name, func([]byte) ([]byte, error) { return nil, unknown }); err != nil {
			c.st.logger.Error("temporal: removing a query handler", "query", name, "err", err)
		}
		return
	}
	err := workflow.SetQueryHandler(c.coro, name, func(arg []byte) (out []byte, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%squery handler panicked: %v", queryFailedPrefix, r)
			}
		}()
		out, err = h(arg)
		if err != nil {
			return nil, errors.New(queryFailedPrefix + err.Error())
		}
		return out, nil
	})
	if err != nil {
		c.st.logger.Error("temporal: registering a query handler", "query", name, "err", err)
	}
}

func (c *tctx) SetUpdateHandler(name string, h core.UpdateHandler) {
	st, cancelable := c.st, c.cancelable
	err := workflow.SetUpdateHandlerWithOptions(c.coro, name,
		func(wc workflow.Context, arg []byte) ([]byte, error) {
			out, err := h.Handle(st.newContext(wc, cancelable), arg)
			if err != nil {
				return nil, applicationError(failerr.From(err), true)
			}
			return out, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, arg []byte) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = sdktemporal.NewNonRetryableApplicationError(fmt.Sprintf("validator panicked: %v", r), updateRejectedType, nil)
				}
			}()
			switch {
			case h.Handle == nil: // removed: Temporal cannot, it answers as for none
				return errors.New("unknown update " + name)
			case h.Validate == nil:
				return nil
			}
			if err := h.Validate(arg); err != nil {
				return sdktemporal.NewNonRetryableApplicationError(err.Error(), updateRejectedType, nil)
			}
			return nil
		}})
	if err != nil {
		c.st.logger.Error("temporal: registering an update handler", "update", name, "err", err)
	}
}

func (e *Engine) checkHandlerRequest(what, id, name string, arg []byte) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	switch name {
	case "":
		return fmt.Errorf("temporal: %s of %q: empty handler name", what, id)
	case CustomStatusQuery, statusQuery, controlSignal:
		return fmt.Errorf("temporal: %s of %q: the name %q is reserved", what, id, name)
	}
	return codec.CheckSize(e.opts.Limits, fmt.Sprintf("argument of %s %q", what, name), arg)
}

// QueryRaw implements client.Client with a Temporal query.
func (e *Engine) QueryRaw(ctx context.Context, id, name string, arg []byte) ([]byte, error) {
	if err := e.checkHandlerRequest("query", id, name, arg); err != nil {
		return nil, err
	}
	// A closed workflow is not queried (Temporal would replay it): as on
	// the embedded engine, only a running instance answers.
	resp, err := e.tc.QueryWorkflowWithOptions(ctx, &tclient.QueryWorkflowWithOptionsRequest{WorkflowID: id,
		QueryType: name, Args: []any{arg}, QueryRejectCondition: enumspb.QUERY_REJECT_CONDITION_NOT_OPEN})
	if err != nil {
		return nil, e.handlerError(ctx, err, id, "query", name)
	}
	if r := resp.QueryRejected; r != nil {
		return nil, handlerr.New(client.ErrNotRunning, id, "query", name, "the instance is "+strings.ToLower(strings.TrimPrefix(r.GetStatus().String(), "Workflow_Execution_Status_")))
	}
	var out []byte
	if v := resp.QueryResult; v != nil && v.HasValue() {
		if err := v.Get(&out); err != nil {
			return nil, fmt.Errorf("temporal: query %q of %q: %w", name, id, err)
		}
	}
	return out, nil
}

// UpdateRaw implements client.Client with a Temporal update, waiting for
// its completion.
func (e *Engine) UpdateRaw(ctx context.Context, id, name string, arg []byte) ([]byte, error) {
	if err := e.checkHandlerRequest("update", id, name, arg); err != nil {
		return nil, err
	}
	h, err := e.tc.UpdateWorkflow(ctx, tclient.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name,
		Args: []any{arg}, WaitForStage: tclient.WorkflowUpdateStageCompleted})
	if err != nil {
		return nil, e.handlerError(ctx, err, id, "update", name)
	}
	var out []byte
	if err := h.Get(ctx, &out); err != nil {
		return nil, e.handlerError(ctx, err, id, "update", name)
	}
	return out, nil
}

// handlerError maps the error of a query or an update onto the client's
// sentinels.
func (e *Engine) handlerError(ctx context.Context, err error, id, what, name string) error {
	var app *sdktemporal.ApplicationError
	var qf *serviceerror.QueryFailed
	var nf *serviceerror.NotFound
	msg := err.Error()
	switch {
	case errors.As(err, &app) && app.Type() == updateRejectedType:
		return handlerr.New(client.ErrUpdateRejected, id, what, name, app.Message())
	case strings.Contains(msg, "unknown update "+name) || strings.Contains(msg, "unknown queryType "+name):
		return handlerr.New(client.ErrUnknownHandler, id, what, name, "")
	case errors.As(err, &app) && app.Type() == acceptedUpdateCompletedWorkflow:
		return handlerr.New(client.ErrNotRunning, id, what, name, "the instance ended before the update's handler returned")
	case errors.As(err, &app):
		return handlerr.UpdateFailed(id, name, failureFromError(err))
	case errors.As(err, &qf):
		return handlerr.New(client.ErrQueryFailed, id, what, name, strings.TrimPrefix(qf.Message, queryFailedPrefix))
	case errors.As(err, &nf) || strings.Contains(msg, "workflow execution already completed"):
		if _, derr := e.tc.DescribeWorkflowExecution(ctx, id, ""); derr == nil {
			return handlerr.New(client.ErrNotRunning, id, what, name, "the instance has ended")
		}
		return fmt.Errorf("%w: %q", client.ErrNotFound, id)
	}
	return fmt.Errorf("temporal: %s %q of %q: %w", what, name, id, err)
}
