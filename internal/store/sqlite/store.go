package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/billing"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// ErrWorkerRunning is returned by LockWorker when another process runs a
// worker on the same file.
var ErrWorkerRunning = errors.New("sqlite: another worker is running on this database")

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func encodeEvent(e *replay.Event) ([]byte, error) { return appendEvent(nil, e) }

func decodeEvent(b []byte) (replay.Event, error) {
	var e replay.Event
	err := json.Unmarshal(b, &e)
	return e, err
}

func encodeFailure(f *core.Failure) any {
	if f == nil {
		return nil
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// detached returns ctx without its cancellation, for the store's point
// operations (one instance's rows, one small transaction): the driver
// watches a cancellable context with a goroutine per statement, and
// database/sql with one per transaction, which made a start with a
// cancellable context (an HTTP handler's) 40-70% slower than with
// context.Background in loaded runs on 2 cores, while a statement of
// microseconds gains nothing from being interruptible. A context already done still fails at once; a wait for
// the write lock is bounded by busy_timeout.
func detached(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return context.WithoutCancel(ctx), nil
}

// CreateInstance implements store.Store.
func (s *Store) CreateInstance(ctx context.Context, inst store.Instance, start store.Message, replace bool) error {
	ctx, err := detached(ctx)
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	if err := s.createTx(ctx, tx, inst, start, replace); err != nil {
		return err
	}
	return tx.Commit()
}

// createTx is CreateInstance within tx.
func (s *Store) createTx(ctx context.Context, tx *sql.Tx, inst store.Instance, start store.Message, replace bool) error {
	ev, err := encodeEvent(&start.Event)
	if err != nil {
		return err
	}
	var exists int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM instances WHERE id = ?`, inst.ID).Scan(&exists)
	switch {
	case err == nil && !replace:
		return fmt.Errorf("%w: %q", store.ErrAlreadyExists, inst.ID)
	case err == nil:
		if err := purgeTx(ctx, tx, inst.ID); err != nil {
			return err
		}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: %w", err)
	}
	if err := insertInstance(ctx, tx.StmtContext(ctx, s.stmts.insertInstance), &inst); err != nil {
		return err
	}
	if _, err := tx.StmtContext(ctx, s.stmts.insertMsg).ExecContext(ctx, inst.ID, ev, nanos(start.VisibleAt)); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

func insertInstance(ctx context.Context, st *sql.Stmt, inst *store.Instance) error {
	_, err := st.ExecContext(ctx, inst.ID, inst.Name, inst.Status, inst.Input, inst.ParentID, inst.ParentTaskID,
		inst.Generation, nanos(inst.CreatedAt), nanos(inst.UpdatedAt), inst.Blocked)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint") {
			return fmt.Errorf("%w: %q", store.ErrAlreadyExists, inst.ID)
		}
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

func purgeTx(ctx context.Context, tx *sql.Tx, id string) error {
	for _, q := range []string{
		`DELETE FROM history WHERE instance_id = ?`, `DELETE FROM inbox WHERE instance_id = ?`,
		`DELETE FROM attempts WHERE instance_id = ?`, `DELETE FROM instances WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("sqlite: purge %q: %w", id, err)
		}
	}
	return nil
}

const instanceCols = `id, name, status, input, output, custom_status, failure, parent_id, parent_task_id, generation,
	created_at, updated_at, completed_at, activities_done, activities_total, blocked,
	usage_invocations, usage_billed_ms, usage_mb_ms`

func scanInstance(row interface{ Scan(...any) error }) (*store.Instance, error) {
	var in store.Instance
	var failure sql.NullString
	var created, updated, completed int64
	if err := row.Scan(&in.ID, &in.Name, &in.Status, &in.Input, &in.Output, &in.CustomStatus, &failure,
		&in.ParentID, &in.ParentTaskID, &in.Generation, &created, &updated, &completed,
		&in.ActivitiesDone, &in.ActivitiesTotal, &in.Blocked,
		&in.Usage.Invocations, &in.Usage.BilledMs, &in.Usage.MBMs); err != nil {
		return nil, err
	}
	in.CreatedAt, in.UpdatedAt, in.CompletedAt = fromNanos(created), fromNanos(updated), fromNanos(completed)
	if failure.Valid && failure.String != "" {
		in.Failure = &core.Failure{}
		if err := json.Unmarshal([]byte(failure.String), in.Failure); err != nil {
			return nil, fmt.Errorf("sqlite: instance %q has an undecodable failure: %w", in.ID, err)
		}
	}
	return &in, nil
}

