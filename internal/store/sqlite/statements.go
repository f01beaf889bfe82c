package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// bulkRows is the number of history rows one bulk insert writes.
const bulkRows = 64

// statements are prepared once on the single write connection and reused
// by every transaction (Tx.StmtContext re-binds them without re-preparing).
type statements struct {
	insertHistory, insertHistoryBulk, insertMsg, deleteMsg, insertInstance, progress *sql.Stmt
}

func (st *statements) prepare(ctx context.Context, db *sql.DB) error {
	var err error
	p := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = db.PrepareContext(ctx, q)
		return s
	}
	st.insertHistory = p(`INSERT INTO history (instance_id, idx, event) VALUES (?, ?, ?)`)
	st.insertHistoryBulk = p(`INSERT INTO history (instance_id, idx, event) VALUES (?, ?, ?)` + strings.Repeat(`, (?, ?, ?)`, bulkRows-1))
	st.insertMsg = p(`INSERT INTO inbox (instance_id, event, visible_at) VALUES (?, ?, ?)`)
	st.deleteMsg = p(`DELETE FROM inbox WHERE id = ?`)
	st.insertInstance = p(`INSERT INTO instances (id, name, status, input, parent_id, parent_task_id, generation, created_at, updated_at, blocked)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	st.progress = p(`UPDATE instances SET updated_at = ?, activities_done = ?, activities_total = ? WHERE id = ?`)
	return err
}

func (st *statements) close() {
	var errs []error
	for _, s := range []*sql.Stmt{st.insertHistory, st.insertHistoryBulk, st.insertMsg, st.deleteMsg, st.insertInstance, st.progress} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	_ = errors.Join(errs...)
}
