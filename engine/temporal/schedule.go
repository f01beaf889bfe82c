package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/schedule"
)

// Schedules on Temporal are Temporal Schedules: see the package doc
// (Schedules) for the mapping and what differs from the embedded engine.
var _ client.Schedules = (*Engine)(nil)

// memoSchedule is the memo key of the definition as given.
const memoSchedule = "cloudbutton.schedule"

// scheduleMemo is the definition kept in the memo.
type scheduleMemo struct {
	Spec          client.ScheduleSpec  `json:"spec"`
	Overlap       client.OverlapPolicy `json:"overlap"`
	CatchupWindow time.Duration        `json:"catchupWindow"`
	Limit         int                  `json:"limit,omitempty"`
}

var overlapToTemporal = map[client.OverlapPolicy]enumspb.ScheduleOverlapPolicy{
	client.OverlapSkip:           enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	client.OverlapBufferOne:      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	client.OverlapAllowAll:       enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
	client.OverlapCancelPrevious: enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
}

func (e *Engine) scheduleErr(err error, id string) error {
	var nf *serviceerror.NotFound
	var inv *serviceerror.InvalidArgument
	switch {
	case errors.As(err, &nf):
		return fmt.Errorf("%w: %q", client.ErrScheduleNotFound, id)
	case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		return fmt.Errorf("%w: %q", client.ErrScheduleExists, id)
	case errors.As(err, &inv):
		return fmt.Errorf("temporal: schedule %q: %w: %v", id, client.ErrInvalidSchedule, err)
	}
	return fmt.Errorf("temporal: schedule %q: %w", id, err)
}

// CreateScheduleRaw implements client.Schedules.
func (e *Engine) CreateScheduleRaw(ctx context.Context, o client.ScheduleOptions) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	if _, err := schedule.Validate(o); err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	if err := e.checkName(o.Orchestrator); err != nil {
		return err
	}
	if err := codec.CheckSize(e.opts.Limits, fmt.Sprintf("input of schedule %q", o.ID), o.Input); err != nil {
		return err
	}
	if o.CatchupWindow == 0 {
		o.CatchupWindow = client.DefaultCatchupWindow
	}
	spec := tclient.ScheduleSpec{Jitter: o.Spec.Jitter, TimeZoneName: o.Spec.TimeZone}
	if o.Spec.Cron != "" {
		spec.CronExpressions = []string{o.Spec.Cron}
	} else {
		spec.Intervals = []tclient.ScheduleIntervalSpec{{Every: o.Spec.Every}}
	}
	memo, err := json.Marshal(scheduleMemo{Spec: o.Spec, Overlap: o.Overlap, CatchupWindow: o.CatchupWindow, Limit: o.Limit})
	if err != nil {
		return err
	}
	_, err = e.tc.ScheduleClient().Create(ctx, tclient.ScheduleOptions{
		ID:   o.ID,
		Spec: spec,
		Action: &tclient.ScheduleWorkflowAction{
			ID: o.ID, Workflow: o.Orchestrator, Args: []any{o.Input}, TaskQueue: e.opts.TaskQueue,
		},
		Overlap:          overlapToTemporal[o.Overlap],
		CatchupWindow:    o.CatchupWindow,
		Paused:           o.Paused,
		Note:             o.Note,
		RemainingActions: o.Limit,
		Memo:             map[string]any{memoSchedule: memo},
	})
	if err != nil {
		return e.scheduleErr(err, o.ID)
	}
	return nil
}

// DescribeSchedule implements client.Schedules.
func (e *Engine) DescribeSchedule(ctx context.Context, id string) (*client.ScheduleInfo, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	d, err := e.tc.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		return nil, e.scheduleErr(err, id)
	}
	info, _ := e.scheduleInfo(id, d)
	return info, nil
}

// scheduleInfo is the client's view of a description; ours reports
// whether the schedule starts on this engine's task queue.
func (e *Engine) scheduleInfo(id string, d *tclient.ScheduleDescription) (*client.ScheduleInfo, bool) {
	info := &client.ScheduleInfo{ID: id, CreatedAt: d.Info.CreatedAt,
		Fired: d.Info.NumActions, Skipped: d.Info.NumActionsSkippedOverlap, Missed: d.Info.NumActionsMissedCatchupWindow}
	ours := false
	if a, ok := d.Schedule.Action.(*tclient.ScheduleWorkflowAction); ok {
		ours = a.TaskQueue == e.opts.TaskQueue
		if name, ok := a.Workflow.(string); ok {
			info.Orchestrator = name
		}
		if len(a.Args) == 1 {
			var in []byte
			if p, ok := a.Args[0].(interface{ GetData() []byte }); ok {
				in = p.GetData()
			}
			info.Input = in
		}
	}
	if m := d.Memo.GetFields()[memoSchedule]; m != nil {
		var raw []byte
		var sm scheduleMemo
		if err := DataConverter(e.opts.Codec).FromPayload(m, &raw); err == nil && json.Unmarshal(raw, &sm) == nil {
			info.Spec, info.Overlap, info.CatchupWindow, info.Limit = sm.Spec, sm.Overlap, sm.CatchupWindow, sm.Limit
		}
	}
	if p := d.Schedule.Policy; p != nil && p.CatchupWindow > 0 {
		info.CatchupWindow = p.CatchupWindow
	}
	if s := d.Schedule.State; s != nil {
		info.Paused, info.Note = s.Paused, s.Note
		if s.LimitedActions {
			info.Remaining = s.RemainingActions
		}
	}
	for _, r := range d.Info.RecentActions {
		if r.StartWorkflowResult != nil {
			info.Recent = append(info.Recent, r.StartWorkflowResult.WorkflowID)
		}
	}
	if !info.Paused && !(info.Limit > 0 && info.Remaining == 0) {
		for _, t := range d.Info.NextActionTimes {
			if len(info.Next) == 5 {
				break
			}
			info.Next = append(info.Next, t.UTC())
		}
	}
	return info, ours
}

