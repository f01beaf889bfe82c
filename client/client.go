// Package client starts, observes and controls orchestrations on any
// engine: start, wait, status, list, raise event, terminate, suspend,
// resume, rewind, purge, history export, queries and updates.
// Application code picks an engine by configuration only; the Client
// interface is the same on all. Cron and interval schedules that start
// orchestrations are an upgrade of Client that both engines implement:
// see SchedulesOf and CreateSchedule.
package client

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/cloudbutton/cloudbutton/codec"
)

// RuntimeStatus is the lifecycle state of an orchestration instance.
type RuntimeStatus string

// Runtime statuses.
const (
	StatusPending    RuntimeStatus = "Pending"    // created, not yet run
	StatusRunning    RuntimeStatus = "Running"    // started, not finished
	StatusSuspended  RuntimeStatus = "Suspended"  // paused by Suspend
	StatusCompleted  RuntimeStatus = "Completed"  // returned a result
	StatusFailed     RuntimeStatus = "Failed"     // returned an error or failed
	StatusTerminated RuntimeStatus = "Terminated" // ended by Terminate
)

// Terminal reports whether s is a final state.
func (s RuntimeStatus) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusTerminated
}

// Sentinel errors; match them with errors.Is.
var (
	ErrNotFound      = errors.New("client: instance not found")
	ErrAlreadyExists = errors.New("client: instance already exists")
	ErrUnknownName   = errors.New("client: no orchestrator registered under that name")
	ErrNotRunning    = errors.New("client: instance is not running")
	ErrEngineClosed  = errors.New("client: engine closed")
	// ErrBadPageToken is a Filter.PageToken that no page of this engine
	// returned (malformed, truncated, or another engine's).
	ErrBadPageToken = errors.New("client: malformed page token")
	// ErrNotRewindable is matched by a Rewind of an instance that did
	// not end Failed or Terminated (it completed, or still runs), or that
	// changed while it was being rewound; nothing was changed.
	ErrNotRewindable = errors.New("client: instance cannot be rewound")
)

// ReusePolicy says what Start does when the instance id is taken.
type ReusePolicy int

const (
	// ReuseIfFinished (the default) starts a new run over an instance
	// that is completed, failed or terminated, and refuses a live one.
	ReuseIfFinished ReusePolicy = iota
	// RejectDuplicate refuses any existing id.
	RejectDuplicate
	// TerminateIfRunning terminates a live instance and starts anew.
	TerminateIfRunning
)

// StartOptions are the options of StartRaw, the engines' side of a start.
// The typed Start builds them from its StartOption values.
type StartOptions struct {
	// InstanceID; empty means a new random id.
	InstanceID string
	// Reuse is the id-reuse policy.
	Reuse ReusePolicy
	// StartAt delays the start (a scheduled start); zero means now.
	StartAt time.Time
	// DedupKey, when set, deduplicates the start (WithDedup) or, with
	// Debounce, debounces it (WithDebounce) over DedupWindow.
	DedupKey    string
	DedupWindow time.Duration
	Debounce    bool
}

// Failure describes why an instance failed.
type Failure struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
	// Activity names the activity, or SubOrchestration the child, whose
	// failure the orchestration failed with (returning its
	// *orchestration.ActivityError or *SubOrchestrationError).
	Activity         string `json:"activity,omitempty"`
	SubOrchestration string `json:"subOrchestration,omitempty"`
}

// Status is a snapshot of an instance.
type Status struct {
	InstanceID       string        `json:"instanceId"`
	Name             string        `json:"name"`
	RuntimeStatus    RuntimeStatus `json:"runtimeStatus"`
	Input            []byte        `json:"input,omitempty"`
	Output           []byte        `json:"output,omitempty"`
	CustomStatus     []byte        `json:"customStatus,omitempty"`
	Failure          *Failure      `json:"failure,omitempty"`
	ParentInstanceID string        `json:"parentInstanceId,omitempty"`
	CreatedAt        time.Time     `json:"createdAt"`
	UpdatedAt        time.Time     `json:"updatedAt"`
	CompletedAt      time.Time     `json:"completedAt,omitzero"`
	// Progress counts activities: completed (or failed) and scheduled.
	ActivitiesDone  int `json:"activitiesDone"`
	ActivitiesTotal int `json:"activitiesTotal"`
	// Blocked says why a live instance makes no progress, e.g. that no
	// worker of the engine registers its orchestrator; empty otherwise.
	Blocked string `json:"blocked,omitempty"`
	// Usage is the billed compute of the instance's own activity attempts
	// (see Usage), over all its runs (continue-as-new): an attempt counts
	// once its outcome is recorded. It is zero when no invoker reported
	// usage (in-process activities), and nil when the engine cannot tell
	// (on Temporal: a running instance that no worker answers for, one
	// closed outside the orchestration, by a Temporal terminate or
	// timeout, and in List).
	Usage *Usage `json:"usage,omitempty"`
	// SubOrchestrationUsage is the Usage of the instance's
	// sub-orchestrations, theirs included, running ones too; nil when the
	// engine cannot tell, and always in List (Status reads it; see each
	// engine). TotalUsage adds it to Usage.
	SubOrchestrationUsage *Usage `json:"subOrchestrationUsage,omitempty"`
}