// Instance implements store.Store.
func (s *Store) Instance(ctx context.Context, id string) (*store.Instance, error) {
	ctx, err := detached(ctx)
	if err != nil {
		return nil, err
	}
	in, err := scanInstance(s.getInstance.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %q", store.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: instance %q: %w", id, err)
	}
	return in, nil
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, f store.Filter) ([]*store.Instance, error) {
	var where []string
	var args []any
	if f.Name != "" {
		where, args = append(where, "name = ?"), append(args, f.Name)
	}
	if len(f.Statuses) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(",?", len(f.Statuses)-1)+")")
		for _, st := range f.Statuses {
			args = append(args, st)
		}
	}
	if !f.CreatedAfter.IsZero() {
		where, args = append(where, "created_at > ?"), append(args, nanos(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, nanos(f.CreatedBefore))
	}
	if f.ParentID != "" {
		where, args = append(where, "parent_id = ?"), append(args, f.ParentID)
	}
	if k := f.After; k != nil {
		at := nanos(k.CreatedAt)
		where, args = append(where, "(created_at < ? OR (created_at = ? AND id > ?))"), append(args, at, at, k.ID)
	}
	q := `SELECT ` + instanceCols + ` FROM instances`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list: %w", err)
	}
	defer rows.Close()
	var out []*store.Instance
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// History implements store.Store.
func (s *Store) History(ctx context.Context, id string) ([]replay.Event, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT idx, event FROM history WHERE instance_id = ? ORDER BY idx`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: history of %q: %w", id, err)
	}
	defer rows.Close()
	var out []replay.Event
	for rows.Next() {
		var idx int64
		var b []byte
		if err := rows.Scan(&idx, &b); err != nil {
			return nil, err
		}
		e, err := decodeEvent(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: history of %q, event %d: %v", store.ErrCorrupt, s.path, id, idx, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AddMessages implements store.Store.
func (s *Store) AddMessages(ctx context.Context, msgs ...store.Message) error {
	ctx, err := detached(ctx)
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	st := tx.StmtContext(ctx, s.stmts.insertMsg)
	for i := range msgs {
		if err := insertMessage(ctx, st, &msgs[i]); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func insertMessage(ctx context.Context, st *sql.Stmt, m *store.Message) error {
	ev, err := encodeEvent(&m.Event)
	if err != nil {
		return err
	}
	if _, err := st.ExecContext(ctx, m.InstanceID, ev, nanos(m.VisibleAt)); err != nil {
		return fmt.Errorf("sqlite: inbox of %q: %w", m.InstanceID, err)
	}
	return nil
}

// ReadyMessages implements store.Store.
func (s *Store) ReadyMessages(ctx context.Context, now time.Time, limit int, skip map[int64]bool) ([]store.Message, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT m.id, m.instance_id, m.event, m.visible_at FROM inbox m
		JOIN instances i ON i.id = m.instance_id
		WHERE m.visible_at <= ? AND i.status != 'Suspended' AND i.quarantined = ''
		AND (i.name IN (SELECT name FROM registered) OR NOT EXISTS (SELECT 1 FROM registered))
		ORDER BY m.id LIMIT ?`, nanos(now), limit+len(skip))
	if err != nil {
		return nil, fmt.Errorf("sqlite: inbox: %w", err)
	}
	defer rows.Close()
	var out []store.Message
	for rows.Next() && len(out) < limit {
		var m store.Message
		var b []byte
		var vis int64
		if err := rows.Scan(&m.ID, &m.InstanceID, &b, &vis); err != nil {
			return nil, err
		}
		if skip[m.ID] {
			continue
		}
		if m.Event, err = decodeEvent(b); err != nil {
			reason := fmt.Sprintf("inbox message %d does not decode: %v", m.ID, err)
			if qerr := s.Quarantine(ctx, m.InstanceID, reason); qerr != nil {
				return nil, qerr
			}
			continue
		}
		m.VisibleAt = fromNanos(vis)
		out = append(out, m)
	}
	return out, rows.Err()
}

// NextVisible implements store.Store.
func (s *Store) NextVisible(ctx context.Context, now time.Time) (time.Time, error) {
	var n sql.NullInt64
	if err := s.read.QueryRowContext(ctx, `SELECT MIN(visible_at) FROM inbox WHERE visible_at > ?`, nanos(now)).Scan(&n); err != nil {
		return time.Time{}, fmt.Errorf("sqlite: %w", err)
	}
	if !n.Valid {
		return time.Time{}, nil
	}
	return fromNanos(n.Int64), nil
}

