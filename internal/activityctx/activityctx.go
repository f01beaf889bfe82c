// Package activityctx carries an activity attempt's facts and heartbeat
// sink in its context.Context: engines and FaaS adapters put them there,
// and package activity reads them for user code (InfoFrom, Heartbeat).
package activityctx

import (
	"context"
	"fmt"
)

// Info is activity.Info, field for field.
type Info struct {
	ActivityName   string `json:"activity"`
	InstanceID     string `json:"instanceId"`
	RunID          string `json:"runId,omitempty"`
	TaskID         int64  `json:"taskId"`
	Attempt        int    `json:"attempt"`
	IdempotencyKey string `json:"idempotencyKey"`
}

// IdempotencyKey builds the key of an attempt:
// "<instance>/<run>/<task id>/<attempt>" ("<instance>/<task id>/<attempt>"
// for a run without an id: one started before runs had them).
func IdempotencyKey(instanceID, runID string, taskID int64, attempt int) string {
	return fmt.Sprintf("%s/%d", TaskKey(instanceID, runID, taskID), attempt)
}

// TaskKey builds the key shared by the attempts of a task:
// "<instance>/<run>/<task id>".
func TaskKey(instanceID, runID string, taskID int64) string {
	if runID == "" {
		return fmt.Sprintf("%s/%d", instanceID, taskID)
	}
	return fmt.Sprintf("%s/%s/%d", instanceID, runID, taskID)
}

type infoKey struct{}

type heartbeatKey struct{}

// WithInfo returns a context carrying info.
func WithInfo(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// InfoFrom returns the Info that ctx carries.
func InfoFrom(ctx context.Context) (Info, bool) {
	info, ok := ctx.Value(infoKey{}).(Info)
	return info, ok
}

// WithHeartbeat returns a context whose heartbeats reach fn.
func WithHeartbeat(ctx context.Context, fn func(details any)) context.Context {
	return context.WithValue(ctx, heartbeatKey{}, fn)
}

// Heartbeat passes details to the context's heartbeat sink, if any.
func Heartbeat(ctx context.Context, details any) {
	if fn, ok := ctx.Value(heartbeatKey{}).(func(any)); ok && fn != nil {
		fn(details)
	}
}
