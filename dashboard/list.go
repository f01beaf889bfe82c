package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cloudbutton/cloudbutton/client"
)

// statuses are the runtime statuses, in the order the list shows them.
var statuses = []client.RuntimeStatus{
	client.StatusPending, client.StatusRunning, client.StatusSuspended,
	client.StatusCompleted, client.StatusFailed, client.StatusTerminated,
}

// listQuery is the list page's query string, parsed and checked.
type listQuery struct {
	Statuses     []client.RuntimeStatus
	Name         string
	CreatedAfter time.Time
	// PageToken continues the listing (client.Filter.PageToken).
	PageToken string
}

// maxQueryText bounds a free-text query value (and a page token).
const maxQueryText = 1024

// parseListQuery parses the list's query: status (repeated or comma
// separated), name, created_after and page_token. A bad value is a
// *fieldError naming the parameter.
func parseListQuery(v url.Values) (listQuery, error) {
	var q listQuery
	for _, raw := range v["status"] {
		for s := range strings.SplitSeq(raw, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			st, ok := parseStatus(s)
			if !ok {
				return q, badField("status", "%q is not one of %s", clip(s, 40), statusNames())
			}
			if !slices.Contains(q.Statuses, st) {
				q.Statuses = append(q.Statuses, st)
			}
		}
	}
	q.Name = strings.TrimSpace(v.Get("name"))
	if len(q.Name) > maxQueryText {
		return q, badField("name", "longer than %d bytes", maxQueryText)
	}
	if s := strings.TrimSpace(v.Get("created_after")); s != "" {
		t, err := parseTime(s)
		if err != nil {
			return q, badField("created_after", "%v", err)
		}
		q.CreatedAfter = t
	}
	if s := v.Get("page_token"); s != "" {
		if len(s) > maxQueryText {
			return q, badField("page_token", "longer than %d bytes: not a token of this dashboard", maxQueryText)
		}
		q.PageToken = s // the engine checks it
	}
	return q, nil
}

func parseStatus(s string) (client.RuntimeStatus, bool) {
	for _, st := range statuses {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

func statusNames() string {
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// timeLayouts are what created_after accepts: RFC 3339, or a date and a
// time (as an HTML datetime-local input sends) or a date alone, in UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New(strconv.Quote(clip(s, 40)) + " is not a time (want RFC 3339, or 2006-01-02T15:04 in UTC)")
}

// values renders q back as a query, with the paging cursor left out.
func (q listQuery) values() url.Values {
	v := url.Values{}
	for _, s := range q.Statuses {
		v.Add("status", string(s))
	}
	if q.Name != "" {
		v.Set("name", q.Name)
	}
	if !q.CreatedAfter.IsZero() {
		v.Set("created_after", q.CreatedAfter.Format(time.RFC3339))
	}
	return v
}

// listPage is the body of the list page.
type listPage struct {
	Query        listQuery
	CreatedAfter string // the input's value
	Rows         []listRow
	Counts       []statusCount
	CountsURL    string
	Next         string // URL of the next (older) page; empty on the last
	First        string // URL of the first page when not on it
	Notice       string
}

type listRow struct {
	ID, Name    string
	Status      client.RuntimeStatus
	Created     time.Time
	Updated     time.Time
	Duration    string
	Done, Total int
	Parent      string
	Blocked     string
}

// statusCount is one status chip: a count and a link that filters by it.
type statusCount struct {
	Status client.RuntimeStatus
	Count  int
	Capped bool // more than CountLimit
	Href   string
	Active bool
}

func (d *dashboard) list(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if id := strings.TrimSpace(v.Get("id")); id != "" {
		d.search(w, r, id)
		return
	}
	q, err := parseListQuery(v)
	if err != nil {
		d.badRequest(w, r, err)
		return
	}
	ctx := r.Context()
	f := client.Filter{Name: q.Name, Statuses: q.Statuses, CreatedAfter: q.CreatedAfter, PageToken: q.PageToken, Limit: d.opts.PageSize}
	var pg *client.Page
	var counts []statusCount
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		pg, err = d.c.ListPage(gctx, f)
		return err
	})
	g.Go(func() error {
		var err error
		counts, err = d.countStatuses(gctx, q)
		return err
	})
	if err := g.Wait(); err != nil {
		if errors.Is(err, client.ErrBadPageToken) {
			d.badRequest(w, r, &fieldError{Field: "page_token", Err: err})
			return
		}
		d.engineError(w, r, "listing instances", err)
		return
	}
	body := listPage{Query: q, Counts: counts, CountsURL: d.opts.BasePath + "/counts.json?" + q.values().Encode()}
	if p := v.Get("purged"); p != "" {
		body.Notice = "Purged " + strconv.Quote(clip(p, 200)) + "."
	}
	if !q.CreatedAfter.IsZero() {
		body.CreatedAfter = q.CreatedAfter.Format("2006-01-02T15:04")
	}
	if pg.NextPageToken != "" {
		nv := q.values()
		nv.Set("page_token", pg.NextPageToken)
		body.Next = d.opts.BasePath + "/?" + nv.Encode()
	}
	if q.PageToken != "" {
		body.First = d.opts.BasePath + "/?" + q.values().Encode()
	}
	now := time.Now()
	for _, s := range pg.Instances {
		body.Rows = append(body.Rows, listRow{
			ID: s.InstanceID, Name: s.Name, Status: s.RuntimeStatus, Created: s.CreatedAt, Updated: s.UpdatedAt,
			Duration: fmtDuration(elapsed(s, now)), Done: s.ActivitiesDone, Total: s.ActivitiesTotal,
			Parent: s.ParentInstanceID, Blocked: s.Blocked,
		})
	}
	d.render(w, r, http.StatusOK, "list", d.newPage("Instances", body))
}

