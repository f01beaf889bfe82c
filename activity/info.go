package activity

import (
	"context"

	"github.com/cloudbutton/cloudbutton/internal/activityctx"
)

// Info describes the current attempt of an activity.
type Info struct {
	// ActivityName is the registered name.
	ActivityName string `json:"activity"`
	// InstanceID is the orchestration instance that scheduled it.
	InstanceID string `json:"instanceId"`
	// RunID identifies the instance's run (orchestration.Info.RunID):
	// each continue-as-new generation, each reuse of the instance id and
	// each rewind (client.Client.Rewind) has its own. So a step that a
	// rewind runs again has new keys: an API that stored the failed
	// attempt's answer under its key would give it again.
	RunID string `json:"runId,omitempty"`
	// TaskID is the activity's sequence number within the instance.
	TaskID int64 `json:"taskId"`
	// Attempt counts from 1.
	Attempt int `json:"attempt"`
	// IdempotencyKey is "<instance>/<run>/<task id>/<attempt>", unique to
	// the attempt across every run of the instance id. Every attempt has
	// its own, a retry after a crash of the worker included; only an
	// attempt started before the step that scheduled it was committed can
	// run again under the same key (that step is redone after the crash).
	IdempotencyKey string `json:"idempotencyKey"`
}

// TaskKey is the key shared by every attempt of a task, for deduplicating
// side effects across retries: "<instance>/<run>/<task id>".
func (i Info) TaskKey() string { return activityctx.TaskKey(i.InstanceID, i.RunID, i.TaskID) }

// InfoFrom returns the Info of the running attempt; ok is false outside an
// activity.
func InfoFrom(ctx context.Context) (info Info, ok bool) {
	i, ok := activityctx.InfoFrom(ctx)
	return Info(i), ok
}

// Heartbeat reports progress of a long activity. Engines that enforce a
// heartbeat timeout fail an attempt that stops heartbeating; elsewhere it
// is a no-op. Safe for concurrent use.
func Heartbeat(ctx context.Context, details any) { activityctx.Heartbeat(ctx, details) }
