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

	HistoryFormat  string
	HistoryHead    []historyRow
	HistoryTail    []historyRow
	HistoryOmitted int
	HistoryTotal   int
	HistoryAllURL  string
	HistoryErr     string

	Timeline     timelineView
	TimelineNote string
	Histograms   []*histogramView
	MapWhy       string

	Children     []childLink
	ChildrenMore int

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
	now := time.Now()
	body := &instancePage{
		S: st, Duration: fmtDuration(elapsed(st, now)),
		Input: viewPayload(st.Input), Output: viewPayload(st.Output), Custom: viewPayload(st.CustomStatus),
		InstanceURL: d.instanceURL(id), LiveURL: d.instanceURL(id) + "/live.json", Done: doneMessages[r.URL.Query().Get("done")],
	}
	hist, herr := d.history(ctx, id)
	if herr != nil {
		if ctx.Err() != nil {
			return
		}
		body.HistoryErr = herr.Error()
		d.opts.Logger.WarnContext(ctx, "dashboard: history", "instance", id, "err", herr)
	}
	d.fillHistory(body, hist, r.URL.Query().Get("history") == "all", id)
	attempts, note, err := d.attempts(ctx, id, hist)
	if err != nil {
		d.engineError(w, r, "activity attempts of "+strconv.Quote(id), err)
		return
	}
	body.TimelineNote = note
	body.Timeline = buildTimeline(attempts, now, d.opts.MaxTimelineBars)
	body.Histograms, body.MapWhy = histograms(st.Name, hist.Children, attempts)
	body.Children = hist.Children
	if len(body.Children) > maxChildrenShown {
		body.ChildrenMore = len(body.Children) - maxChildrenShown
		body.Children = body.Children[:maxChildrenShown]
	}
	body.Version = version(st, attempts)
	d.render(w, r, http.StatusOK, "instance", d.newPage(id, body))
}

func (d *dashboard) fillHistory(body *instancePage, hist historyView, all bool, id string) {
	body.HistoryFormat, body.HistoryTotal = hist.Format, len(hist.Rows)
	rows := hist.Rows
	if n := d.opts.MaxHistoryRows; !all && len(rows) > n {
		body.HistoryHead, body.HistoryTail = rows[:n/2], rows[len(rows)-n/2:]
		body.HistoryOmitted = len(rows) - 2*(n/2)
		body.HistoryAllURL = d.instanceURL(id) + "?history=all#history"
	} else {
		body.HistoryHead = rows
	}
	for _, part := range [][]historyRow{body.HistoryHead, body.HistoryTail} {
		for i := range part {
			part[i].fillDetail()
			if part[i].Child != "" {
				part[i].ChildURL = d.instanceURL(part[i].Child)
			}
		}
	}
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

// attempts lists the instance's activity attempts, with a note on where
// they come from when that limits what the timeline shows.
func (d *dashboard) attempts(_ context.Context, _ string, hist historyView) ([]attempt, string, error) {
	return hist.attempts, "From the history: one bar per activity call, its last attempt, from scheduling to its result.", nil
}

// version changes whenever what a live page shows does: the status and
// the progress (the instance's UpdatedAt moves with every step).
func version(st *client.Status, _ []attempt) string {
	return fmt.Sprintf("%s/%d/%d/%d", st.RuntimeStatus, st.UpdatedAt.UnixNano(), st.ActivitiesDone, st.ActivitiesTotal)
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
	writeJSON(w, http.StatusOK, liveJSON{Status: st.RuntimeStatus, Terminal: st.RuntimeStatus.Terminal(), Version: version(st, nil),
		ActivitiesDone: st.ActivitiesDone, ActivitiesTotal: st.ActivitiesTotal})
}