// search opens the instance of an exact id, or answers 404.
func (d *dashboard) search(w http.ResponseWriter, r *http.Request, id string) {
	if _, err := d.c.Status(r.Context(), id); err != nil {
		if errors.Is(err, client.ErrNotFound) {
			d.fail(w, r, http.StatusNotFound, "There is no instance with id "+strconv.Quote(id)+".")
			return
		}
		d.engineError(w, r, "looking up "+strconv.Quote(id), err)
		return
	}
	http.Redirect(w, r, d.instanceURL(id), http.StatusSeeOther)
}

// countStatuses counts the instances of each status that match q's name
// and creation filters, up to CountLimit each.
func (d *dashboard) countStatuses(ctx context.Context, q listQuery) ([]statusCount, error) {
	out := make([]statusCount, len(statuses))
	g, gctx := errgroup.WithContext(ctx)
	for i, st := range statuses {
		g.Go(func() error {
			sts, err := d.c.List(gctx, client.Filter{Name: q.Name, CreatedAfter: q.CreatedAfter, Statuses: []client.RuntimeStatus{st}, Limit: d.opts.CountLimit + 1})
			if err != nil {
				return err
			}
			v := q.values()
			v.Del("status")
			v.Set("status", string(st))
			out[i] = statusCount{Status: st, Count: min(len(sts), d.opts.CountLimit), Capped: len(sts) > d.opts.CountLimit,
				Href: d.opts.BasePath + "/?" + v.Encode(), Active: slices.Contains(q.Statuses, st)}
			return nil
		})
	}
	return out, g.Wait()
}

// countsJSON is what counts.json answers: counts by status.
type countsJSON struct {
	Counts map[client.RuntimeStatus]countJSON `json:"counts"`
}

type countJSON struct {
	Count  int  `json:"count"`
	Capped bool `json:"capped,omitempty"`
}

func (d *dashboard) counts(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r.URL.Query())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err)
		return
	}
	counts, err := d.countStatuses(r.Context(), q)
	if err != nil {
		writeJSONError(w, http.StatusBadGateway, err)
		return
	}
	out := countsJSON{Counts: map[client.RuntimeStatus]countJSON{}}
	for _, c := range counts {
		out.Counts[c.Status] = countJSON{Count: c.Count, Capped: c.Capped}
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func (d *dashboard) instanceURL(id string) string {
	return d.opts.BasePath + "/instances/" + url.PathEscape(id)
}

// elapsed is how long s ran: to its completion, or to now while live.
func elapsed(s *client.Status, now time.Time) time.Duration {
	end := now
	if s.RuntimeStatus.Terminal() {
		end = s.CompletedAt
		if end.IsZero() {
			end = s.UpdatedAt
		}
	}
	if s.CreatedAt.IsZero() || end.Before(s.CreatedAt) {
		return 0
	}
	return end.Sub(s.CreatedAt)
}
