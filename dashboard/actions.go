package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxFormBytes bounds an action's form body (an event payload, mostly).
const maxFormBytes = 8 << 20

// Bounds of the text fields of the action forms.
const (
	maxEventName = 1024
	maxReason    = 4096
)

// actionForm is an action's form, parsed and checked.
type actionForm struct {
	Action  string
	Event   string // raise: the event name
	Payload []byte // raise: compact JSON
	Reason  string // terminate, suspend, resume
	Confirm bool
}

// actionLabels name the actions, as the buttons and confirmations do.
var actionLabels = map[string]string{
	"raise": "Raise event", "terminate": "Terminate", "suspend": "Suspend", "resume": "Resume", "purge": "Purge",
}

// parseActionForm checks the form of an action; a bad value is a
// *fieldError naming the field.
func parseActionForm(action string, form url.Values) (actionForm, error) {
	f := actionForm{Action: action, Confirm: form.Get("confirm") == "yes"}
	text := func(field string, limit int) (string, error) {
		s := form.Get(field)
		if !utf8.ValidString(s) {
			return "", badField(field, "not valid UTF-8")
		}
		if len(s) > limit {
			return "", badField(field, "%d bytes, over the limit of %d", len(s), limit)
		}
		return s, nil
	}
	var err error
	switch action {
	case "raise":
		if f.Event, err = text("name", maxEventName); err != nil {
			return f, err
		}
		f.Event = strings.TrimSpace(f.Event)
		if f.Event == "" {
			return f, badField("name", "empty: name the event to raise")
		}
		raw := strings.TrimSpace(form.Get("payload"))
		if raw == "" {
			raw = "null"
		}
		if f.Payload, err = parseJSON(raw); err != nil {
			return f, &fieldError{Field: "payload", Err: err}
		}
	case "terminate", "suspend", "resume":
		if f.Reason, err = text("reason", maxReason); err != nil {
			return f, err
		}
		f.Reason = strings.TrimSpace(f.Reason)
	case "purge":
	default:
		return f, badField("action", "%q is not an action", clip(action, 40))
	}
	return f, nil
}

// parseJSON checks that raw is one JSON value and compacts it.
func parseJSON(raw string) ([]byte, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("not valid JSON at byte %d: %w", se.Offset, err)
		}
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("not valid JSON: more than one value (at byte %d)", dec.InputOffset())
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(raw)); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// confirmPage is the body of the confirmation page, shown when an action
// arrives without confirm=yes (the page's JavaScript confirm sets it).
type confirmPage struct {
	ID, Action, Label string
	Form              actionForm
	PayloadText       string
	URL               string
	Back              string
}

func (d *dashboard) action(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	if _, ok := actionLabels[action]; !ok {
		d.notFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			d.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is over the limit of %d bytes.", mbe.Limit))
			return
		}
		d.badRequest(w, r, fmt.Errorf("reading the form: %w", err))
		return
	}
	f, err := parseActionForm(action, r.PostForm)
	if err != nil {
		d.badRequest(w, r, err)
		return
	}
	if !f.Confirm {
		d.render(w, r, http.StatusOK, "confirm", d.newPage("Confirm: "+actionLabels[action], confirmPage{
			ID: id, Action: action, Label: actionLabels[action], Form: f, PayloadText: string(f.Payload),
			URL: d.instanceURL(id) + "/" + action, Back: d.instanceURL(id),
		}))
		return
	}
	ctx := r.Context()
	what := fmt.Sprintf("%s %q", strings.ToLower(actionLabels[action]), id)
	switch action {
	case "raise":
		payload, perr := d.encodePayload(f.Payload)
		if perr != nil {
			d.badRequest(w, r, &fieldError{Field: "payload", Err: perr})
			return
		}
		what = fmt.Sprintf("raise event %q on %q", f.Event, id)
		err = d.c.RaiseEventRaw(ctx, id, f.Event, payload)
	case "terminate":
		err = d.c.Terminate(ctx, id, f.Reason)
	case "suspend":
		err = d.c.Suspend(ctx, id, f.Reason)
	case "resume":
		err = d.c.Resume(ctx, id, f.Reason)
	case "purge":
		err = d.c.Purge(ctx, id)
	}
	if err != nil {
		d.engineError(w, r, what, err)
		return
	}
	d.opts.Logger.InfoContext(ctx, "dashboard: action", "action", action, "instance", id, "event", f.Event)
	if action == "purge" {
		http.Redirect(w, r, d.opts.BasePath+"/?purged="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, d.instanceURL(id)+"?done="+action, http.StatusSeeOther)
}

// encodePayload encodes the form's JSON with the engine's codec: as is
// for the JSON codec, else decoded and encoded again.
func (d *dashboard) encodePayload(js []byte) ([]byte, error) {
	c := d.c.Codec()
	if c == nil || c.Name() == "json" {
		return js, nil
	}
	var v any
	if err := json.Unmarshal(js, &v); err != nil {
		return nil, err
	}
	b, err := c.Encode(v)
	if err != nil {
		return nil, fmt.Errorf("encoding with the %s codec: %w", strconv.Quote(c.Name()), err)
	}
	return b, nil
}
