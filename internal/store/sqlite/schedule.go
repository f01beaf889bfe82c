package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/cloudbutton/cloudbutton/internal/store"
)

var _ store.Schedules = (*Store)(nil)

// CreateSchedule implements store.Schedules.
func (s *Store) CreateSchedule(ctx context.Context, id string, data []byte) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO schedules (id, data, version) VALUES (?, ?, 1)`, id, data)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint") {
			return fmt.Errorf("%w: schedule %q", store.ErrAlreadyExists, id)
		}
		return s.storageFault(fmt.Errorf("sqlite: creating schedule %q: %w", id, err))
	}
	return nil
}

// Schedule implements store.Schedules.
func (s *Store) Schedule(ctx context.Context, id string) (*store.Schedule, error) {
	sc := store.Schedule{ID: id}
	err := s.read.QueryRowContext(ctx, `SELECT data, version FROM schedules WHERE id = ?`, id).Scan(&sc.Data, &sc.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", store.ErrScheduleNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: schedule %q: %w", id, err)
	}
	return &sc, nil
}

// Schedules implements store.Schedules.
func (s *Store) Schedules(ctx context.Context) ([]*store.Schedule, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, data, version FROM schedules ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: schedules: %w", err)
	}
	defer rows.Close()
	var out []*store.Schedule
	for rows.Next() {
		var sc store.Schedule
		if err := rows.Scan(&sc.ID, &sc.Data, &sc.Version); err != nil {
			return nil, fmt.Errorf("sqlite: schedules: %w", err)
		}
		out = append(out, &sc)
	}
	return out, rows.Err()
}

// WriteSchedule implements store.Schedules: the version check, the
// instances, the messages and the new state in one transaction.
func (s *Store) WriteSchedule(ctx context.Context, w store.ScheduleWrite) ([]string, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.storageFault(fmt.Errorf("sqlite: begin: %w", err))
	}
	defer tx.Rollback()
	var version int64
	err = tx.QueryRowContext(ctx, `SELECT version FROM schedules WHERE id = ?`, w.ID).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("%w: %q", store.ErrScheduleNotFound, w.ID)
	case err != nil:
		return nil, s.storageFault(fmt.Errorf("sqlite: schedule %q: %w", w.ID, err))
	case version != w.Version:
		return nil, fmt.Errorf("%w: %q is at version %d, not %d", store.ErrConflict, w.ID, version, w.Version)
	}
	var created []string
	insInst, insMsg := tx.StmtContext(ctx, s.stmts.insertInstance), tx.StmtContext(ctx, s.stmts.insertMsg)
	for i := range w.Starts {
		st := &w.Starts[i]
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM instances WHERE id = ?`, st.Instance.ID).Scan(&exists)
		if err == nil {
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, s.storageFault(fmt.Errorf("sqlite: schedule %q: %w", w.ID, err))
		}
		if err := insertInstance(ctx, insInst, &st.Instance); err != nil {
			return nil, s.storageFault(err)
		}
		st.Start.InstanceID = st.Instance.ID
		if err := insertMessage(ctx, insMsg, &st.Start); err != nil {
			return nil, s.storageFault(err)
		}
		created = append(created, st.Instance.ID)
	}
	for i := range w.Messages {
		if err := insertMessage(ctx, insMsg, &w.Messages[i]); err != nil {
			return nil, s.storageFault(err)
		}
	}
	if w.Data == nil {
		_, err = tx.ExecContext(ctx, `DELETE FROM schedules WHERE id = ?`, w.ID)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE schedules SET data = ?, version = version + 1 WHERE id = ?`, w.Data, w.ID)
	}
	if err != nil {
		return nil, s.storageFault(fmt.Errorf("sqlite: schedule %q: %w", w.ID, err))
	}
	if err := tx.Commit(); err != nil {
		return nil, s.storageFault(fmt.Errorf("sqlite: schedule %q: commit: %w", w.ID, err))
	}
	return created, nil
}
