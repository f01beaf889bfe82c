package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
)

// maxChildrenShown bounds the sub-orchestration links of a page.
const maxChildrenShown = 200

// instancePage is the body of an instance's page.
type instancePage struct {
	S        *client.Status
	Duration string
	Input    payloadView
	Output   payloadView
	Custom   payloadView

	H historyPart

	Timeline     timelineView
	TimelineNote string
	Histograms   []*histogramView
	MapWhy       string

	InstanceURL string
	LiveURL     string
	Version     string
	Done        string // the action just done, for the flash message
}

// doneMessages are the flash messages after an action (the ?done= value).
var doneMessages = map[string]string{
	"raise": "Event raised.", "terminate": "Termination requested.", "suspend": "Suspension requested.",
	"resume": "Resumption requested.",
}

func (d *dashboard) instance(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	st, err := d.c.Status(ctx, id)
	if err != nil {
		if errors.Is(err, client.ErrNotFound) {
			d.fail(w, r, http.StatusNotFound, "There is no instance with id "+strconv.Quote(id)+".")
			return
		}
		d.engineError(w, r, "status of "+strconv.Quote(id), err)
		return
	}
	body := &instancePage{
		S:     st,
		Input: viewPayload(st.Input), Output: viewPayload(st.Output), Custom: viewPayload(st.CustomStatus),
		InstanceURL: d.instanceURL(id), LiveURL: d.instanceURL(id) + "/live.json", Done: doneMessages[r.URL.Query().Get("done")],
	}
	// The attempts first: an instance with more calls than the history
	// table shows (MaxHistoryRows) has its history loaded on its own
	// (/instances/{id}/history, by the page's script or a link), so that
	// its page is not held up by the export of a long history.
	attempts, aer := d.c.ActivityAttempts(ctx, id)
	if errors.Is(aer, client.ErrNotFound) {
		d.fail(w, r, http.StatusNotFound, "Instance "+strconv.Quote(id)+" was purged.")
		return
	}
	all := r.URL.Query().Get("history") == "all"
	var hist historyView
	if aer == nil && !all && len(attempts) > d.opts.MaxHistoryRows/2 {
		body.H = historyPart{Lazy: true, LazyURL: d.instanceURL(id) + "/history", Calls: callCount(attempts)}
	} else {
		var herr error
		if hist, herr = d.history(ctx, id); herr != nil {
			if ctx.Err() != nil {
				return
			}
			d.opts.Logger.WarnContext(ctx, "dashboard: history", "instance", id, "err", herr)
		}
		body.H = d.historyPart(hist, herr, all, id)
	}
	now := time.Now() // after the reads: no attempt starts after it
	body.Duration = fmtDuration(elapsed(st, now))
	timeline, note := fromClient(attempts), ""
	if aer != nil { // draw what the history records
		timeline = hist.attempts
		note = "From the history: one bar per activity call, its last attempt, from scheduling to its result."
		if !errors.Is(aer, errors.ErrUnsupported) {
			note = "The attempts could not be listed (" + aer.Error() + "). " + note
			d.opts.Logger.WarnContext(ctx, "dashboard: activity attempts", "instance", id, "err", aer)
		}
	}
	body.TimelineNote = note
	body.Timeline = buildTimeline(timeline, now, d.opts.MaxTimelineBars)
	body.Histograms, body.MapWhy = histograms(st.Name, hist.Children, timeline)
	if d.trackAttempts(timeline) && aer == nil {
		body.LiveURL += "?attempts=1"
		body.Version = version(st, timeline)
	} else {
		body.Version = version(st, nil)
	}
	d.render(w, r, http.StatusOK, "instance", d.newPage(id, body))
}

// historyPart is the history table and the sub-orchestration links, on
// an instance's page or a page of their own.
type historyPart struct {
	Format       string
	Head, Tail   []historyRow
	Omitted      int
	Total        int
	AllURL       string
	ExportURL    string
	Err          string
	Children     []childLink
	ChildrenMore int
	// Lazy: the history loads from LazyURL (an instance of Calls calls).
	Lazy    bool
	LazyURL string
	Calls   int
}

// historyPart shows hist: its first and last MaxHistoryRows/2 events
// unless all, and its first maxChildrenShown children.
func (d *dashboard) historyPart(hist historyView, err error, all bool, id string) historyPart {
	h := historyPart{Format: hist.Format, Total: len(hist.Rows), ExportURL: d.instanceURL(id) + "/history.json", Children: hist.Children}
	if err != nil {
		h.Err = err.Error()
	}
	rows := hist.Rows
	if n := d.opts.MaxHistoryRows; !all && len(rows) > n {
		h.Head, h.Tail = rows[:n/2], rows[len(rows)-n/2:]
		h.Omitted = len(rows) - 2*(n/2)
		h.AllURL = d.instanceURL(id) + "/history?history=all"
	} else {
		h.Head = rows
	}
	for _, part := range [][]historyRow{h.Head, h.Tail} {
		for i := range part {
			part[i].fillDetail()
			if part[i].Child != "" {
				part[i].ChildURL = d.instanceURL(part[i].Child)
			}
		}
	}
	if len(h.Children) > maxChildrenShown {
		h.ChildrenMore = len(h.Children) - maxChildrenShown
		h.Children = h.Children[:maxChildrenShown]
	}
	for i := range h.Children {
		h.Children[i].URL = d.instanceURL(h.Children[i].ID)
	}
	return h
}

