package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// maxFuzzInput bounds the fuzzers' inputs: the properties are about
// shape, not size, and a bound keeps "allocates in proportion to the
// input" checkable.
const maxFuzzInput = 64 << 10

// payloadSeeds are payloads as codecs write them, and the edges of the
// JSON form: values that look like the base64 wrapper, whitespace that
// encoding/json would drop, characters it would escape, null, and bytes
// that are not JSON at all.
var payloadSeeds = []string{
	`{"a":[1,2]}`, `"book"`, `42`, `-1.5e3`, `true`, `null`, `[]`, `{}`, `""`,
	`"\u003chtml\u003e \u0026"`, `"<html> &"`, "\"\u2028\"", `"\\"`, `"é"`,
	`{"$b64":"AAAA"}`, `{"$b64":"x"}`, `{"$b64":""}`, `{"$b64":"AAAA","n":1}`, `{"$b64":1}`, `{ "$b64" : "AAAA" }`,
	` 1`, "1\n", `{"a" : 1}`, "[1,\t2]",
	"\xff\x00\x01", "\x00", "not json", `{"unterminated`, "\"\xff\"", "{\"a\":\"\x01\"}",
}

// FuzzPayloadJSON: every payload, whatever its bytes, round-trips exactly
// through its JSON form: alone, inside an event marshaled by
// encoding/json (which compacts and HTML-escapes embedded JSON), and
// through an exported history (indented). Any JSON given as a payload
// decodes without error or panic, and its decoding is stable.
func FuzzPayloadJSON(f *testing.F) {
	for _, s := range payloadSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			t.Skip("bounded input")
		}
		if len(data) > 0 {
			p := replay.Payload(data)
			j, err := json.Marshal(p)
			require.NoError(t, err)
			require.True(t, json.Valid(j), "the JSON form is JSON: %s", j)
			var got replay.Payload
			require.NoError(t, json.Unmarshal(j, &got), "%s", j)
			require.Equal(t, []byte(data), []byte(got), "payload %q -> %s", data, j)

			e := replay.Event{Type: replay.ActivityCompleted, Time: time.Unix(0, 0).UTC(), TaskID: 1, Payload: p,
				Carried: []replay.Event{{Type: replay.EventRaised, Name: "e", Time: time.Unix(0, 0).UTC(), Payload: p}}}
			j, err = json.Marshal(&e)
			require.NoError(t, err)
			var ge replay.Event
			require.NoError(t, json.Unmarshal(j, &ge), "%s", j)
			require.Equal(t, e, ge, "event with payload %q -> %s", data, j)

			h := replay.History{InstanceID: "i", Name: "n", Events: []replay.Event{
				{Type: replay.OrchestrationStarted, Time: time.Unix(0, 0).UTC(), Name: "n", InstanceID: "i", Payload: p}, e}}
			var buf bytes.Buffer
			require.NoError(t, replay.WriteHistory(&buf, h))
			gh, err := replay.ReadHistory(&buf)
			require.NoError(t, err)
			h.Format = replay.HistoryFormat
			require.Equal(t, h, gh, "history with payload %q", data)

			var appended []byte
			appended = replay.AppendPayload(appended, data)
			require.Equal(t, j[bytes.Index(j, []byte(`"payload":`))+len(`"payload":`):][:len(appended)], appended,
				"AppendPayload writes what MarshalJSON writes")
		}
		if json.Valid(data) {
			var q replay.Payload
			require.NoError(t, json.Unmarshal(data, &q), "any JSON value is a payload: %q", data)
			j, err := json.Marshal(q)
			require.NoError(t, err)
			var q2 replay.Payload
			require.NoError(t, json.Unmarshal(j, &q2))
			require.Equal(t, q, q2, "decoding is stable: %q", data)
		}
	})
}

// The orchestrator the history fuzzer replays against: one of every
// action, each result folded into the output.
var (
	fuzzEcho  = activity.New("fuzz.echo", func(ctx context.Context, s string) (string, error) { return s, nil })
	fuzzChild = orchestration.New("fuzz.child", func(ctx orchestration.Context, n int) (int, error) { return n, nil })
	fuzzMix   = orchestration.New("fuzz.mix", func(ctx orchestration.Context, in string) (string, error) {
		var out strings.Builder
		note := func(v any, err error) {
			b, _ := json.Marshal(v)
			out.Write(b)
			if err != nil {
				out.WriteString("!" + err.Error())
			}
			out.WriteByte(' ')
		}
		note(orchestration.GetVersion(ctx, "change", orchestration.DefaultVersion, 1), nil)
		a := orchestration.Call(ctx, fuzzEcho, in, orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 2}))
		timer := orchestration.NewTimer(ctx, time.Minute)
		note(orchestration.SideEffect(ctx, func() (string, error) { return "side", nil }))
		sub := orchestration.CallSub(ctx, fuzzChild, len(in))
		ev := orchestration.WaitEvent[string](ctx, "go", time.Hour)
		note(a.Await(ctx))
		note(timer.Await(ctx))
		note(sub.Await(ctx))
		note(ev.Await(ctx))
		note(orchestration.WaitEvent[int](ctx, "more", 0).Await(ctx))
		note(orchestration.NewUUID(ctx), nil)
		if in == "again" {
			return "", orchestration.ContinueAsNew(ctx, "done", orchestration.KeepUnprocessedEvents())
		}
		return out.String(), nil
	})
	fuzzDefs = []orchestration.Definition{fuzzMix, fuzzChild, fanOut, sequence}
)

