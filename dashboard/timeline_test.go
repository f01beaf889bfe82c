package dashboard

import (
	"errors"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// done is a finished attempt scheduled, started and finished at the
// given milliseconds.
func done(task int64, name string, n, sched, start, end int, st attemptState) attempt {
	return attempt{TaskID: task, Name: name, Attempt: n, Scheduled: at(sched), Started: at(start), Finished: at(end), State: st}
}

func TestBuildTimeline(t *testing.T) {
	now := at(1000)
	tests := []struct {
		name     string
		attempts []attempt
		maxBars  int
		check    func(t *testing.T, v timelineView)
	}{
		{name: "none", check: func(t *testing.T, v timelineView) {
			assert.Zero(t, v.Attempts)
			assert.Empty(t, v.SVG)
		}},
		{name: "fan-out with a straggler",
			attempts: []attempt{
				done(1, "a", 1, 0, 1, 10, stateCompleted), done(2, "a", 1, 0, 2, 12, stateCompleted),
				done(3, "a", 1, 0, 3, 11, stateCompleted), done(4, "a", 1, 0, 1, 90, stateCompleted),
				done(5, "merge", 1, 91, 92, 95, stateCompleted),
			},
			check: func(t *testing.T, v timelineView) {
				svg := string(v.SVG)
				assert.Equal(t, 5, strings.Count(svg, `<rect class="bar `))
				assert.Equal(t, 5, strings.Count(svg, `<rect class="wait"`))
				assert.Equal(t, 4, v.Peak)
				assert.Equal(t, []criticalStep{{Name: "a", TaskID: 4, Duration: 90 * time.Millisecond}, {Name: "merge", TaskID: 5, Duration: 4 * time.Millisecond}}, v.Critical)
				assert.Equal(t, 95*time.Millisecond, v.CritSpan)
				assert.Len(t, regexp.MustCompile(`class="bar [^"]*critical`).FindAllString(svg, -1), 2)
				assert.Equal(t, 1, v.Stragglers)
				assert.Contains(t, svg, `class="bar a-completed critical straggler" data-task="4"`)
			}},
		{name: "retries on one row, failures and live ones",
			attempts: []attempt{
				done(1, "flaky", 1, 0, 0, 5, stateFailed), done(1, "flaky", 2, 15, 15, 20, stateFailed),
				{TaskID: 1, Name: "flaky", Attempt: 3, Scheduled: at(30), Started: at(31), State: stateRunning},
				{TaskID: 2, Name: "slow", Attempt: 1, Scheduled: at(0), State: stateScheduled},
			},
			check: func(t *testing.T, v timelineView) {
				svg := string(v.SVG)
				assert.Equal(t, 4, strings.Count(svg, `<rect class="bar `))
				assert.Equal(t, 2, strings.Count(svg, `class="bar a-failed retried`))
				assert.Equal(t, 2, strings.Count(svg, `data-begin=`), "live bars grow in the browser")
				assert.Equal(t, 2, v.Running)
				assert.Equal(t, 2, v.Failed)
				assert.Equal(t, 1, v.Retried)
				assert.Equal(t, 2, v.Tasks)
			}},
		{name: "aggregated past the cap",
			attempts: func() []attempt {
				var as []attempt
				for i := range 5000 {
					st := stateCompleted
					if i == 77 {
						st = stateFailed
					}
					as = append(as, done(int64(i+1), "w", 1, 0, i%100, i%100+10+i%7, st))
				}
				return as
			}(),
			maxBars: 800,
			check: func(t *testing.T, v timelineView) {
				svg := string(v.SVG)
				assert.True(t, v.Aggregated)
				assert.Equal(t, 10, v.GroupSize)
				assert.Equal(t, 500, strings.Count(svg, `<rect class="group"`))
				assert.Equal(t, v.Bars, strings.Count(svg, `<rect class="bar `))
				assert.LessOrEqual(t, v.Bars+500, 800)
				assert.Contains(t, svg, `class="bar a-failed`, "a failure is always drawn")
			}},
		{name: "escapes names and failures",
			attempts: []attempt{{TaskID: 1, Name: `<script>"x"&`, Attempt: 1, Scheduled: at(0), Started: at(1), Finished: at(2),
				State: stateFailed, Failure: `</title><script>alert(1)</script>`}},
			check: func(t *testing.T, v timelineView) {
				svg := string(v.SVG)
				assert.NotContains(t, svg, "<script>")
				assert.Contains(t, svg, "&lt;script&gt;&#34;x&#34;&amp;")
				assert.Equal(t, 1, strings.Count(svg, "</title></rect>"))
			}},
		{name: "unknown times, as Temporal reports retried calls",
			attempts: []attempt{
				{TaskID: 1, Name: "a", Attempt: 1, Scheduled: at(0), State: stateFailed},                     // the first: scheduled, end not known
				{TaskID: 1, Name: "a", Attempt: 2, State: stateTimedOut},                                     // between: no times
				{TaskID: 1, Name: "a", Attempt: 3, Started: at(50), Finished: at(60), State: stateCompleted}, // the last: no schedule
			},
			check: func(t *testing.T, v timelineView) {
				svg := string(v.SVG)
				assert.Equal(t, 3, v.Attempts)
				assert.Equal(t, 1, v.Untimed)
				assert.Equal(t, 2, v.Bars)
				assert.Equal(t, 2, v.Failed)
				assert.Equal(t, 1, v.Retried)
				assert.Equal(t, 10*time.Millisecond, v.P50, "only known durations count")
				assert.Contains(t, svg, "its end is not known")
				assert.NotContains(t, svg, "+2562047h", "no span from the zero time")
			}},
		{name: "unknown start draws from scheduling",
			attempts: []attempt{{TaskID: 1, Name: "a", Attempt: 1, Scheduled: at(0), Finished: at(5), State: stateCompleted}},
			check: func(t *testing.T, v timelineView) {
				assert.Equal(t, 1, strings.Count(string(v.SVG), `<rect class="bar `))
				assert.Zero(t, strings.Count(string(v.SVG), `<rect class="wait"`))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.maxBars == 0 {
				tc.maxBars = defaultMaxTimelineBars
			}
			tc.check(t, buildTimeline(tc.attempts, now, tc.maxBars))
		})
	}
}

func TestMapJob(t *testing.T) {
	fan := func(name string, n int) []attempt {
		var as []attempt
		for i := range n {
			as = append(as, done(int64(i+1), name, 1, 0, 0, i, stateCompleted))
		}
		return as
	}
	tests := []struct {
		name      string
		instance  string
		children  []childLink
		attempts  []attempt
		wantActs  []string
		wantRoles []string
	}{
		{"map sub-orchestration", "analytics.map:square", nil, fan("square", 3), []string{"square"}, []string{"map"}},
		{"mapreduce sub-orchestration", "analytics.mapreduce:count:merge", nil, fan("count", 3), []string{"count", "merge"}, []string{"map", "reduce"}},
		{"keyed, a colon in a name", "analytics.mapreducebykey:ns:count:merge", nil, fan("ns:count", 3), []string{"ns:count", "merge"}, []string{"map", "reduce"}},
		{"parent of analytics children", "job", []childLink{{ID: "c1", Name: "analytics.map:square"}}, nil, []string{"square"}, []string{"map"}},
		{"partitions its input", "wc", nil, append(fan("count-words", 3), done(99, analyticsPartition, 1, 0, 0, 1, stateCompleted)), []string{"count-words"}, []string{"map"}},
		{"a large fan-out", "fan", nil, fan("work", fanOutMin), []string{"work"}, []string{"map"}},
		{"a small fan-out is not a map", "fan", nil, fan("work", fanOutMin-1), nil, nil},
		{"a sequence is not a map", "seq", nil, []attempt{done(1, "a", 1, 0, 0, 1, stateCompleted), done(2, "b", 1, 1, 1, 2, stateCompleted)}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acts, roles, why := mapJob(tc.instance, tc.children, tc.attempts)
			assert.Equal(t, tc.wantActs, acts)
			assert.Equal(t, tc.wantRoles, roles)
			assert.Equal(t, tc.wantActs != nil, why != "", why)
		})
	}
	t.Run("histogram", func(t *testing.T) {
		hs, _ := histograms("analytics.map:sq", nil, fan("sq", 40))
		require.Len(t, hs, 1)
		assert.Equal(t, 40, hs[0].Count)
		svg := string(hs[0].SVG)
		assert.Contains(t, svg, `data-activity="sq"`)
		assert.Equal(t, 30, strings.Count(svg, `<rect class="hbin"`)) // 40 distinct durations over 30 bins: none empty
	})
}

