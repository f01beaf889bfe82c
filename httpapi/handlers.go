package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/errkind"
)

// start: POST /instances {name, id?, input, reuse?, startAt?}.
func (a *api) start(w http.ResponseWriter, r *http.Request) error {
	var req StartRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	if req.Name == "" {
		return badField("name", "name: missing: want the orchestrator's registered name")
	}
	input, err := a.payloads.read("input", req.Input)
	if err != nil {
		return err
	}
	opts := client.StartOptions{InstanceID: req.ID}
	switch req.Reuse {
	case "", "finished":
		opts.Reuse = client.ReuseIfFinished
	case "reject":
		opts.Reuse = client.RejectDuplicate
	case "terminate":
		opts.Reuse = client.TerminateIfRunning
	default:
		return badField("reuse", "reuse: %q: want finished, reject or terminate", req.Reuse)
	}
	if req.StartAt != "" {
		if opts.StartAt, err = time.Parse(time.RFC3339Nano, req.StartAt); err != nil {
			return badField("startAt", "startAt: %q: want an RFC 3339 time", req.StartAt)
		}
	}
	id, err := a.c.StartRaw(r.Context(), req.Name, input, opts)
	if err != nil {
		return err
	}
	return a.accepted(w, id)
}

// accepted answers 202 with the instance's links and its Location.
func (a *api) accepted(w http.ResponseWriter, id string) error {
	l := links(a.base, id)
	w.Header().Set("Location", l.Status)
	return writeJSON(w, http.StatusAccepted, Accepted{InstanceID: id, Links: l})
}

// status: GET /instances/{id}.
func (a *api) status(w http.ResponseWriter, r *http.Request) error {
	st, err := a.c.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a.instance(st))
}

// listParams are the query parameters of GET /instances.
var listParams = []string{"status", "name", "created_after", "created_before", "page_token", "limit"}

// list: GET /instances?status=&name=&created_after=&created_before=&page_token=&limit=.
func (a *api) list(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, listParams...); err != nil {
		return err
	}
	f := client.Filter{Name: q.Get("name"), PageToken: q.Get("page_token"), Limit: DefaultListLimit}
	for _, v := range q["status"] {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			st, ok := runtimeStatus(s)
			if !ok {
				return badField("status", "status: %q: want Pending, Running, Suspended, Completed, Failed or Terminated", s)
			}
			f.Statuses = append(f.Statuses, st)
		}
	}
	var err error
	if f.CreatedAfter, err = timeParam(q, "created_after"); err != nil {
		return err
	}
	if f.CreatedBefore, err = timeParam(q, "created_before"); err != nil {
		return err
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxListLimit {
			return badField("limit", "limit: %q: want a number from 1 to %d", s, MaxListLimit)
		}
		f.Limit = n
	}
	page, err := a.c.ListPage(r.Context(), f)
	if err != nil {
		if errors.Is(err, client.ErrBadPageToken) {
			return errkind.With(errkind.BadInput, &fieldError{"page_token", err})
		}
		return err
	}
	out := InstanceList{Instances: make([]*Instance, len(page.Instances)), NextPageToken: page.NextPageToken}
	for i, st := range page.Instances {
		out.Instances[i] = a.instance(st)
	}
	if page.NextPageToken != "" {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("page_token", page.NextPageToken)
		out.Next = a.base + "/instances?" + next.Encode()
	}
	return writeJSON(w, http.StatusOK, out)
}

func runtimeStatus(s string) (client.RuntimeStatus, bool) {
	for _, st := range []client.RuntimeStatus{client.StatusPending, client.StatusRunning, client.StatusSuspended,
		client.StatusCompleted, client.StatusFailed, client.StatusTerminated} {
		if strings.EqualFold(s, string(st)) {
			return st, true
		}
	}
	return "", false
}

func timeParam(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badField(name, "%s: %q: want an RFC 3339 time, e.g. 2026-01-02T15:04:05Z", name, s)
	}
	return t, nil
}

// onlyParams refuses query parameters other than names (a typo would
// otherwise be a silent no-op).
func onlyParams(q url.Values, names ...string) error {
	for k := range q {
		known := false
		for _, n := range names {
			known = known || k == n
		}
		if !known {
			return badField(k, "unknown query parameter %q; known: %s", k, strings.Join(names, ", "))
		}
	}
	return nil
}

// history: GET /instances/{id}/history, the export of client.ExportHistory
// (the CLI's history --json).
func (a *api) history(w http.ResponseWriter, r *http.Request) error {
	var buf bytes.Buffer
	if err := a.c.ExportHistory(r.Context(), r.PathValue("id"), &buf); err != nil {
		return err
	}
	return writeRaw(w, http.StatusOK, "application/json", bytes.TrimRight(buf.Bytes(), "\n"))
}