// historyPage is the body of an instance's history page.
type historyPage struct {
	historyPart
	ID, InstanceURL string
}

// historyPage shows an instance's history and its sub-orchestrations: the
// part of its page that a large instance loads on its own.
func (d *dashboard) historyPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	hist, err := d.history(r.Context(), id)
	if err != nil {
		if errors.Is(err, client.ErrNotFound) {
			d.fail(w, r, http.StatusNotFound, "There is no instance with id "+strconv.Quote(id)+".")
			return
		}
		d.engineError(w, r, "history of "+strconv.Quote(id), err)
		return
	}
	body := historyPage{historyPart: d.historyPart(hist, nil, r.URL.Query().Get("history") == "all", id), ID: id, InstanceURL: d.instanceURL(id)}
	d.render(w, r, http.StatusOK, "history", d.newPage("History of "+id, body))
}

// callCount is the number of activity calls of attempts.
func callCount(attempts []client.ActivityAttempt) int {
	n := 0
	for i := range attempts {
		if i == 0 || attempts[i].TaskID != attempts[i-1].TaskID {
			n++
		}
	}
	return n
}

// history exports and decodes the instance's history.
func (d *dashboard) history(ctx context.Context, id string) (historyView, error) {
	var buf bytes.Buffer
	if err := d.c.ExportHistory(ctx, id, &buf); err != nil {
		return historyView{}, fmt.Errorf("exporting the history: %w", err)
	}
	return decodeHistory(buf.Bytes())
}

// historyJSON serves the instance's export as a download: what
// `cloudbutton history --json` writes, and orchestrationtest replays.
func (d *dashboard) historyJSON(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var buf bytes.Buffer
	if err := d.c.ExportHistory(r.Context(), id, &buf); err != nil {
		d.engineError(w, r, "history of "+strconv.Quote(id), err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": id + ".history.json"}))
	_, _ = w.Write(buf.Bytes())
}

// attemptStates are the timeline's states of the client's.
var attemptStates = map[client.AttemptState]attemptState{
	client.AttemptScheduled: stateScheduled, client.AttemptRunning: stateRunning, client.AttemptCompleted: stateCompleted,
	client.AttemptFailed: stateFailed, client.AttemptTimedOut: stateTimedOut, client.AttemptCanceled: stateCanceled,
}

// fromClient converts the client's attempts for the timeline.
func fromClient(as []client.ActivityAttempt) []attempt {
	out := make([]attempt, len(as))
	for i := range as {
		a := &as[i]
		st, ok := attemptStates[a.State]
		if !ok { // a state of a newer engine: an outcome if it says so
			st = stateCompleted
			if !a.State.Finished() {
				st = stateRunning
			}
		}
		out[i] = attempt{TaskID: a.TaskID, Name: a.Name, Attempt: a.Attempt, Scheduled: a.ScheduledAt,
			Started: a.StartedAt, Finished: a.FinishedAt, State: st}
		if f := a.Failure; f != nil {
			out[i].Failure = f.Type + ": " + f.Message
		}
	}
	return out
}

// version changes whenever what a live page shows does: the status and
// the progress (the instance's UpdatedAt moves with every step), and the
// states of the attempts when the page tracks them (attempts not nil).
func version(st *client.Status, attempts []attempt) string {
	v := fmt.Sprintf("%s/%d/%d/%d", st.RuntimeStatus, st.UpdatedAt.UnixNano(), st.ActivitiesDone, st.ActivitiesTotal)
	if attempts != nil {
		n := map[attemptState]int{}
		for i := range attempts {
			n[attempts[i].State]++
		}
		v += fmt.Sprintf("/%d:%d:%d:%d", len(attempts), n[stateScheduled], n[stateRunning], len(attempts)-n[stateScheduled]-n[stateRunning])
	}
	return v
}

// trackAttempts tells whether a live page follows the attempts' states
// (an attempt that starts moves no step): those of an instance with few
// enough attempts to draw one by one, whose listing is cheap.
func (d *dashboard) trackAttempts(attempts []attempt) bool {
	return len(attempts) <= d.opts.MaxTimelineBars
}

// liveJSON is what live.json answers: enough for the page to know whether
// to refresh, and to stop once the instance has ended.
type liveJSON struct {
	Status          client.RuntimeStatus `json:"status"`
	Terminal        bool                 `json:"terminal"`
	Version         string               `json:"version"`
	ActivitiesDone  int                  `json:"activitiesDone"`
	ActivitiesTotal int                  `json:"activitiesTotal"`
}

func (d *dashboard) live(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	st, err := d.c.Status(ctx, id)
	if err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, client.ErrNotFound) {
			status = http.StatusNotFound
		}
		writeJSONError(w, status, err)
		return
	}
	var attempts []attempt
	if r.URL.Query().Get("attempts") == "1" {
		as, err := d.c.ActivityAttempts(ctx, id)
		if err != nil {
			writeJSONError(w, http.StatusBadGateway, err)
			return
		}
		attempts = fromClient(as)
		if !d.trackAttempts(attempts) { // the instance grew: the page refreshes, and stops asking
			attempts = nil
		}
	}
	writeJSON(w, http.StatusOK, liveJSON{Status: st.RuntimeStatus, Terminal: st.RuntimeStatus.Terminal(), Version: version(st, attempts),
		ActivitiesDone: st.ActivitiesDone, ActivitiesTotal: st.ActivitiesTotal})
}