// Filter selects instances for List and ListPage; zero fields match
// everything.
type Filter struct {
	Name          string
	Statuses      []RuntimeStatus
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// Limit bounds the number of instances: List returns at most Limit
	// (0: all), ListPage pages of at most Limit (0: DefaultPageSize).
	Limit int
	// PageToken continues a listing after the page that returned it as
	// Page.NextPageToken; empty starts at the beginning. Tokens are opaque
	// (URL-safe text) and valid only on the engine that issued them, with
	// the same filter; a malformed one is an error matching
	// ErrBadPageToken.
	PageToken string
}

// DefaultPageSize is the page size of ListPage when Filter.Limit is 0.
const DefaultPageSize = 100

// Page is one page of a listing (ListPage).
type Page struct {
	// Instances are the page's instances, in the engine's list order.
	Instances []*Status
	// NextPageToken continues the listing (Filter.PageToken); empty on
	// the last page.
	NextPageToken string
}

// Client controls orchestrations on one engine. Implementations are safe
// for concurrent use.
type Client interface {
	// StartRaw starts the orchestrator registered as name with encoded
	// input and returns the instance id. Prefer the typed Start.
	StartRaw(ctx context.Context, name string, input []byte, opts StartOptions) (string, error)
	// Status returns a snapshot; ErrNotFound for an unknown id.
	Status(ctx context.Context, instanceID string) (*Status, error)
	// Wait blocks until the instance is terminal (or ctx ends).
	Wait(ctx context.Context, instanceID string) (*Status, error)
	// List returns instances matching f, newest first, from f.PageToken
	// on: at most f.Limit of them, or all.
	List(ctx context.Context, f Filter) ([]*Status, error)
	// ListPage returns one page of the instances matching f, from
	// f.PageToken on, and the token of the next page. Paging through a
	// listing sees every instance that exists throughout, once. The
	// embedded engine pages newest first (keyset paging on creation time
	// and id); Temporal pages in its visibility order (running instances
	// first, then by close time, newest first).
	ListPage(ctx context.Context, f Filter) (*Page, error)
	// RaiseEventRaw delivers an external event with an encoded payload.
	RaiseEventRaw(ctx context.Context, instanceID, name string, payload []byte) error
	// Terminate cancels the instance and its sub-orchestrations: waits in
	// orchestrator code return orchestration.ErrCanceled so it can clean
	// up, and the instance ends Terminated.
	Terminate(ctx context.Context, instanceID, reason string) error
	// Suspend pauses an instance; events queue until Resume.
	Suspend(ctx context.Context, instanceID, reason string) error
	// Resume continues a suspended instance.
	Resume(ctx context.Context, instanceID, reason string) error
	// Rewind restarts a Failed or Terminated instance from its failed
	// step, keeping the results of the steps that succeeded: the current
	// code replays the kept history, the failed steps (and a failed
	// sub-orchestration, rewound too) run again with a fresh attempt
	// count, and the instance is live again. A Completed or live instance is
	// ErrNotRewindable, an unknown one ErrNotFound; either way nothing
	// changes. What each engine keeps is in its documentation.
	Rewind(ctx context.Context, instanceID, reason string) error
	// Purge deletes a finished instance and its history.
	Purge(ctx context.Context, instanceID string) error
	// ExportHistory writes the instance's history as JSON, in the format
	// orchestrationtest replays.
	ExportHistory(ctx context.Context, instanceID string, w io.Writer) error
	// ActivityAttempts lists the attempts of the activity calls of the
	// instance's current run, in schedule order (TaskID, then Attempt);
	// ErrNotFound for an unknown id. What an engine knows of each
	// attempt is in its documentation (see ActivityAttempt).
	ActivityAttempts(ctx context.Context, instanceID string) ([]ActivityAttempt, error)
	// QueryRaw calls the query handler name of a running instance with
	// an encoded argument and returns the encoded result. Prefer the
	// typed Query.
	QueryRaw(ctx context.Context, instanceID, name string, arg []byte) ([]byte, error)
	// UpdateRaw sends the update name with an encoded argument and
	// returns the handler's encoded result once it is recorded. Prefer
	// the typed Update.
	UpdateRaw(ctx context.Context, instanceID, name string, arg []byte) ([]byte, error)
	// Codec is the payload codec of the engine.
	Codec() codec.Codec
}
