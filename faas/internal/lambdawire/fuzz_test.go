package lambdawire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

const maxFuzzInput = 64 << 10

// inputSeeds are activity inputs and results as codecs write them, and
// the edges of the wire's JSON forms.
var inputSeeds = []string{
	`{"item":"book"}`, `"ada"`, `42`, `null`, `[]`, `"\u003c"`,
	`"<&>"`, "\"\u2028\"", ` 1`, `{"a" : 1}`, "\xff\x00", "not json",
	`{"$cloudbutton":"base64","data":"AAAA"}`, `{"$cloudbutton":"base64","data":"!"}`, `{"$cloudbutton":"other"}`, `"$cloudbutton"`,
}

// FuzzEnvelope: an attempt's Invoke payload decodes back to the same
// attempt, its input byte for byte, whatever the input's bytes.
func FuzzEnvelope(f *testing.F) {
	for _, s := range inputSeeds {
		f.Add([]byte(s), "count-words", "i-1", "r-1", int64(3), 1, "i-1/r-1/3/1")
	}
	f.Add([]byte(`1`), "act \"q\" \x01", "\xff", "", int64(-1), -5, "")
	f.Fuzz(func(t *testing.T, input []byte, act, instance, run string, task int64, attempt int, key string) {
		if len(input)+len(act)+len(instance)+len(run)+len(key) > maxFuzzInput {
			t.Skip("bounded input")
		}
		req := faas.Request{Activity: act, Input: input, InstanceID: instance, RunID: run, TaskID: task, Attempt: attempt, IdempotencyKey: key}
		payload, err := EncodeEnvelope(req)
		require.NoError(t, err)
		require.True(t, json.Valid(payload), "%s", payload)
		env, in, err := DecodeEnvelope(payload)
		if act == "" {
			require.ErrorIs(t, err, ErrNotEnvelope)
			return
		}
		require.NoError(t, err, "%s", payload)
		require.Equal(t, string(input), string(in), "the input arrives byte for byte: %s", payload)
		if validUTF8(act, instance, run, key) { // JSON carries strings as UTF-8
			require.Equal(t, req.Activity, env.Activity)
			require.Equal(t, req.InstanceID, env.InstanceID)
			require.Equal(t, req.RunID, env.RunID)
			require.Equal(t, req.IdempotencyKey, env.IdempotencyKey)
		}
		require.Equal(t, req.TaskID, env.TaskID)
		require.Equal(t, req.Attempt, env.Attempt)
	})
}

// FuzzDecodeEnvelope: any Invoke payload gives an envelope or an error
// that says what it was reading, never a panic.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, s := range inputSeeds {
		b, err := EncodeEnvelope(faas.Request{Activity: "a", Input: []byte(s), InstanceID: "i", TaskID: 1, Attempt: 1})
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{``, `{}`, `null`, `[]`, `{"activity":1}`, `{"activity":"a","inputEncoding":"base64","input":1}`,
		`{"activity":"a","inputEncoding":"base64","input":"!!"}`, `{"activity":"a","inputEncoding":"gzip","input":"x"}`, `{"activity":"a","taskId":1e99}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > maxFuzzInput {
			t.Skip("bounded input")
		}
		env, in, err := DecodeEnvelope(payload)
		if err != nil {
			require.Contains(t, err.Error(), "lambdawire:", "the error names its source")
			if errors.Is(err, ErrNotEnvelope) {
				return
			}
			require.True(t, strings.Contains(err.Error(), "envelope") || strings.Contains(err.Error(), "input"), "the error says what was read: %v", err)
			return
		}
		require.NotEmpty(t, env.Activity)
		again, err := EncodeEnvelope(faas.Request{Activity: env.Activity, Input: in, InstanceID: env.InstanceID, RunID: env.RunID,
			TaskID: env.TaskID, Attempt: env.Attempt, IdempotencyKey: env.IdempotencyKey})
		require.NoError(t, err)
		_, in2, err := DecodeEnvelope(again)
		require.NoError(t, err, "%s", again)
		require.Equal(t, string(in), string(in2))
	})
}

// FuzzResult: an activity result arrives byte for byte (an empty one as
// null); any response payload decodes or fails naming the result, never
// panics.
func FuzzResult(f *testing.F) {
	for _, s := range inputSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, out []byte) {
		if len(out) > maxFuzzInput {
			t.Skip("bounded input")
		}
		got, err := DecodeResult(EncodeResult(out))
		require.NoError(t, err, "%q", out)
		want := out
		if len(out) == 0 {
			want = []byte("null")
		}
		require.Equal(t, string(want), string(got), "the result arrives byte for byte")
		if _, err := DecodeResult(out); err != nil {
			require.Contains(t, err.Error(), "result")
		}
	})
}

// FuzzErrorBody: any function error body parses or is refused, never
// panics, and a parsed one turns into a typed invocation error; a
// recorded failure crosses the wire with its type, message and
// non-retryable flag.
func FuzzErrorBody(f *testing.F) {
	for _, fl := range []core.Failure{
		{Type: "InsufficientFunds", Message: "balance 3 < 5"},
		{Type: "EmptyName", Message: "greet needs a name", NonRetryable: true},
		{Type: "Panic", Message: "boom", Stack: "goroutine 1 [running]:\nmain.f()\n\t/src/main.go:12 +0x1d\n"},
		{Type: TypeTimeout, Message: "Task timed out after 3.00 seconds"},
		{Message: "no type"},
	} {
		b, err := json.Marshal(FromFailure(&fl))
		require.NoError(f, err)
		f.Add(b, fl.Type, fl.Message, fl.Stack, fl.NonRetryable)
	}
	f.Add([]byte(`{"errorMessage":"m","errorType":"Runtime.ExitError","stackTrace":["a","b"]}`), "", "", "", false)
	f.Add([]byte(`{"errorMessage":"m","requestId":"r","trace":[]}`), "", "", "\t", false)
	f.Add([]byte(`{"errorType":1}`), "T:NonRetryable", "m", "a\n\tb:99999999999\n", false)
	f.Fuzz(func(t *testing.T, body []byte, typ, msg, stack string, nonRetryable bool) {
		if len(body)+len(typ)+len(msg)+len(stack) > maxFuzzInput {
			t.Skip("bounded input")
		}
		if e, ok := ParseErrorBody(body); ok {
			fe := e.ToError("fn")
			require.NotEmpty(t, fe.Kind)
			require.Equal(t, "fn", fe.Function)
			_ = fe.Error()
		}
		if e, ok := IsStrictErrorBody(body); ok {
			require.NotEmpty(t, e.ToError("fn").Kind)
		}

		fl := core.Failure{Type: typ, Message: msg, Stack: stack, NonRetryable: nonRetryable}
		b, err := json.Marshal(FromFailure(&fl))
		require.NoError(t, err)
		e, ok := ParseErrorBody(b)
		require.True(t, ok, "%s", b)
		_, strict := IsStrictErrorBody(b)
		require.True(t, strict, "%s", b)
		d := e.Decode()
		if !validUTF8(typ, msg) || strings.HasSuffix(typ, NonRetryableSuffix) {
			return // JSON carries UTF-8; a type that ends in the marker is the marker
		}
		wantType := typ
		if wantType == "" {
			wantType = core.FailureError
		}
		require.Equal(t, wantType, d.Type)
		require.Equal(t, msg, d.Message)
		require.Equal(t, nonRetryable, d.NonRetryable)
		frames := ParseStack(d.Stack)
		require.Equal(t, frames, ParseStack(FormatStack(frames)), "the stack is stable after one trip")
	})
}

func validUTF8(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