// mixHistory runs fuzzMix live to its end, answering every action, and
// returns the history.
func mixHistory(t testing.TB, in string) replay.History {
	x := replay.New(core.DefinitionOf(fuzzMix), replay.Options{})
	defer x.Close()
	payload, _ := json.Marshal(in)
	start := replay.Event{Type: replay.OrchestrationStarted, Name: fuzzMix.Name(), InstanceID: "mix", RunID: "r1", Payload: payload, Time: t0}
	res := x.Apply([]replay.Event{start})
	history := res.Events
	for step := 0; !res.Done; step++ {
		require.Less(t, step, 20, "stuck")
		var next []replay.Event
		for _, e := range res.Events {
			switch e.Type {
			case replay.ActivityScheduled:
				next = append(next, replay.Event{Type: replay.ActivityCompleted, TaskID: e.TaskID, Attempt: 1, Payload: e.Payload, Time: t0})
			case replay.TimerCreated:
				next = append(next, replay.Event{Type: replay.TimerFired, TaskID: e.TaskID, Time: e.FireAt})
			case replay.SubOrchestrationScheduled:
				next = append(next, replay.Event{Type: replay.SubOrchestrationFailed, TaskID: e.TaskID, Time: t0,
					Failure: &core.Failure{Type: "Boom", Message: "child <failed> & \"quoted\"\n", Stack: "s\n\tf.go:1"}})
			}
		}
		if step == 0 {
			next = append(next,
				replay.Event{Type: replay.EventRaised, Name: "go", Payload: []byte(`"now"`), Time: t0},
				replay.Event{Type: replay.EventRaised, Name: "more", Payload: []byte(`7`), Time: t0},
				replay.Event{Type: replay.EventRaised, Name: "extra", Payload: []byte{0xff, 0}, Time: t0})
		}
		res = x.Apply(next)
		history = append(history, res.Events...)
	}
	return replay.History{Format: replay.HistoryFormat, InstanceID: "mix", Name: fuzzMix.Name(), Events: history}
}

func historySeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	add := func(h replay.History) {
		var buf bytes.Buffer
		require.NoError(t, replay.WriteHistory(&buf, h))
		seeds = append(seeds, buf.Bytes())
	}
	full := mixHistory(t, "hello")
	add(full)
	add(mixHistory(t, "again"))
	cut := full
	cut.Events = cut.Events[:len(cut.Events)/2]
	add(cut)
	add(replay.History{InstanceID: "f", Name: fanOut.Name(), Events: runLive(t, fanOut, 3, rand.New(rand.NewPCG(1, 1)))})
	for _, file := range []string{"../../orchestration/testdata/order-v1.json", "../../orchestration/testdata/bad/order-renamed-activity.json"} {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		seeds = append(seeds, b)
	}
	seeds = append(seeds,
		[]byte(`{"format":"something-else","events":[]}`),
		[]byte(`{"format":"cloudbutton.history/v1","events":[]}`),
		[]byte(`{"format":"cloudbutton.history/v1","name":"fuzz.mix","events":[{"type":"EventRaised","name":"go"}]}`),
		[]byte(`{"format":"cloudbutton.history/v1","name":"fuzz.mix","events":[{"type":"OrchestrationStarted","name":"fuzz.mix","payload":"x"},{"type":"ActivityScheduled","taskId":4000000000,"name":"fuzz.echo"}]}`),
		[]byte(`{"format":"cloudbutton.history/v1","name":"fuzz.mix","events":[{"type":"OrchestrationStarted","payload":{"$b64":"/w=="}},{"type":"TimerCreated","taskId":-1}]}`),
		[]byte(`{"format":"cloudbutton.history/v1","events":[{"type":"OrchestrationStarted","time":"0000-01-01T00:00:00Z","carried":[{"carried":[{}]}]}]}`),
		[]byte(`[`), []byte(`null`), []byte(``), []byte("\xff"),
	)
	return seeds
}

// FuzzReadHistory: the history import of `cloudbutton replay` and the
// harness (ReadHistory, then CheckHistory against the code). Any bytes
// either fail with an error that says it is reading a history, or give a
// history that exports and imports back to itself; replaying it against
// the code returns promptly, without a panic, and allocates in proportion
// to its size.
func FuzzReadHistory(f *testing.F) {
	for _, s := range historySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			t.Skip("bounded input")
		}
		h, err := replay.ReadHistory(bytes.NewReader(data))
		if err != nil {
			require.Contains(t, err.Error(), "history", "the error says what was read")
			return
		}
		var buf bytes.Buffer
		require.NoError(t, replay.WriteHistory(&buf, h))
		again, err := replay.ReadHistory(bytes.NewReader(buf.Bytes()))
		require.NoError(t, err, "%s", buf.Bytes())
		var buf2 bytes.Buffer
		require.NoError(t, replay.WriteHistory(&buf2, again))
		require.Equal(t, buf.String(), buf2.String(), "an imported history exports, imports and exports again to the same bytes")

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		done := make(chan error, 1)
		go func() { done <- replay.CheckHistory(h, fuzzDefs...) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("CheckHistory hangs on %q", data)
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20+uint64(256*len(data)) {
			t.Fatalf("CheckHistory allocated %d bytes for a history of %d bytes", grew, len(data))
		}
	})
}

func TestHistorySeedsReplay(t *testing.T) {
	h := mixHistory(t, "hello")
	assert.Equal(t, replay.OrchestrationCompleted, h.Events[len(h.Events)-1].Type)
	require.NoError(t, replay.CheckHistory(h, fuzzDefs...))
	h = mixHistory(t, "again")
	assert.Equal(t, replay.OrchestrationContinuedAsNew, h.Events[len(h.Events)-1].Type)
	require.NoError(t, replay.CheckHistory(h, fuzzDefs...))
}
