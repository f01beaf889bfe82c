package dashboard

import (
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// embeddedSeed is a small cloudbutton.history/v1 export: a fan-out of
// two, a child, a timer and a failure.
const embeddedSeed = `{"format":"cloudbutton.history/v1","instanceId":"i","name":"o","events":[
{"index":0,"type":"OrchestrationStarted","time":"2026-01-01T00:00:00Z","name":"o","instanceId":"i","payload":{"n":2}},
{"index":1,"type":"ActivityScheduled","time":"2026-01-01T00:00:00.001Z","taskId":1,"name":"a","payload":1},
{"index":2,"type":"ActivityScheduled","time":"2026-01-01T00:00:00.001Z","taskId":2,"name":"a","payload":{"$b64":"AAE="}},
{"index":3,"type":"SubOrchestrationScheduled","time":"2026-01-01T00:00:00.001Z","taskId":3,"name":"c","instanceId":"kid"},
{"index":4,"type":"TimerCreated","time":"2026-01-01T00:00:00.001Z","taskId":4,"fireAt":"2026-01-01T00:01:00Z"},
{"index":5,"type":"ActivityCompleted","time":"2026-01-01T00:00:00.010Z","taskId":1,"attempt":2,"payload":2},
{"index":6,"type":"ActivityFailed","time":"2026-01-01T00:00:00.020Z","taskId":2,"failure":{"type":"Boom","message":"no"}},
{"index":7,"type":"OrchestrationFailed","time":"2026-01-01T00:00:00.030Z","failure":{"type":"Boom","message":"no","stack":"main.go:1"}}]}`

// FuzzDecodeHistory feeds decodeHistory what an engine's export could
// hold, and what it should not: it returns a view or an error, never
// panics, and a view renders (details, timeline, histograms).
func FuzzDecodeHistory(f *testing.F) {
	f.Add([]byte(embeddedSeed))
	if b, err := os.ReadFile("testdata/temporal-greeter.json"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{`{}`, `[]`, `{"format":1}`, `{"events":[{"eventType":"X"}]}`, `{"events":[]}`, `null`, `{"format":"cloudbutton.history/v1","events":[]}`,
		`{"events":[{"eventId":2,"eventTime":"2026-01-01T00:00:00Z","eventType":"EVENT_TYPE_ACTIVITY_TASK_STARTED","activityTaskStartedEventAttributes":{"scheduledEventId":"1","attempt":3}}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeHistory(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dashboard: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		for i := range v.Rows {
			v.Rows[i].fillDetail()
			if len([]rune(v.Rows[i].Detail)) > maxDetail+1 {
				t.Fatalf("row %d: detail of %d runes", i, len([]rune(v.Rows[i].Detail)))
			}
		}
		now := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
		tl := buildTimeline(v.attempts, now, 100)
		if tl.Attempts != len(v.attempts) || tl.Bars > 100 {
			t.Fatalf("timeline of %d attempts: %d attempts, %d bars", len(v.attempts), tl.Attempts, tl.Bars)
		}
		histograms("o", v.Children, v.attempts)
	})
}

// FuzzForms checks the parsers of what a browser sends: the list's query
// and the actions' forms. Bad input is a *fieldError naming a field, and
// a raised payload is always one JSON value.
func FuzzForms(f *testing.F) {
	f.Add("status=Running,failed&name=x&created_after=2026-01-02T03:04", "raise", "name=approval&payload=%7B%22ok%22%3Atrue%7D&confirm=yes")
	f.Add("page_token=123", "terminate", "reason=r")
	f.Add("created_after=2026-01-02", "purge", "")
	f.Add("status=%ff", "raise", "name=x&payload=1%202")
	f.Fuzz(func(t *testing.T, query, action, form string) {
		var fe *fieldError
		if v, err := url.ParseQuery(query); err == nil {
			q, err := parseListQuery(v)
			if err != nil && !errors.As(err, &fe) {
				t.Fatalf("list query %q: %v is not a field error", query, err)
			}
			if err == nil {
				if _, err := parseListQuery(q.values()); err != nil {
					t.Fatalf("list query %q: its own rendering %q does not parse: %v", query, q.values().Encode(), err)
				}
			}
		}
		v, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		a, err := parseActionForm(action, v)
		if err != nil {
			if !errors.As(err, &fe) {
				t.Fatalf("form %q: %v is not a field error", form, err)
			}
			return
		}
		if action == "raise" && !json.Valid(a.Payload) {
			t.Fatalf("form %q: payload %q is not JSON", form, a.Payload)
		}
	})
}
