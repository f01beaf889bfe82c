package sqlite

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
)

func TestAppendEventRoundTrips(t *testing.T) {
	at := time.Date(2026, 11, 27, 6, 30, 1, 123456789, time.UTC)
	tests := []replay.Event{
		{Index: 0, Type: replay.OrchestrationStarted, Time: at, Name: "orch", InstanceID: "i-1", ParentID: "p", ParentTaskID: 3, Generation: 2, Payload: []byte(`{"a":[1,2]}`),
			RunID: "r1", Trace: &replay.TraceContext{Parent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
		{Index: 7, Type: replay.ActivityScheduled, Time: at, TaskID: 4, Name: "act \"quoted\" \u00e9", Payload: []byte(`"x"`),
			Options: &core.ActivityOptions{Retry: &core.RetryPolicy{MaxAttempts: 3, NonRetryableErrorTypes: []string{"Fatal"}}, StartToClose: time.Second}},
		{Index: 8, Type: replay.ActivityScheduled, Time: at, TaskID: 5, Name: "plain", Options: &core.ActivityOptions{}},
		{Index: 9, Type: replay.ActivityFailed, Time: at, TaskID: 4, Attempt: 3, Failure: &core.Failure{Type: "Boom", Message: "line\nbreak", Stack: "s"}},
		{Index: 10, Type: replay.TimerCreated, Time: at, TaskID: 6, FireAt: at.Add(time.Hour)},
		{Index: 11, Type: replay.VersionMarked, Time: at, Name: "change", Version: 2},
		{Index: 12, Type: replay.ActivityCompleted, Time: at, TaskID: 7, Payload: []byte{0xff, 0x00, 0x01}},
		{Index: 15, Type: replay.ActivityCompleted, Time: at, TaskID: 8, Attempt: 3, Payload: []byte(`1`),
			Attempts: &replay.AttemptLog{StartedAt: at.Add(-time.Second), Retried: []replay.AttemptRecord{
				{Attempt: 1, StartedAt: at.Add(-time.Hour), FinishedAt: at.Add(-time.Minute), Failure: &core.Failure{Type: "Transient", Message: "no"}, RetryAt: at.Add(-2 * time.Second)},
				{Attempt: 2, FinishedAt: at.Add(-3 * time.Second), Failure: &core.Failure{Type: core.FailureInterrupted, Message: "crash"}}}}},
		{Index: 16, Type: replay.ActivityFailed, Time: at, TaskID: 9, Attempt: 2, Failure: &core.Failure{Type: core.FailureCanceled, Message: "c"},
			Attempts: &replay.AttemptLog{Retried: []replay.AttemptRecord{{Attempt: 1, Failure: &core.Failure{Type: "T", Message: "m"}}}}},
		{Index: 17, Type: replay.ActivityCompleted, Time: at, TaskID: 10, Attempt: 1, Attempts: &replay.AttemptLog{StartedAt: at}},
		{Index: 14, Type: replay.EventRaised, Time: at, Name: "bell\a vt\v esc\x1b del\x7f tag\U000E0001 nul\x00 \u2028", InstanceID: "\x01x"},
		{Index: 18, Type: replay.UpdateAccepted, Time: at, Name: "add", InstanceID: "u-1", Payload: []byte(`3`)},
		{Index: 19, Type: replay.UpdateCompleted, Time: at, Name: "add", InstanceID: "u-1", Failure: &core.Failure{Type: "E", Message: "m"}},
		{Index: 13, Type: replay.OrchestrationContinuedAsNew, Time: at, Payload: []byte(`1`),
			Carried: []replay.Event{{Type: replay.EventRaised, Name: "e", Payload: []byte(`true`), Time: at}}},
	}
	for _, e := range tests {
		t.Run(string(e.Type), func(t *testing.T) {
			fast, err := appendEvent(nil, &e)
			require.NoError(t, err)
			var got replay.Event
			require.NoError(t, json.Unmarshal(fast, &got), string(fast))
			want := e
			if want.Options != nil && zeroOptions(want.Options) {
				want.Options = nil // empty options are omitted
			}
			assert.Equal(t, want, got)
			if want.Options == nil || !zeroOptions(e.Options) {
				std, err := json.Marshal(&want)
				require.NoError(t, err)
				assert.JSONEq(t, string(std), string(fast), "the same document as encoding/json")
			}
		})
	}
}

// FuzzEventEncoding: every valid UTF-8 name or id encodes as JSON that
// decodes back to the same event (strconv.AppendQuote's Go escapes, such
// as \x01 or \a, are not JSON, and one such id stopped the worker).
func FuzzEventEncoding(f *testing.F) {
	for _, s := range []string{"plain", "\x01x", "a\ab", "\v", "\x1b[0m", "\x7f", "\U000E0001", "\u2028\u2029", "q\"uote\\", "é"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, name, id string) {
		if !utf8.ValidString(name) || !utf8.ValidString(id) {
			t.Skip("ids and names must be valid UTF-8 (the client refuses others)")
		}
		e := replay.Event{Type: replay.EventRaised, Name: name, InstanceID: id, Time: time.Unix(0, 0).UTC()}
		b, err := appendEvent(nil, &e)
		require.NoError(t, err)
		got, err := decodeEvent(b)
		require.NoError(t, err, "%s", b)
		assert.Equal(t, e, got)
	})
}

func BenchmarkEncodeEvent(b *testing.B) {
	e := replay.Event{Index: 7, Type: replay.ActivityScheduled, Time: time.Now(), TaskID: 4, Name: "bench.noop", Payload: []byte(`42`), Options: &core.ActivityOptions{}}
	b.Run("appendEvent", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = appendEvent(buf[:0], &e)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(&e)
		}
	})
}
