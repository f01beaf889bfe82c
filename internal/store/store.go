// Package store defines what the embedded engine needs from durable
// storage: instances, histories and an inbox of incoming events (with
// visibility times, so timers are delayed messages), with one atomic
// commit per batch of orchestration steps.
//
// There is no task queue: an activity is pending while its
// ActivityScheduled event has no result in history, so the history is the
// queue, and a step that records one result and schedules the next
// activity is one commit of history rows. The SQLite implementation is in
// store/sqlite; storetest is the conformance suite every implementation
// must pass.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
)

// Sentinel errors.
var (
	ErrNotFound      = errors.New("store: instance not found")
	ErrAlreadyExists = errors.New("store: instance already exists")
	ErrSchemaTooNew  = errors.New("store: database schema is newer than this build supports")
	ErrCorrupt       = errors.New("store: database file is corrupt or not a database")
	// ErrStorage is matched by a write that failed for want of storage:
	// a full disk, an I/O error, a file or directory made read-only. The
	// write had no effect; it can be retried as it was once the storage
	// is back.
	ErrStorage = errors.New("store: storage unavailable")
)

// Runtime statuses as stored (the client package's names).
const (
	StatusPending    = "Pending"
	StatusRunning    = "Running"
	StatusSuspended  = "Suspended"
	StatusCompleted  = "Completed"
	StatusFailed     = "Failed"
	StatusTerminated = "Terminated"
)

// Terminal reports whether a stored status is final.
func Terminal(status string) bool {
	return status == StatusCompleted || status == StatusFailed || status == StatusTerminated
}

// Instance is an orchestration instance's metadata.
type Instance struct {
	ID              string
	Name            string
	Status          string
	Input           []byte
	Output          []byte
	CustomStatus    []byte
	Failure         *core.Failure
	ParentID        string
	ParentTaskID    int64
	Generation      int
	CreatedAt       time.Time
	UpdatedAt       time.Time
	CompletedAt     time.Time
	ActivitiesDone  int
	ActivitiesTotal int
	// Blocked says why a live instance makes no progress on the current
	// worker (its orchestrator is not registered there); empty otherwise.
	Blocked string
	// Usage is the billed compute of the instance's own activity attempts,
	// over all its runs (see Step.Usage).
	Usage billing.Usage
}

// Message is an incoming event waiting in an instance's inbox.
type Message struct {
	ID         int64 // assigned by the store
	InstanceID string
	Event      replay.Event
	VisibleAt  time.Time
}

// Update changes an instance's metadata within a step.
type Update struct {
	Status       string // "" keeps it
	Output       []byte
	Failure      *core.Failure
	CustomStatus []byte // nil keeps it
	Input        []byte // continue-as-new: the new input
	Generation   int    // continue-as-new: the new generation (0 keeps it)
	Completed    bool   // sets CompletedAt
	// Progress, when set, replaces the activity counters.
	Progress *Progress
}

// Progress counts a run's activities.
type Progress struct{ Done, Total int }

// Step is everything one orchestration step changes, committed atomically
// with the other steps of its batch.
type Step struct {
	InstanceID string
	// Purge deletes the instance and everything of it first (its id is
	// being reused for a new run, created in NewInstances).
	Purge bool
	// ResetHistory deletes the history first (continue-as-new).
	ResetHistory bool
	// Events are appended to the history.
	Events []replay.Event
	Update *Update
	// ConsumedMessages are deleted from the inbox.
	ConsumedMessages []int64
	// DropPending deletes the instance's delayed messages (timers): it
	// ended, or continued as new.
	DropPending bool
	NewMessages []Message
	// NewInstances are created (sub-orchestrations), each with its start
	// message in NewMessages.
	NewInstances []Instance
	// Attempts are written (replacing a task's previous one);
	// ClearAttempts deletes those of tasks that have their result. A
	// purge, a history reset or the end of the run deletes all of them.
	Attempts      []Attempt
	ClearAttempts []int64
	// Usage is added to the instance's Usage: the billed compute of the
	// attempts whose outcome (result, failure, or retry) this step
	// records. Continue-as-new keeps the sum; a purge resets it.
	Usage billing.Usage
}

// Attempt is the durable retry state of one activity task: its current
// attempt, when that attempt may start, whether (and when) it started,
// and the task's earlier attempts, failed and retried. A task without one
// is at attempt 1, not started.
type Attempt struct {
	TaskID    int64
	Attempt   int
	DueAt     time.Time
	Started   bool
	StartedAt time.Time
	Retried   []replay.AttemptRecord
}

// Filter selects instances.
type Filter struct {
	Name          string
	Statuses      []string
	CreatedAfter  time.Time
	CreatedBefore time.Time
	ParentID      string
	Limit         int
	// After starts the listing after this position in List's order
	// (created_at descending, then id ascending): keyset paging.
	After *ListKey
}