// ListSchedules implements client.Schedules: the namespace's schedules
// that start on this engine's task queue.
func (e *Engine) ListSchedules(ctx context.Context) ([]*client.ScheduleInfo, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	it, err := e.tc.ScheduleClient().List(ctx, tclient.ScheduleListOptions{PageSize: 100})
	if err != nil {
		return nil, fmt.Errorf("temporal: list schedules: %w", err)
	}
	var out []*client.ScheduleInfo
	for it.HasNext() {
		entry, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("temporal: list schedules: %w", err)
		}
		d, err := e.tc.ScheduleClient().GetHandle(ctx, entry.ID).Describe(ctx)
		if err != nil {
			var nf *serviceerror.NotFound
			if errors.As(err, &nf) {
				continue // deleted meanwhile
			}
			return nil, e.scheduleErr(err, entry.ID)
		}
		if info, ours := e.scheduleInfo(entry.ID, d); ours {
			out = append(out, info)
		}
	}
	return out, nil
}

// PauseSchedule implements client.Schedules.
func (e *Engine) PauseSchedule(ctx context.Context, id, note string) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	if err := e.tc.ScheduleClient().GetHandle(ctx, id).Pause(ctx, tclient.SchedulePauseOptions{Note: note}); err != nil {
		return e.scheduleErr(err, id)
	}
	return nil
}

// UnpauseSchedule implements client.Schedules.
func (e *Engine) UnpauseSchedule(ctx context.Context, id, note string) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	if err := e.tc.ScheduleClient().GetHandle(ctx, id).Unpause(ctx, tclient.ScheduleUnpauseOptions{Note: note}); err != nil {
		return e.scheduleErr(err, id)
	}
	return nil
}

// TriggerSchedule implements client.Schedules: Temporal's trigger, with
// the allow-all overlap policy, then a wait until the schedule's workflow
// has started the run (Temporal takes triggers asynchronously), whose id
// it returns.
func (e *Engine) TriggerSchedule(ctx context.Context, id string) (string, error) {
	if err := e.checkOpen(); err != nil {
		return "", err
	}
	h := e.tc.ScheduleClient().GetHandle(ctx, id)
	before, err := h.Describe(ctx)
	if err != nil {
		return "", e.scheduleErr(err, id)
	}
	if err := h.Trigger(ctx, tclient.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}); err != nil {
		return "", e.scheduleErr(err, id)
	}
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		d, err := h.Describe(ctx)
		if err != nil {
			return "", e.scheduleErr(err, id)
		}
		if d.Info.NumActions > before.Info.NumActions && len(d.Info.RecentActions) > 0 {
			if r := d.Info.RecentActions[len(d.Info.RecentActions)-1].StartWorkflowResult; r != nil {
				return r.WorkflowID, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("temporal: trigger of schedule %q: waiting for the run to start: %w", id, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// BackfillSchedule implements client.Schedules. Temporal's backfill
// starts every slot of its ranges; to start each slot once, as the
// embedded engine does, it is given one short range per slot whose
// workflow does not exist yet. It returns the ids of those, which the
// schedule's workflow starts asynchronously.
func (e *Engine) BackfillSchedule(ctx context.Context, id string, start, end time.Time) ([]string, error) {
	if err := e.checkOpen(); err != nil {
		return nil, err
	}
	if !start.Before(end) {
		return nil, fmt.Errorf("temporal: backfill of schedule %q: %w: empty range [%s, %s)", id, client.ErrInvalidSchedule,
			start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
	}
	h := e.tc.ScheduleClient().GetHandle(ctx, id)
	d, err := h.Describe(ctx)
	if err != nil {
		return nil, e.scheduleErr(err, id)
	}
	info, _ := e.scheduleInfo(id, d)
	spec, err := schedule.Compile(info.Spec)
	if err != nil {
		return nil, fmt.Errorf("temporal: schedule %q: its memo: %w", id, err)
	}
	var ids []string
	var ranges []tclient.ScheduleBackfill
	half := min(500*time.Millisecond, spec.Every/2)
	if spec.Cron != "" {
		half = 500 * time.Millisecond
	}
	for t := spec.Next(start.Add(-time.Nanosecond)); !t.IsZero() && t.Before(end); t = spec.Next(t) {
		if len(ids) == 10000 {
			return nil, fmt.Errorf("temporal: backfill of schedule %q: %w: more than 10000 slots", id, client.ErrInvalidSchedule)
		}
		iid := schedule.InstanceID(id, t)
		_, err := e.tc.DescribeWorkflowExecution(ctx, iid, "")
		var nf *serviceerror.NotFound
		switch {
		case err == nil:
			continue // started already: once each
		case !errors.As(err, &nf):
			return nil, fmt.Errorf("temporal: backfill of schedule %q: %w", id, err)
		}
		ids = append(ids, iid)
		ranges = append(ranges, tclient.ScheduleBackfill{Start: t.Add(-half), End: t.Add(half), Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL})
	}
	if len(ranges) == 0 {
		return nil, nil
	}
	if err := h.Backfill(ctx, tclient.ScheduleBackfillOptions{Backfill: ranges}); err != nil {
		return nil, e.scheduleErr(err, id)
	}
	return ids, nil
}

// DeleteSchedule implements client.Schedules.
func (e *Engine) DeleteSchedule(ctx context.Context, id string) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	if err := e.tc.ScheduleClient().GetHandle(ctx, id).Delete(ctx); err != nil {
		return e.scheduleErr(err, id)
	}
	return nil
}