// SetStatus implements store.Store.
func (s *Store) SetStatus(ctx context.Context, id string, from []string, to string) error {
	ctx, err := detached(ctx)
	if err != nil {
		return err
	}
	if len(from) == 0 {
		return errors.New("sqlite: SetStatus: no from status")
	}
	args := []any{to, time.Now().UnixNano(), id}
	for _, f := range from {
		args = append(args, f)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE instances SET status = ?, updated_at = ? WHERE id = ? AND status IN (?`+
		strings.Repeat(",?", len(from)-1)+`)`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		in, err := s.Instance(ctx, id)
		if err != nil {
			return err
		}
		return fmt.Errorf("sqlite: instance %q is %s, not %s", id, in.Status, strings.Join(from, " or "))
	}
	return nil
}

// Purge implements store.Store.
func (s *Store) Purge(ctx context.Context, id string) error {
	ctx, err := detached(ctx)
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	var status string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM instances WHERE id = ?`, id).Scan(&status); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", store.ErrNotFound, id)
		}
		return fmt.Errorf("sqlite: %w", err)
	}
	if !store.Terminal(status) {
		return fmt.Errorf("sqlite: instance %q is %s; terminate it before purging", id, status)
	}
	if err := purgeTx(ctx, tx, id); err != nil {
		return err
	}
	return tx.Commit()
}

// SetRegistered implements store.Store.
func (s *Store) SetRegistered(ctx context.Context, names []string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM registered`); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO registered (name) VALUES (?)`, n); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE instances SET quarantined = '', blocked = CASE
		WHEN name IN (SELECT name FROM registered) THEN ''
		ELSE 'orchestrator "' || name || '" is not registered on the worker' END
		WHERE status IN ('Pending', 'Running', 'Suspended')`); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return tx.Commit()
}

// Registered implements store.Store.
func (s *Store) Registered(ctx context.Context) ([]string, error) {
	ctx, err := detached(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT name FROM registered ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// subUsage sums the usage of an instance's descendants: each level's
// children created since their parent was (a replaced run's children are
// not the new run's); UNION ends a cycle of reused ids.
const subUsage = `WITH RECURSIVE tree(id, created_at) AS (
		SELECT id, created_at FROM instances WHERE id = ?
		UNION
		SELECT c.id, c.created_at FROM instances c JOIN tree t ON c.parent_id = t.id AND c.created_at >= t.created_at
	)
	SELECT COALESCE(SUM(i.usage_invocations), 0), COALESCE(SUM(i.usage_billed_ms), 0), COALESCE(SUM(i.usage_mb_ms), 0)
	FROM instances i JOIN tree t ON i.id = t.id WHERE i.id != ?`

// SubUsage implements store.Store.
func (s *Store) SubUsage(ctx context.Context, id string) (billing.Usage, error) {
	var u billing.Usage
	if err := s.read.QueryRowContext(ctx, subUsage, id, id).Scan(&u.Invocations, &u.BilledMs, &u.MBMs); err != nil {
		return billing.Usage{}, fmt.Errorf("sqlite: usage of the sub-orchestrations of %q: %w", id, err)
	}
	return u, nil
}

// Attempts implements store.Store.
func (s *Store) Attempts(ctx context.Context, id string) (map[int64]store.Attempt, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT task_id, attempt, due_at, started, started_at, retried FROM attempts WHERE instance_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: attempts of %q: %w", id, err)
	}
	defer rows.Close()
	out := map[int64]store.Attempt{}
	for rows.Next() {
		var a store.Attempt
		var due, started int64
		var retried []byte
		if err := rows.Scan(&a.TaskID, &a.Attempt, &due, &a.Started, &started, &retried); err != nil {
			return nil, fmt.Errorf("sqlite: attempts of %q: %w", id, err)
		}
		a.DueAt, a.StartedAt = fromNanos(due), fromNanos(started)
		if len(retried) > 0 {
			if err := json.Unmarshal(retried, &a.Retried); err != nil {
				return nil, fmt.Errorf("%w: %s: attempts of %q, task %d: %v", store.ErrCorrupt, s.path, id, a.TaskID, err)
			}
		}
		out[a.TaskID] = a
	}
	return out, rows.Err()
}

// encodeRetried is the attempts column of retried attempts: NULL for none.
func encodeRetried(rs []replay.AttemptRecord) (any, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	return json.Marshal(rs)
}

// Quarantine implements store.Store.
func (s *Store) Quarantine(ctx context.Context, id, reason string) error {
	reason = store.QuarantineReason(reason)
	if _, err := s.write.ExecContext(ctx, `UPDATE instances SET quarantined = ?, blocked = ? WHERE id = ?`, reason, reason, id); err != nil {
		return s.storageFault(fmt.Errorf("sqlite: quarantining %q: %w", id, err))
	}
	return nil
}

// SuspendedSince implements store.Store.
func (s *Store) SuspendedSince(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM instances WHERE status = 'Suspended' AND updated_at >= ?`, nanos(since))
	if err != nil {
		return nil, fmt.Errorf("sqlite: suspended instances: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: suspended instances: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
