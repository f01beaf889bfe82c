package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

var _ store.Rewinder = (*Store)(nil)

// Rewind implements store.Rewinder in one transaction.
func (s *Store) Rewind(ctx context.Context, rewrites []store.Rewrite, purge []string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.storageFault(fmt.Errorf("sqlite: begin: %w", err))
	}
	defer tx.Rollback()
	now := time.Now().UnixNano()
	for _, id := range purge {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM instances WHERE id = ?`, id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return s.storageFault(fmt.Errorf("sqlite: rewind: %w", err))
		}
		if !store.Terminal(status) {
			return fmt.Errorf("sqlite: rewind: %w: %q is %s", store.ErrInstanceChanged, id, status)
		}
		if err := purgeTx(ctx, tx, id); err != nil {
			return s.storageFault(err)
		}
	}
	c := committer{ctx: ctx, tx: tx, hist: tx.StmtContext(ctx, s.stmts.insertHistory),
		histBulk: tx.StmtContext(ctx, s.stmts.insertHistoryBulk), insMsg: tx.StmtContext(ctx, s.stmts.insertMsg), now: now}
	for _, r := range rewrites {
		res, err := tx.ExecContext(ctx, `UPDATE instances SET status = ?, output = NULL, failure = NULL, completed_at = 0,
			updated_at = ?, activities_done = ?, activities_total = ? WHERE id = ? AND status = ? AND generation = ?`,
			store.StatusPending, now, r.Progress.Done, r.Progress.Total, r.InstanceID, r.Status, r.Generation)
		if err != nil {
			return s.storageFault(fmt.Errorf("sqlite: rewind of %q: %w", r.InstanceID, err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var status string
			var gen int
			err := tx.QueryRowContext(ctx, `SELECT status, generation FROM instances WHERE id = ?`, r.InstanceID).Scan(&status, &gen)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlite: rewind: %w: %q", store.ErrNotFound, r.InstanceID)
			}
			return fmt.Errorf("sqlite: rewind: %w: %q is %s (generation %d)", store.ErrInstanceChanged, r.InstanceID, status, gen)
		}
		for _, q := range []string{`DELETE FROM history WHERE instance_id = ?`, `DELETE FROM inbox WHERE instance_id = ?`,
			`DELETE FROM attempts WHERE instance_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, r.InstanceID); err != nil {
				return s.storageFault(fmt.Errorf("sqlite: rewind of %q: %w", r.InstanceID, err))
			}
		}
		if err := c.history(r.InstanceID, r.History); err != nil {
			return s.storageFault(fmt.Errorf("sqlite: rewind of %q: %w", r.InstanceID, err))
		}
		for i := range r.Messages {
			m := r.Messages[i]
			m.InstanceID = r.InstanceID
			if err := insertMessage(ctx, c.insMsg, &m); err != nil {
				return s.storageFault(fmt.Errorf("sqlite: rewind of %q: %w", r.InstanceID, err))
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return s.storageFault(fmt.Errorf("sqlite: commit: %w", err))
	}
	return nil
}

// Parked implements store.Rewinder.
func (s *Store) Parked(ctx context.Context, id string) ([]replay.Event, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT event FROM inbox WHERE instance_id = ? AND visible_at >= ? ORDER BY id`, id, nanos(store.Parked))
	if err != nil {
		return nil, fmt.Errorf("sqlite: parked messages of %q: %w", id, err)
	}
	defer rows.Close()
	var out []replay.Event
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("sqlite: parked messages of %q: %w", id, err)
		}
		ev, err := decodeEvent(b)
		if err != nil {
			return nil, fmt.Errorf("%w: a parked message of %q: %v", store.ErrCorrupt, id, err)
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}
