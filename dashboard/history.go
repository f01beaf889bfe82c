package dashboard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/replay"
)

// Export formats decodeHistory tells apart.
const (
	formatEmbedded = replay.HistoryFormat
	formatTemporal = "temporal"
)

// historyView is an instance's history as the page shows it: rows for the
// table, the children it started, and the activity attempts it records
// (used when the client cannot list attempts).
type historyView struct {
	Format   string
	Rows     []historyRow
	Children []childLink
	attempts []attempt
	// run is the start of the exported run, for offsets.
	run time.Time
}

// historyRow is one event of the table.
type historyRow struct {
	Index    int64
	Time     time.Time
	Offset   time.Duration // since the first event
	Type     string
	Task     string
	Name     string
	Detail   string
	Child    string // a sub-orchestration's instance id
	ChildURL string // its page, set for the rows shown
	Class    string // failed, completed or empty

	// the event, for fillDetail: one of the two
	event *exportedEvent
	attrs map[string]json.RawMessage
}

// childLink is a sub-orchestration the instance started.
type childLink struct {
	ID, Name string
	URL      string // its page, set for the links shown
}

// maxDetail bounds the detail column of one event.
const maxDetail = 300

// decodeHistory decodes an export of either engine: the embedded
// engine's cloudbutton.history/v1, or Temporal's JSON (protojson of a
// history), whose events it renders generically. Anything else is an
// error naming what was read. The rows' details are left to fillDetail,
// for the rows a page shows.
func decodeHistory(data []byte) (historyView, error) {
	format, err := sniffFormat(data)
	if err != nil {
		return historyView{}, err
	}
	switch format {
	case replay.HistoryFormat:
		var h exportedHistory
		if err := json.Unmarshal(data, &h); err != nil {
			return historyView{}, fmt.Errorf("dashboard: reading the history: %w", err)
		}
		if len(h.Events) == 0 { // a scheduled start that has not run yet
			return historyView{Format: formatEmbedded}, nil
		}
		if h.Events[0].Type != replay.OrchestrationStarted {
			return historyView{}, fmt.Errorf("dashboard: history of %q does not begin with %s", clip(h.InstanceID, 60), replay.OrchestrationStarted)
		}
		return embeddedView(h), nil
	case "":
		var h struct {
			Events []map[string]json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal(data, &h); err != nil {
			return historyView{}, fmt.Errorf("dashboard: reading the Temporal history: %w", err)
		}
		if len(h.Events) == 0 {
			return historyView{}, errors.New("dashboard: history has no events")
		}
		return temporalView(h.Events)
	}
	return historyView{}, fmt.Errorf("dashboard: history format %q is not known", clip(format, 60))
}

// sniffFormat reads the "format" of an export without decoding the rest:
// the embedded engine writes it first. Temporal's JSON has none ("").
func sniffFormat(data []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", fmt.Errorf("dashboard: history is not a JSON object (it starts with %q)", clip(string(data[:min(len(data), 20)]), 20))
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("dashboard: history is not a JSON object: %w", err)
		}
		if key == "format" {
			var f string
			if err := dec.Decode(&f); err != nil {
				return "", fmt.Errorf("dashboard: history format: %w", err)
			}
			return f, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", fmt.Errorf("dashboard: history is not a JSON object: %w", err)
		}
		if key == "events" { // Temporal's first key: it has no format
			return "", nil
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", fmt.Errorf("dashboard: history is not a JSON object: %w", err)
	}
	return "", nil
}

// exportedHistory is the part of a cloudbutton.history/v1 export the page
// shows: replay.History with payloads left raw (a page shows a few).
type exportedHistory struct {
	InstanceID string          `json:"instanceId"`
	Name       string          `json:"name"`
	Events     []exportedEvent `json:"events"`
}

