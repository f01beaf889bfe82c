package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// statements are prepared once on the single write connection and reused
// by every transaction (Tx.StmtContext re-binds them without re-preparing).
type statements struct {
	insertHistory, insertTask, deleteTask, insertMsg, deleteMsg, insertInstance *sql.Stmt
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
	st.insertTask = p(`INSERT INTO tasks (id, instance_id, generation, event, attempt, visible_at) VALUES (?, ?, ?, ?, ?, ?)`)
	st.deleteTask = p(`DELETE FROM tasks WHERE id = ?`)
	st.insertMsg = p(`INSERT INTO inbox (instance_id, event, visible_at) VALUES (?, ?, ?)`)
	st.deleteMsg = p(`DELETE FROM inbox WHERE id = ?`)
	st.insertInstance = p(`INSERT INTO instances (id, name, status, input, parent_id, parent_task_id, generation, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	return err
}

func (st *statements) close() {
	var errs []error
	for _, s := range []*sql.Stmt{st.insertHistory, st.insertTask, st.deleteTask, st.insertMsg, st.deleteMsg, st.insertInstance} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	_ = errors.Join(errs...)
}
