package lambdahandler_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
	"github.com/cloudbutton/cloudbutton/faas/lambdahandler"
	"github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities"
)

// roundTrip sends an error through Lambda's JSON shape, as aws-lambda-go
// and the invokers do, and rebuilds the *faas.Error.
func roundTrip(t *testing.T, err error) *faas.Error {
	t.Helper()
	ie, ok := err.(messages.InvokeResponse_Error)
	require.True(t, ok, "handler errors are messages.InvokeResponse_Error, got %T", err)
	body, jerr := json.Marshal(ie)
	require.NoError(t, jerr)
	er, ok := lambdawire.ParseErrorBody(body)
	require.True(t, ok, "body %s", body)
	return er.ToError("fn")
}

func TestHandler(t *testing.T) {
	h, err := lambdahandler.New(activities.All(), lambdahandler.Options{})
	require.NoError(t, err)
	env := func(act string, in string) []byte {
		b, err := lambdawire.EncodeEnvelope(faas.Request{Activity: act, Input: []byte(in), InstanceID: "i-1", TaskID: 4, Attempt: 2, IdempotencyKey: "i-1/4/2"})
		require.NoError(t, err)
		return b
	}
	tests := []struct {
		name     string
		payload  []byte
		want     string
		kind     faas.Kind
		errType  string
		nonRetry bool
		msg      string
	}{
		{name: "success", payload: env("greet", `"ada"`), want: `"hello, ada"`},
		{name: "info in context", payload: env("runtime-info", `{}`), want: "i-1/4/2"},
		{name: "retryable application error", payload: env("fail", `{"type":"Busy","message":"try later"}`), kind: faas.KindApplication, errType: "Busy", msg: "try later"},
		{name: "non-retryable application error", payload: env("fail", `{"type":"Denied","message":"no","nonRetryable":true}`), kind: faas.KindApplication, errType: "Denied", nonRetry: true, msg: "no"},
		{name: "panic", payload: env("panic", `"oops"`), kind: faas.KindApplication, errType: "Panic", msg: "sample panic: oops"},
		{name: "unknown activity", payload: env("nope", `{}`), kind: faas.KindNotFound, errType: "ActivityNotFound", nonRetry: true, msg: `"nope"`},
		{name: "not an envelope", payload: []byte(`{"name":"x"}`), kind: faas.KindApplication, errType: "DecodeError", nonRetry: true, msg: "no \"activity\" field"},
		{name: "not JSON", payload: []byte(`xx`), kind: faas.KindApplication, errType: "DecodeError", nonRetry: true, msg: "not a JSON envelope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := h.Invoke(context.Background(), tt.payload)
			if tt.kind == "" {
				require.NoError(t, err)
				assert.Contains(t, string(out), tt.want)
				return
			}
			fe := roundTrip(t, err)
			assert.Equal(t, tt.kind, fe.Kind)
			assert.Equal(t, tt.errType, fe.Type)
			assert.Equal(t, tt.nonRetry, fe.NonRetryable)
			assert.Contains(t, fe.Message, tt.msg)
			if tt.errType == "Panic" {
				assert.Contains(t, fe.Stack, "panicWith", "the stack survives the trip")
			}
		})
	}
}

func TestHandlerDefaultActivityAndBinaryInput(t *testing.T) {
	h, err := lambdahandler.New(activities.All(), lambdahandler.Options{DefaultActivity: "count-words"})
	require.NoError(t, err)
	out, err := h.Invoke(context.Background(), []byte(`"a b a"`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":2,"b":1}`, string(out))

	bin := activity.New("bin", func(ctx context.Context, b []byte) ([]byte, error) { return b, nil })
	h2, err := lambdahandler.New([]activity.Definition{bin}, lambdahandler.Options{Codec: rawCodec{}})
	require.NoError(t, err)
	payload, err := lambdawire.EncodeEnvelope(faas.Request{Activity: "bin", Input: []byte{0xff, 0x00, 0x01}, Attempt: 1})
	require.NoError(t, err)
	out, err = h2.Invoke(context.Background(), payload)
	require.NoError(t, err)
	res, err := lambdawire.DecodeResult(out)
	require.NoError(t, err)
	assert.Equal(t, []byte{0xff, 0x00, 0x01}, res)
}

func TestNewRejectsBadRegistrations(t *testing.T) {
	_, err := lambdahandler.New([]activity.Definition{activities.Greet, activities.Greet}, lambdahandler.Options{})
	assert.ErrorContains(t, err, `"greet" registered twice`)
	_, err = lambdahandler.New([]activity.Definition{activities.Greet}, lambdahandler.Options{DefaultActivity: "x"})
	assert.ErrorContains(t, err, `DefaultActivity "x"`)
}

// rawCodec passes []byte through unchanged, to exercise non-JSON payloads.
type rawCodec struct{}

func (rawCodec) Name() string { return "raw" }
func (rawCodec) Encode(v any) ([]byte, error) {
	return v.([]byte), nil
}
func (rawCodec) Decode(data []byte, ptr any) error {
	*(ptr.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
