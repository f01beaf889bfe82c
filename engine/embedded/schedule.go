package embedded

import (
	"context"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
)

// The engine's schedules (client.Schedules): the worker fires them, each
// slot exactly once even across a crash (its instance is written with the
// schedule's cursor in one transaction), and only one worker runs per
// file, so several processes never double-fire. Clients of any process
// manage them.
var _ client.Schedules = (*Engine)(nil)

// CreateScheduleRaw implements client.Schedules.
func (e *Engine) CreateScheduleRaw(ctx context.Context, opts client.ScheduleOptions) error {
	return e.e.CreateScheduleRaw(ctx, opts)
}

// DescribeSchedule implements client.Schedules.
func (e *Engine) DescribeSchedule(ctx context.Context, id string) (*client.ScheduleInfo, error) {
	return e.e.DescribeSchedule(ctx, id)
}

// ListSchedules implements client.Schedules.
func (e *Engine) ListSchedules(ctx context.Context) ([]*client.ScheduleInfo, error) {
	return e.e.ListSchedules(ctx)
}

// PauseSchedule implements client.Schedules.
func (e *Engine) PauseSchedule(ctx context.Context, id, note string) error {
	return e.e.PauseSchedule(ctx, id, note)
}

// UnpauseSchedule implements client.Schedules.
func (e *Engine) UnpauseSchedule(ctx context.Context, id, note string) error {
	return e.e.UnpauseSchedule(ctx, id, note)
}

// TriggerSchedule implements client.Schedules.
func (e *Engine) TriggerSchedule(ctx context.Context, id string) (string, error) {
	return e.e.TriggerSchedule(ctx, id)
}

// BackfillSchedule implements client.Schedules.
func (e *Engine) BackfillSchedule(ctx context.Context, id string, start, end time.Time) ([]string, error) {
	return e.e.BackfillSchedule(ctx, id, start, end)
}

// DeleteSchedule implements client.Schedules.
func (e *Engine) DeleteSchedule(ctx context.Context, id string) error {
	return e.e.DeleteSchedule(ctx, id)
}