func TestDecodeHistory(t *testing.T) {
	t.Run("temporal", func(t *testing.T) {
		data, err := os.ReadFile("testdata/temporal-greeter.json")
		require.NoError(t, err)
		v, err := decodeHistory(data)
		require.NoError(t, err)
		assert.Equal(t, formatTemporal, v.Format)
		require.Len(t, v.Rows, 22)
		assert.Equal(t, "WorkflowExecutionStarted", v.Rows[0].Type)
		assert.Equal(t, "greeter", v.Rows[0].Name)
		v.Rows[0].fillDetail()
		assert.Contains(t, v.Rows[0].Detail, `input="world"`, "json/plain payloads are decoded")
		assert.NotContains(t, v.Rows[0].Detail, "taskQueue")
		assert.Equal(t, "ActivityTaskCompleted", v.Rows[6].Type)
		assert.Equal(t, "greet", v.Rows[6].Name)
		assert.Equal(t, "completed", v.Rows[21].Class)
		require.Len(t, v.attempts, 2)
		for _, a := range v.attempts {
			assert.Equal(t, stateCompleted, a.State)
			assert.False(t, a.Started.IsZero())
			assert.True(t, a.Finished.After(a.Started))
		}
	})
	t.Run("temporal child", func(t *testing.T) {
		v, err := decodeHistory([]byte(`{"events":[{"eventId":"1","eventTime":"2026-01-01T00:00:00Z","eventType":"EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED",
			"startChildWorkflowExecutionInitiatedEventAttributes":{"workflowId":"kid","workflowType":{"name":"sub"}}}]}`))
		require.NoError(t, err)
		assert.Equal(t, []childLink{{ID: "kid", Name: "sub"}}, v.Children)
		assert.Equal(t, "kid", v.Rows[0].Child)
	})
	bad := []struct{ name, data, want string }{
		{"not JSON", `{`, "not a JSON object"},
		{"an array", `[]`, "not a JSON object"},
		{"format not a string", `{"format":1}`, "history format"},
		{"unknown format", `{"format":"other/v9","events":[]}`, `format "other/v9" is not known`},
		{"no events", `{}`, "no events"},
		{"embedded without a start", `{"format":"cloudbutton.history/v1","events":[{"index":0,"type":"TimerFired","time":"2026-01-01T00:00:00Z"}]}`, "does not begin with OrchestrationStarted"},
		{"temporal event without a type", `{"events":[{"eventId":"1"}]}`, "event 0: no eventType"},
		{"temporal bad time", `{"events":[{"eventType":"X","eventTime":"yesterday"}]}`, "eventTime"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeHistory([]byte(tc.data))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseListQuery(t *testing.T) {
	tests := []struct {
		query, field string
		check        func(t *testing.T, q listQuery)
	}{
		{query: "", check: func(t *testing.T, q listQuery) { assert.Zero(t, q.Statuses) }},
		{query: "status=running&status=Failed,running", check: func(t *testing.T, q listQuery) {
			assert.Equal(t, "Running,Failed", joinStatuses(q))
		}},
		{query: "created_after=2026-01-02T03:04", check: func(t *testing.T, q listQuery) {
			assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), q.CreatedAfter)
		}},
		{query: "created_after=2026-01-02T03:04:05%2B01:00", check: func(t *testing.T, q listQuery) {
			assert.Equal(t, time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC), q.CreatedAfter)
		}},
		{query: "page_token=abc", check: func(t *testing.T, q listQuery) { assert.Equal(t, "abc", q.PageToken) }},
		{query: "status=asleep", field: "status"},
		{query: "created_after=soon", field: "created_after"},
		{query: "page_token=" + strings.Repeat("t", maxQueryText+1), field: "page_token"},
		{query: "name=" + strings.Repeat("n", maxQueryText+1), field: "name"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			q, err := parseListQuery(v)
			if tc.field != "" {
				var fe *fieldError
				require.True(t, errors.As(err, &fe), "%v", err)
				assert.Equal(t, tc.field, fe.Field)
				return
			}
			require.NoError(t, err)
			tc.check(t, q)
		})
	}
}

