package replay_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/internal/bench"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/replay"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

var (
	fanOut   = bench.FanOut
	sequence = bench.Sequence
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func started(name string, n int) replay.Event {
	in, _ := json.Marshal(n)
	return replay.Event{Type: replay.OrchestrationStarted, Name: name, InstanceID: "i1", Payload: in, Time: t0}
}

func completion(e replay.Event) replay.Event {
	return replay.Event{Type: replay.ActivityCompleted, TaskID: e.TaskID, Payload: e.Payload, Time: t0}
}

// runLive drives an instance to completion, delivering each step's
// completions in random batches; it returns the whole history.
func runLive(t testing.TB, def orchestration.Definition, n int, rng *rand.Rand) []replay.Event {
	x := replay.New(core.DefinitionOf(def), replay.Options{})
	defer x.Close()
	res := x.Apply([]replay.Event{started(def.Name(), n)})
	history := res.Events
	var pending []replay.Event
	for !res.Done {
		for _, e := range res.Events {
			if e.Type == replay.ActivityScheduled {
				pending = append(pending, completion(e))
			}
		}
		require.NotEmpty(t, pending, "stuck")
		k := 1 + rng.IntN(len(pending))
		batch := pending[:k]
		res = x.Apply(batch)
		pending = append([]replay.Event(nil), pending[k:]...)
		history = append(history, res.Events...)
	}
	return history
}

func TestReplayFromScratchEqualsLiveRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, tt := range []struct {
		def orchestration.Definition
		n   int
	}{{fanOut, 50}, {sequence, 30}, {fanOut, 0}} {
		for seed := range uint64(5) {
			t.Run(fmt.Sprintf("%s/%d/seed=%d", tt.def.Name(), tt.n, seed), func(t *testing.T) {
				history := runLive(t, tt.def, tt.n, rand.New(rand.NewPCG(seed, 1)))
				last := history[len(history)-1]
				require.Equal(t, replay.OrchestrationCompleted, last.Type)
				assert.JSONEq(t, fmt.Sprint(tt.n*(tt.n-1)/2), string(last.Payload))
				for i, e := range history {
					require.Equal(t, int64(i), e.Index, "indexes are dense")
				}
				x := replay.New(core.DefinitionOf(tt.def), replay.Options{})
				defer x.Close()
				require.NoError(t, x.Replay(history))
				assert.True(t, x.Done())
				assert.Empty(t, x.Apply(nil).Events, "a replayed finished run produces nothing new")
			})
		}
	}
}

func TestRestartMidRunContinuesIdentically(t *testing.T) {
	defer goleak.VerifyNone(t)
	full := runLive(t, sequence, 10, rand.New(rand.NewPCG(1, 2)))
	// Cut the history after the 5th completion, rebuild, and continue.
	cut := 0
	done := 0
	for i, e := range full {
		if e.Type == replay.ActivityCompleted {
			done++
			if done == 5 {
				cut = i + 2 // the completion and the next scheduling
				break
			}
		}
	}
	x := replay.New(core.DefinitionOf(sequence), replay.Options{})
	defer x.Close()
	require.NoError(t, x.Replay(full[:cut]))
	var rest []replay.Event
	next := full[cut-1]
	for {
		res := x.Apply([]replay.Event{completion(next)})
		rest = append(rest, res.Events...)
		if res.Done {
			break
		}
		next = res.Events[len(res.Events)-1]
	}
	for i := range rest {
		rest[i].Time = full[cut+i].Time
	}
	assert.Equal(t, full[cut:], rest)
}

func TestDuplicateCompletionsAreDropped(t *testing.T) {
	x := replay.New(core.DefinitionOf(fanOut), replay.Options{})
	defer x.Close()
	res := x.Apply([]replay.Event{started(fanOut.Name(), 2)})
	c0 := completion(res.Events[1])
	res = x.Apply([]replay.Event{c0, c0})
	assert.Len(t, res.Events, 1, "the duplicate is not recorded")
	res = x.Apply([]replay.Event{c0, completion(replay.Event{TaskID: 99})})
	assert.Empty(t, res.Events, "stale and unknown completions are not recorded")
}

func TestCloseUnwindsBlockedCoroutines(t *testing.T) {
	// goleak retries until the unwound coroutines have exited: a count
	// right after Close depends on how fast the machine is (it failed
	// once under load, 3 goroutines for 2).
	defer goleak.VerifyNone(t)
	x := replay.New(core.DefinitionOf(fanOut), replay.Options{})
	x.Apply([]replay.Event{started(fanOut.Name(), 10)})
	x.Close()
}