type exportedEvent struct {
	Index      int64            `json:"index"`
	Type       replay.EventType `json:"type"`
	Time       time.Time        `json:"time"`
	TaskID     int64            `json:"taskId"`
	Name       string           `json:"name"`
	InstanceID string           `json:"instanceId"`
	ParentID   string           `json:"parentId"`
	Generation int              `json:"generation"`
	Payload    json.RawMessage  `json:"payload"`
	Failure    *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"failure"`
	FireAt  time.Time         `json:"fireAt"`
	Attempt int               `json:"attempt"`
	Version int               `json:"version"`
	Carried []json.RawMessage `json:"carried"`
}

// embeddedView renders a cloudbutton.history/v1 export.
func embeddedView(h exportedHistory) historyView {
	v := historyView{Format: formatEmbedded, Rows: make([]historyRow, 0, len(h.Events))}
	v.run = h.Events[0].Time
	pending := map[int64]int{}  // task id -> index in v.attempts
	names := map[int64]string{} // task id -> activity or child name
	for i := range h.Events {
		e := &h.Events[i]
		row := historyRow{Index: e.Index, Time: e.Time, Offset: e.Time.Sub(v.run), Type: string(e.Type), Name: e.Name, event: e}
		if e.TaskID > 0 {
			row.Task = strconv.FormatInt(e.TaskID, 10)
			if e.Type.Incoming() {
				if row.Name == "" {
					row.Name = names[e.TaskID]
				}
			} else {
				names[e.TaskID] = e.Name
			}
		}
		switch e.Type {
		case replay.SubOrchestrationScheduled:
			row.Child = e.InstanceID
			v.Children = append(v.Children, childLink{ID: e.InstanceID, Name: e.Name})
		case replay.ActivityScheduled:
			pending[e.TaskID] = len(v.attempts)
			v.attempts = append(v.attempts, attempt{TaskID: e.TaskID, Name: e.Name, Attempt: 1, Scheduled: e.Time, State: stateScheduled})
		case replay.ActivityCompleted, replay.ActivityFailed:
			if j, ok := pending[e.TaskID]; ok {
				a := &v.attempts[j]
				a.Finished, a.State = e.Time, stateCompleted
				if e.Attempt > 0 {
					a.Attempt = e.Attempt
				}
				if e.Type == replay.ActivityFailed {
					a.State = stateFailed
					if e.Failure != nil {
						a.Failure = e.Failure.Type + ": " + e.Failure.Message
					}
				}
				delete(pending, e.TaskID)
			}
		}
		switch e.Type {
		case replay.ActivityFailed, replay.SubOrchestrationFailed, replay.OrchestrationFailed, replay.OrchestrationTerminated:
			row.Class = "failed"
		case replay.OrchestrationCompleted:
			row.Class = "completed"
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// fillDetail sets the row's detail column from its event.
func (r *historyRow) fillDetail() {
	switch {
	case r.event != nil:
		r.Detail = embeddedDetail(r.event)
	case r.attrs != nil:
		r.Detail = temporalDetail(r.attrs)
	}
}

func embeddedDetail(e *exportedEvent) string {
	var parts []string
	if e.Type == replay.SubOrchestrationScheduled || e.Type == replay.SubOrchestrationCompleted || e.Type == replay.SubOrchestrationFailed {
		if e.InstanceID != "" {
			parts = append(parts, "child "+e.InstanceID)
		}
	}
	if e.ParentID != "" {
		parts = append(parts, "parent "+e.ParentID)
	}
	if e.Generation > 0 {
		parts = append(parts, fmt.Sprintf("generation %d", e.Generation))
	}
	if !e.FireAt.IsZero() {
		parts = append(parts, "fires at "+fmtTime(e.FireAt))
	}
	if e.Attempt > 1 {
		parts = append(parts, fmt.Sprintf("attempt %d", e.Attempt))
	}
	if e.Version != 0 {
		parts = append(parts, fmt.Sprintf("version %d", e.Version))
	}
	if len(e.Carried) > 0 {
		parts = append(parts, fmt.Sprintf("%d events carried", len(e.Carried)))
	}
	if e.Failure != nil {
		parts = append(parts, e.Failure.Type+": "+e.Failure.Message)
	} else if len(e.Payload) > 0 {
		p := e.Payload
		if c := compactJSON(p); c != nil {
			p = c
		}
		parts = append(parts, clip(string(p), maxDetail))
	}
	return clip(strings.Join(parts, "; "), maxDetail)
}

// temporalEvent is the part of a protojson history event the table uses;
// the attributes are the one field named "*EventAttributes".
type temporalEvent struct {
	ID    string
	Time  time.Time
	Type  string
	Attrs map[string]json.RawMessage
}

// temporalView renders Temporal's JSON generically: type, time and the
// event's attributes (payloads decoded when they are JSON).
func temporalView(evs []map[string]json.RawMessage) (historyView, error) {
	v := historyView{Format: formatTemporal, Rows: make([]historyRow, 0, len(evs))}
	scheduled := map[string]int{} // scheduled event id -> index in v.attempts
	for i, m := range evs {
		e, err := parseTemporalEvent(m)
		if err != nil {
			return historyView{}, fmt.Errorf("dashboard: Temporal history event %d: %w", i, err)
		}
		if i == 0 {
			v.run = e.Time
		}
		idx, _ := strconv.ParseInt(e.ID, 10, 64)
		row := historyRow{Index: idx, Time: e.Time, Offset: e.Time.Sub(v.run), Type: temporalTypeName(e.Type)}
		row.Name = firstString(e.Attrs, "activityType", "workflowType", "signalName", "timerId", "markerName")
		if id := attrString(e.Attrs, "activityId"); id != "" {
			row.Task = id
		}
		switch e.Type {
		case "EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED":
			if id := attrString(e.Attrs, "workflowId"); id != "" {
				row.Child = id
				v.Children = append(v.Children, childLink{ID: id, Name: row.Name})
			}
		case "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED":
			scheduled[e.ID] = len(v.attempts)
			task, _ := strconv.ParseInt(attrString(e.Attrs, "activityId"), 10, 64)
			v.attempts = append(v.attempts, attempt{TaskID: task, Name: row.Name, Attempt: 1, Scheduled: e.Time, State: stateScheduled})
		case "EVENT_TYPE_ACTIVITY_TASK_STARTED", "EVENT_TYPE_ACTIVITY_TASK_COMPLETED", "EVENT_TYPE_ACTIVITY_TASK_FAILED",
			"EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT", "EVENT_TYPE_ACTIVITY_TASK_CANCELED":
			if j, ok := scheduled[attrString(e.Attrs, "scheduledEventId")]; ok {
				a := &v.attempts[j]
				row.Name, row.Task = a.Name, strconv.FormatInt(a.TaskID, 10)
				switch e.Type {
				case "EVENT_TYPE_ACTIVITY_TASK_STARTED":
					a.Started, a.State = e.Time, stateRunning
					if n, err := strconv.Atoi(attrString(e.Attrs, "attempt")); err == nil && n > 0 {
						a.Attempt = n
					}
				case "EVENT_TYPE_ACTIVITY_TASK_COMPLETED":
					a.Finished, a.State = e.Time, stateCompleted
				default:
					a.Finished, a.State = e.Time, stateFailed
					switch e.Type {
					case "EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT":
						a.State = stateTimedOut
					case "EVENT_TYPE_ACTIVITY_TASK_CANCELED":
						a.State = stateCanceled
					}
					a.Failure = clip(attrString(e.Attrs, "failure"), maxDetail)
				}
			}
		}
		if strings.HasSuffix(e.Type, "_FAILED") || strings.HasSuffix(e.Type, "_TIMED_OUT") || strings.HasSuffix(e.Type, "_TERMINATED") {
			row.Class = "failed"
		} else if e.Type == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED" {
			row.Class = "completed"
		}
		row.attrs = e.Attrs
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

func parseTemporalEvent(m map[string]json.RawMessage) (temporalEvent, error) {
	var e temporalEvent
	if err := unmarshalField(m, "eventType", &e.Type); err != nil {
		return e, err
	}
	if e.Type == "" {
		return e, errors.New("no eventType")
	}
	if err := unmarshalField(m, "eventId", &e.ID); err != nil {
		var n int64 // protojson writes int64 as a string; accept a number too
		if unmarshalField(m, "eventId", &n) != nil {
			return e, err
		}
		e.ID = strconv.FormatInt(n, 10)
	}
	if err := unmarshalField(m, "eventTime", &e.Time); err != nil {
		return e, err
	}
	for k, raw := range m {
		if strings.HasSuffix(k, "EventAttributes") {
			if err := json.Unmarshal(raw, &e.Attrs); err != nil {
				return e, fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	return e, nil
}

func unmarshalField(m map[string]json.RawMessage, k string, ptr any) error {
	raw, ok := m[k]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, ptr); err != nil {
		return fmt.Errorf("%s: %w", k, err)
	}
	return nil
}

// temporalTypeName turns EVENT_TYPE_ACTIVITY_TASK_SCHEDULED into
// ActivityTaskScheduled.
func temporalTypeName(t string) string {
	t = strings.TrimPrefix(t, "EVENT_TYPE_")
	var b strings.Builder
	for w := range strings.SplitSeq(strings.ToLower(t), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// attrString reads a string attribute, or the name of a {"name": ...}
// object attribute (activityType, workflowType), or any other value as
// compact JSON.
func attrString(attrs map[string]json.RawMessage, k string) string {
	raw, ok := attrs[k]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var named struct {
		Name *string `json:"name"`
	}
	if json.Unmarshal(raw, &named) == nil && named.Name != nil {
		return *named.Name
	}
	return string(compactJSON(raw))
}

func firstString(attrs map[string]json.RawMessage, keys ...string) string {
	for _, k := range keys {
		if s := attrString(attrs, k); s != "" {
			return s
		}
	}
	return ""
}

// noisyAttrs are attributes the detail column leaves out.
var noisyAttrs = []string{"taskQueue", "identity", "header", "workerVersion", "sdkMetadata", "meteringMetadata",
	"requestId", "historySizeBytes", "originalExecutionRunId", "firstExecutionRunId", "workflowTaskCompletedEventId",
	"activityType", "workflowType", "activityId", "scheduledEventId", "startedEventId", "namespace", "namespaceId"}

// temporalDetail is the attributes as compact key=value pairs, payloads
// decoded.
func temporalDetail(attrs map[string]json.RawMessage) string {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		if !slices.Contains(noisyAttrs, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		if b.Len() > maxDetail {
			break
		}
		val := decodePayloads(attrs[k])
		if s := string(val); s == `"0s"` || s == "{}" || s == `""` || s == "0" || s == "false" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(k + "=" + string(val))
	}
	return clip(b.String(), maxDetail)
}

// decodePayloads replaces Temporal payloads ({"payloads":[{"metadata":
// {"encoding":...},"data":...}]}) in raw by their JSON data, where the
// encoding is json/plain, and compacts the rest.
func decodePayloads(raw json.RawMessage) []byte {
	var p struct {
		Payloads []struct {
			Metadata map[string]string `json:"metadata"`
			Data     string            `json:"data"`
		} `json:"payloads"`
	}
	if json.Unmarshal(raw, &p) == nil && len(p.Payloads) > 0 {
		var parts []string
		for _, pl := range p.Payloads {
			enc, _ := base64.StdEncoding.DecodeString(pl.Metadata["encoding"])
			data, err := base64.StdEncoding.DecodeString(pl.Data)
			if err == nil && string(enc) == "json/plain" && json.Valid(data) {
				parts = append(parts, string(compactJSON(data)))
			} else {
				parts = append(parts, fmt.Sprintf("(%s, %d bytes)", clip(string(enc), 40), len(data)))
			}
		}
		return []byte(strings.Join(parts, ", "))
	}
	if c := compactJSON(raw); c != nil {
		return c
	}
	return raw
}