// ListKey is an instance's position in List's order.
type ListKey struct {
	CreatedAt time.Time
	ID        string
}

// StartKey is the key of a deduplicated or debounced start. While an
// entry holds the key (until Expires, and while its instance exists):
//
//   - a deduplicated start creates nothing and returns the holder;
//   - a debounced start, if the holder has not started yet (Pending, its
//     start message not visible at Now), replaces the holder's input and
//     start message with its own (its payload and visibility time), moves
//     Expires, and returns the holder; if the holder has started, it
//     creates inst, which holds the key from then on.
//
// A free key is taken by inst, until Expires.
type StartKey struct {
	Key      string
	Now      time.Time
	Expires  time.Time
	Debounce bool
}

// Store is durable storage for the embedded engine. Implementations are
// safe for concurrent use; several processes may use one store, but only
// one worker (see LockWorker).
type Store interface {
	// CreateInstance inserts inst with its start message. If the id
	// exists: replace it when replace is true (its history and
	// messages are deleted), else ErrAlreadyExists.
	CreateInstance(ctx context.Context, inst Instance, start Message, replace bool) error
	// CreateKeyed is CreateInstance under a start key, in one
	// transaction; see StartKey. It returns the id of the instance that
	// holds the key afterwards: inst's, or the holder's (nothing created).
	CreateKeyed(ctx context.Context, inst Instance, start Message, replace bool, key StartKey) (string, error)
	// Instance returns an instance; ErrNotFound if absent.
	Instance(ctx context.Context, id string) (*Instance, error)
	// List returns instances matching f, newest first (created_at
	// descending, then id ascending).
	List(ctx context.Context, f Filter) ([]*Instance, error)
	// History returns an instance's history (current run), in order.
	History(ctx context.Context, id string) ([]replay.Event, error)
	// AddMessages inserts inbox messages.
	AddMessages(ctx context.Context, msgs ...Message) error
	// ReadyMessages returns up to limit messages visible at now, in
	// insertion order, skipping suspended instances, instances of
	// orchestrators the worker does not host (SetRegistered) and the ids
	// in skip.
	ReadyMessages(ctx context.Context, now time.Time, limit int, skip map[int64]bool) ([]Message, error)
	// NextVisible returns the earliest visibility time of a message that
	// is not yet visible (zero if none).
	NextVisible(ctx context.Context, now time.Time) (time.Time, error)
	// Commit applies steps atomically.
	Commit(ctx context.Context, steps []Step) error
	// SetStatus changes an instance's status to to if it is one of from
	// (suspend, resume), atomically.
	SetStatus(ctx context.Context, id string, from []string, to string) error
	// Purge deletes a finished instance and everything of it.
	Purge(ctx context.Context, id string) error
	// SubUsage returns the Usage of the instance's sub-orchestrations,
	// theirs included (its descendants, created since the instance was:
	// not those of a run it replaced); zero if it has none.
	SubUsage(ctx context.Context, id string) (billing.Usage, error)
	// Attempts returns the retry state of an instance's tasks, by task id.
	Attempts(ctx context.Context, id string) (map[int64]Attempt, error)
	// SetRegistered records the orchestrator names the worker hosts
	// (replacing the previous worker's), marks the live instances of
	// other names Blocked with the reason, and clears that mark on those
	// it hosts. ReadyMessages skips the messages of instances it does
	// not host. Registered returns the names.
	SetRegistered(ctx context.Context, names []string) error
	// Quarantine sets an instance aside because a row of it does not
	// decode (ErrCorrupt): it is marked Blocked with the reason, and
	// ReadyMessages skips its messages. SetRegistered (a worker's start)
	// lifts every quarantine, so that the next worker tries again.
	// ReadyMessages quarantines the instance of a message that does not
	// decode itself.
	Quarantine(ctx context.Context, id, reason string) error
	// SuspendedSince returns the ids of the suspended instances changed
	// at or after since: how a worker learns of a Suspend made by a client
	// of another process.
	SuspendedSince(ctx context.Context, since time.Time) ([]string, error)
	Registered(ctx context.Context) ([]string, error)
	// LockWorker takes the single-worker lock; release it with the
	// returned function. It fails if another process holds it.
	LockWorker() (release func(), err error)
	Close() error
}

// QuarantineReason is what Blocked says of a quarantined instance.
func QuarantineReason(reason string) string {
	return "quarantined, a row of it is corrupt: " + reason
}

// WorkerProber is implemented by stores that can tell whether a worker
// holds their worker lock (LockWorker), in this process or another,
// without taking it from one that starts meanwhile.
type WorkerProber interface {
	WorkerRunning() (bool, error)
}
