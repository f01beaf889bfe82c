package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// Commit implements store.Store: every step of the batch in one
// transaction (group commit).
func (s *Store) Commit(ctx context.Context, steps []store.Step) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.storageFault(fmt.Errorf("sqlite: begin: %w", err))
	}
	defer tx.Rollback()
	c := committer{ctx: ctx, tx: tx,
		hist: tx.StmtContext(ctx, s.stmts.insertHistory), histBulk: tx.StmtContext(ctx, s.stmts.insertHistoryBulk), insMsg: tx.StmtContext(ctx, s.stmts.insertMsg),
		delMsg: tx.StmtContext(ctx, s.stmts.deleteMsg), insInst: tx.StmtContext(ctx, s.stmts.insertInstance),
		progress: tx.StmtContext(ctx, s.stmts.progress),
		now:      time.Now().UnixNano()}
	for i := range steps {
		if err := c.step(&steps[i]); err != nil {
			return s.storageFault(fmt.Errorf("sqlite: commit of %q: %w", steps[i].InstanceID, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return s.storageFault(fmt.Errorf("sqlite: commit: %w", err))
	}
	return nil
}

type committer struct {
	ctx                                               context.Context
	tx                                                *sql.Tx
	hist, histBulk, insMsg, delMsg, insInst, progress *sql.Stmt
	args                                              []any
	now                                               int64
}

func (c *committer) exec(st *sql.Stmt, args ...any) error {
	_, err := st.ExecContext(c.ctx, args...)
	return err
}

func (c *committer) step(s *store.Step) error {
	id := s.InstanceID
	if s.Purge {
		if err := purgeTx(c.ctx, c.tx, id); err != nil {
			return err
		}
	}
	if s.ResetHistory {
		if _, err := c.tx.ExecContext(c.ctx, `DELETE FROM history WHERE instance_id = ?`, id); err != nil {
			return err
		}
	}
	if s.DropPending {
		if _, err := c.tx.ExecContext(c.ctx, `DELETE FROM inbox WHERE instance_id = ? AND visible_at > ?`, id, c.now); err != nil {
			return err
		}
	}
	if err := c.history(id, s.Events); err != nil {
		return err
	}
	for _, m := range s.ConsumedMessages {
		if err := c.exec(c.delMsg, m); err != nil {
			return err
		}
	}
	for _, task := range s.ClearAttempts {
		if _, err := c.tx.ExecContext(c.ctx, `DELETE FROM attempts WHERE instance_id = ? AND task_id = ?`, id, task); err != nil {
			return err
		}
	}
	for _, a := range s.Attempts {
		retried, err := encodeRetried(a.Retried)
		if err != nil {
			return fmt.Errorf("attempts of task %d: %w", a.TaskID, err)
		}
		if _, err := c.tx.ExecContext(c.ctx, `INSERT OR REPLACE INTO attempts (instance_id, task_id, attempt, due_at, started, started_at, retried)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, a.TaskID, a.Attempt, nanos(a.DueAt), a.Started, nanos(a.StartedAt), retried); err != nil {
			return err
		}
	}
	for i := range s.NewInstances {
		if err := insertInstance(c.ctx, c.insInst, &s.NewInstances[i]); err != nil {
			return err
		}
	}
	for i := range s.NewMessages {
		if err := insertMessage(c.ctx, c.insMsg, &s.NewMessages[i]); err != nil {
			return err
		}
	}
	if s.ResetHistory || (s.Update != nil && s.Update.Completed) {
		// Last: the run's retry state goes, written in this step too.
		if _, err := c.tx.ExecContext(c.ctx, `DELETE FROM attempts WHERE instance_id = ?`, id); err != nil {
			return err
		}
	}
	if !s.Usage.IsZero() {
		// Only steps that record billed attempts: the in-process invoker's
		// steps never come here.
		if _, err := c.tx.ExecContext(c.ctx, `UPDATE instances SET usage_invocations = usage_invocations + ?,
			usage_billed_ms = usage_billed_ms + ?, usage_mb_ms = usage_mb_ms + ? WHERE id = ?`,
			s.Usage.Invocations, s.Usage.BilledMs, s.Usage.MBMs, id); err != nil {
			return err
		}
	}
	if s.Update != nil {
		return c.update(id, s.Update)
	}
	return nil
}

func (c *committer) update(id string, u *store.Update) error {
	if u.Status == "" && u.Output == nil && u.Failure == nil && u.CustomStatus == nil && u.Generation == 0 && !u.Completed {
		if u.Progress == nil {
			return nil
		}
		return c.exec(c.progress, c.now, u.Progress.Done, u.Progress.Total, id) // the common step: a prepared statement
	}
	sets := []string{"updated_at = ?"}
	args := []any{c.now}
	if u.Progress != nil {
		sets, args = append(sets, "activities_done = ?", "activities_total = ?"), append(args, u.Progress.Done, u.Progress.Total)
	}
	switch u.Status {
	case "":
	case store.StatusRunning: // a client may have suspended it meanwhile
		sets, args = append(sets, "status = CASE WHEN status = 'Suspended' THEN status ELSE ? END"), append(args, u.Status)
	default:
		sets, args = append(sets, "status = ?"), append(args, u.Status)
	}
	if u.Output != nil {
		sets, args = append(sets, "output = ?"), append(args, u.Output)
	}
	if u.Failure != nil {
		sets, args = append(sets, "failure = ?"), append(args, encodeFailure(u.Failure))
	}
	if u.CustomStatus != nil {
		sets, args = append(sets, "custom_status = ?"), append(args, u.CustomStatus)
	}
	if u.Generation > 0 {
		sets = append(sets, "generation = ?", "input = ?", "output = NULL", "failure = NULL")
		args = append(args, u.Generation, u.Input)
	}
	if u.Completed {
		sets, args = append(sets, "completed_at = ?"), append(args, c.now)
	}
	args = append(args, id)
	_, err := c.tx.ExecContext(c.ctx, `UPDATE instances SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...)
	return err
}

// history appends events, bulkRows rows per statement.
func (c *committer) history(id string, events []replay.Event) error {
	for len(events) > 0 {
		n, st := 1, c.hist
		if len(events) >= bulkRows {
			n, st = bulkRows, c.histBulk
		}
		c.args = c.args[:0]
		for i := range events[:n] {
			b, err := appendEvent(make([]byte, 0, eventSize(&events[i])), &events[i])
			if err != nil {
				return fmt.Errorf("history event %d: %w", events[i].Index, err)
			}
			c.args = append(c.args, id, events[i].Index, b)
		}
		if err := c.exec(st, c.args...); err != nil {
			return fmt.Errorf("history events %d to %d: %w", events[0].Index, events[n-1].Index, err)
		}
		events = events[n:]
	}
	return nil
}

// eventSize is the usual size of e's JSON, so that appendEvent fits it in
// one allocation: an activity's schedule or result, with its payload.
func eventSize(e *replay.Event) int {
	n := 128 + len(e.Payload)
	if e.Attempts != nil {
		n += len(`,"attempts":{"startedAt":""}`) + len(time.RFC3339Nano)
	}
	return n
}
