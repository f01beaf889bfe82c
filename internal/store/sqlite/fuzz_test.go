package sqlite

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
)

// maxFuzzInput bounds the fuzzers' inputs.
const maxFuzzInput = 64 << 10

// FuzzEventPayload: whatever an activity returns or a client raises, the
// stored event is valid JSON that decodes again (one undecodable row
// stops the worker), and its payload comes back byte for byte wherever
// appendEvent writes the payload form that replay.AppendPayload defines.
func FuzzEventPayload(f *testing.F) {
	for _, p := range []string{
		`{"a":[1,2]}`, `"x"`, `42`, `null`, `"\u003c"`, `"<&>"`, "\"\u2028\"",
		"\xff\x00\x01", "not json", "\x00",
		`{"$b64":"x"}`, `{"$b64":"AAAA"}`, ` 1`, `{"a" : 1}`,
	} {
		f.Add([]byte(p), "e")
	}
	f.Fuzz(func(t *testing.T, payload []byte, name string) {
		if len(payload) > maxFuzzInput || len(name) > maxFuzzInput {
			t.Skip("bounded input")
		}
		at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
		e := replay.Event{Index: 3, Type: replay.ActivityCompleted, Time: at, TaskID: 2, Attempt: 1, Payload: payload,
			Carried: []replay.Event{{Type: replay.EventRaised, Name: "e", Time: at, Payload: payload}}}
		if len(payload) == 0 {
			e.Payload, e.Carried[0].Payload = nil, nil
		}
		b, err := appendEvent(nil, &e)
		require.NoError(t, err)
		require.True(t, json.Valid(b), "the stored event is JSON: %s", b)
		got, err := decodeEvent(b)
		require.NoError(t, err, "the stored event decodes: %s", b)
		require.Equal(t, e.Carried, got.Carried, "carried events are written by encoding/json: %s", b)
		require.Equal(t, e, got, "every payload comes back byte for byte: %s", b)
	})
}

// FuzzDecodeEvent: a history or inbox row of any bytes decodes to an
// event or an error, never a panic; a decoded event encodes to valid JSON
// that decodes to the same event.
func FuzzDecodeEvent(f *testing.F) {
	at := time.Date(2026, 11, 27, 6, 30, 1, 123456789, time.UTC)
	for _, e := range []replay.Event{
		{Type: replay.OrchestrationStarted, Time: at, Name: "orch", InstanceID: "i-1", ParentID: "p", ParentTaskID: 3, Generation: 2, RunID: "r", Payload: []byte(`{"a":[1,2]}`)},
		{Index: 7, Type: replay.ActivityScheduled, Time: at, TaskID: 4, Name: "act", Payload: []byte(`"x"`),
			Options: &core.ActivityOptions{Retry: &core.RetryPolicy{MaxAttempts: 3, NonRetryableErrorTypes: []string{"Fatal"}}, StartToClose: time.Second}},
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
		{Index: 13, Type: replay.OrchestrationContinuedAsNew, Time: at, Payload: []byte(`1`),
			Carried: []replay.Event{{Type: replay.EventRaised, Name: "e\x01", Payload: []byte(`true`), Time: at}}},
	} {
		b, err := appendEvent(nil, &e)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{``, `{}`, `null`, `[]`, `{"time":"x"}`, `{"payload":{"$b64":"!"}}`, `{"index":1e99}`, `{"carried":[{"carried":[{}]}]}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			t.Skip("bounded input")
		}
		e, err := decodeEvent(data)
		if err != nil {
			return
		}
		b, err := appendEvent(nil, &e)
		if err != nil {
			// encoding/json refuses a few decoded values (a time with a
			// year past 9999 cannot be decoded, so none so far).
			t.Fatalf("a decoded event does not encode: %v (%q)", err, data)
		}
		require.True(t, json.Valid(b), "%s", b)
		again, err := decodeEvent(b)
		require.NoError(t, err, "%s", b)
		b2, err := appendEvent(nil, &again)
		require.NoError(t, err)
		require.Equal(t, string(b), string(b2), "encoding a decoded event is stable")
	})
}