func joinStatuses(q listQuery) string {
	var s []string
	for _, st := range q.Statuses {
		s = append(s, string(st))
	}
	return strings.Join(s, ",")
}

func TestParseActionForm(t *testing.T) {
	tests := []struct {
		action, form, field string
		want                actionForm
	}{
		{action: "raise", form: "name=approval&payload=%7B%20%22ok%22%3A%20true%20%7D&confirm=yes",
			want: actionForm{Action: "raise", Event: "approval", Payload: []byte(`{"ok":true}`), Confirm: true}},
		{action: "raise", form: "name=go", want: actionForm{Action: "raise", Event: "go", Payload: []byte("null")}},
		{action: "raise", form: "name=go&payload=12345678901234567890", want: actionForm{Action: "raise", Event: "go", Payload: []byte("12345678901234567890")}},
		{action: "terminate", form: "reason=+done+", want: actionForm{Action: "terminate", Reason: "done"}},
		{action: "purge", form: "", want: actionForm{Action: "purge"}},
		{action: "raise", form: "payload=1", field: "name"},
		{action: "raise", form: "name=x&payload=%7B", field: "payload"},
		{action: "raise", form: "name=x&payload=1%202", field: "payload"},
		{action: "raise", form: "name=%ff", field: "name"},
		{action: "suspend", form: "reason=" + strings.Repeat("r", maxReason+1), field: "reason"},
		{action: "fly", form: "", field: "action"},
	}
	for _, tc := range tests {
		t.Run(tc.action+" "+clip(tc.form, 30), func(t *testing.T) {
			v, err := url.ParseQuery(tc.form)
			require.NoError(t, err)
			f, err := parseActionForm(tc.action, v)
			if tc.field != "" {
				var fe *fieldError
				require.True(t, errors.As(err, &fe), "%v", err)
				assert.Equal(t, tc.field, fe.Field)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, f)
		})
	}
}
