package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cloudbutton/cloudbutton/internal/store"
)

// CreateKeyed implements store.Store: the key's row, the instance and
// its start message change in one transaction.
func (s *Store) CreateKeyed(ctx context.Context, inst store.Instance, start store.Message, replace bool, key store.StartKey) (string, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("sqlite: %w", err)
	}
	defer tx.Rollback()
	var holder string
	var expires int64
	err = tx.QueryRowContext(ctx, `SELECT k.instance_id, k.expires_at FROM start_keys k JOIN instances i ON i.id = k.instance_id
		WHERE k.key = ?`, key.Key).Scan(&holder, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return "", fmt.Errorf("sqlite: start key %q: %w", key.Key, err)
	case expires > nanos(key.Now) && !key.Debounce:
		return holder, nil
	case expires > nanos(key.Now):
		moved, err := s.debounce(ctx, tx, holder, start, key)
		if err != nil {
			return "", err
		}
		if moved {
			return holder, tx.Commit()
		}
	}
	if err := s.createTx(ctx, tx, inst, start, replace); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO start_keys (key, instance_id, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET instance_id = excluded.instance_id, expires_at = excluded.expires_at`,
		key.Key, inst.ID, nanos(key.Expires)); err != nil {
		return "", fmt.Errorf("sqlite: start key %q: %w", key.Key, err)
	}
	return inst.ID, tx.Commit()
}

// debounce moves the not yet started holder's start to start (its input
// and time) and reports whether it did: false if the holder has started.
func (s *Store) debounce(ctx context.Context, tx *sql.Tx, holder string, start store.Message, key store.StartKey) (bool, error) {
	var status string
	var generation int
	if err := tx.QueryRowContext(ctx, `SELECT status, generation FROM instances WHERE id = ?`, holder).Scan(&status, &generation); err != nil {
		return false, fmt.Errorf("sqlite: %w", err)
	}
	if status != store.StatusPending {
		return false, nil
	}
	var msgID int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM inbox WHERE instance_id = ? AND visible_at > ? ORDER BY id LIMIT 1`,
		holder, nanos(key.Now)).Scan(&msgID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // its start is visible: the worker may be starting it
	} else if err != nil {
		return false, fmt.Errorf("sqlite: %w", err)
	}
	ev := start.Event
	ev.InstanceID, ev.Generation = holder, generation
	b, err := encodeEvent(&ev)
	if err != nil {
		return false, err
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE inbox SET event = ?, visible_at = ? WHERE id = ?`, []any{b, nanos(start.VisibleAt), msgID}},
		{`UPDATE instances SET input = ?, updated_at = ? WHERE id = ?`, []any{ev.Payload, nanos(key.Now), holder}},
		{`UPDATE start_keys SET expires_at = ? WHERE key = ?`, []any{nanos(key.Expires), key.Key}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return false, fmt.Errorf("sqlite: debounce %q: %w", holder, err)
		}
	}
	return true, nil
}