// wait: GET /instances/{id}/wait?timeout=: 200 with the instance once it
// has ended; 202 with its current status when the timeout passes first.
func (a *api) wait(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "timeout"); err != nil {
		return err
	}
	timeout := a.opts.DefaultWait
	if s := q.Get("timeout"); s != "" {
		d, err := parseTimeout(s)
		if err != nil || d < 0 || d > a.opts.MaxWait {
			return badField("timeout", "timeout: %q: want a duration from 0 to %s (e.g. 30s, or seconds: 30)", s, a.opts.MaxWait)
		}
		timeout = d
	}
	id := r.PathValue("id")
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	st, err := a.c.Wait(ctx, id)
	if err == nil {
		return writeJSON(w, http.StatusOK, a.instance(st))
	}
	if r.Context().Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// The timeout passed first: the instance as it is now.
	if st, err = a.c.Status(r.Context(), id); err != nil {
		return err
	}
	if st.RuntimeStatus.Terminal() { // it ended just now
		return writeJSON(w, http.StatusOK, a.instance(st))
	}
	w.Header().Set("Location", links(a.base, id).Wait)
	return writeJSON(w, http.StatusAccepted, a.instance(st))
}

// parseTimeout reads a Go duration ("30s", "2m") or whole seconds ("30").
func parseTimeout(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// raise: POST /instances/{id}/events/{name}; the body is the payload.
func (a *api) raise(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if tl := tooLargeError(err); tl != nil {
			return tl
		}
		return fmt.Errorf("reading the body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = nil
	} else if !json.Valid(body) {
		return badField("body", "the body is not valid JSON: want the event's payload as JSON (%s)", syntaxDetail(body))
	}
	payload, err := a.payloads.read("body", body)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := a.c.RaiseEventRaw(r.Context(), id, r.PathValue("name"), payload); err != nil {
		return err
	}
	return a.accepted(w, id)
}

// syntaxDetail says where body stops being JSON.
func syntaxDetail(body []byte) string {
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("at byte %d: %v", se.Offset, se)
	}
	return fmt.Sprint(err)
}

func (a *api) terminate(w http.ResponseWriter, r *http.Request) error {
	return a.action(w, r, "terminated through the HTTP API", a.c.Terminate)
}

func (a *api) suspend(w http.ResponseWriter, r *http.Request) error {
	return a.action(w, r, "suspended through the HTTP API", a.c.Suspend)
}

func (a *api) resume(w http.ResponseWriter, r *http.Request) error {
	return a.action(w, r, "resumed through the HTTP API", a.c.Resume)
}

// action runs terminate, suspend or resume with the body's reason (or
// reason by default) and answers 202.
func (a *api) action(w http.ResponseWriter, r *http.Request, reason string, do func(ctx context.Context, id, reason string) error) error {
	var req ActionRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if req.Reason != "" {
		reason = req.Reason
	}
	id := r.PathValue("id")
	if err := do(r.Context(), id, reason); err != nil {
		return err
	}
	return a.accepted(w, id)
}

// purge: DELETE /instances/{id}: 204.
func (a *api) purge(w http.ResponseWriter, r *http.Request) error {
	if err := a.c.Purge(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-cache")
	return writeRaw(w, http.StatusOK, "application/json", a.openapi)
}

// decodeBody decodes the JSON object of r's body into v: unknown fields,
// wrong types, trailing data and a body over the limit are errors naming
// the field or the limit. An empty body is an error unless optional.
func decodeBody(r *http.Request, v any, optional bool) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			return nil
		}
		if tl := tooLargeError(err); tl != nil {
			return tl
		}
		return badField("body", "the body has data after its JSON object")
	}
	if tl := tooLargeError(err); tl != nil {
		return tl
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		if optional {
			return nil
		}
		return badField("body", "the body is empty: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badField("body", "the body is not valid JSON: it ends early")
	case errors.As(err, &se):
		return badField("body", "the body is not valid JSON: at byte %d: %v", se.Offset, se)
	case errors.As(err, &te) && te.Field == "":
		return badField("body", "the body is JSON %s: want an object", te.Value)
	case errors.As(err, &te):
		return badField(te.Field, "%s: JSON %s: want a %s", te.Field, te.Value, te.Type)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ := strconv.Unquote(f)
		return badField(name, "unknown field %s", f)
	}
	return badField("body", "the body is not valid: %v", err)
}
