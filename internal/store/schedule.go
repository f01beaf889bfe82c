package store

import (
	"context"
	"errors"
)

// Sentinel errors of schedules.
var (
	ErrScheduleNotFound = errors.New("store: schedule not found")
	// ErrConflict is returned by WriteSchedule when the schedule changed
	// since it was read (its version moved): nothing was written.
	ErrConflict = errors.New("store: schedule changed concurrently")
)

// Schedule is a schedule as stored: the engine's encoding of its
// definition and state (the store does not read it), and a version that
// each write moves on.
type Schedule struct {
	ID      string
	Data    []byte
	Version int64
}

// ScheduleStart is an instance a schedule write creates, with its start
// message, unless an instance of its id exists (then it is left alone).
type ScheduleStart struct {
	Instance Instance
	Start    Message
}

// ScheduleWrite is one atomic change of a schedule: its new state, the
// instances it starts and the messages it sends (terminating a previous
// run), all or nothing. That is how a slot is started exactly once: its
// instance and the schedule's cursor past it are written together, and a
// write from a stale read fails.
type ScheduleWrite struct {
	ID string
	// Version is the version read; ErrConflict if it moved since.
	Version int64
	// Data is the new state; nil deletes the schedule.
	Data     []byte
	Starts   []ScheduleStart
	Messages []Message
}

// Schedules is the optional capability of a store that keeps schedules
// (both of ours do).
type Schedules interface {
	// CreateSchedule inserts a schedule at version 1; ErrAlreadyExists
	// if the id is taken.
	CreateSchedule(ctx context.Context, id string, data []byte) error
	// Schedule returns a schedule; ErrScheduleNotFound if absent.
	Schedule(ctx context.Context, id string) (*Schedule, error)
	// Schedules returns every schedule, by id.
	Schedules(ctx context.Context) ([]*Schedule, error)
	// WriteSchedule applies w atomically and returns the ids of the
	// instances it created (those of w.Starts that did not exist), in
	// order. ErrScheduleNotFound if the schedule is gone, ErrConflict if
	// its version moved.
	WriteSchedule(ctx context.Context, w ScheduleWrite) (created []string, err error)
}
