package temporal

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	sdktemporal "go.temporal.io/sdk/temporal"

	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

type gobLike struct{}

func (gobLike) Name() string                 { return "bin" }
func (gobLike) Encode(v any) ([]byte, error) { return nil, errors.New("unused") }
func (gobLike) Decode(data []byte, ptr any) error {
	return errors.New("unused")
}

func TestDataConverterRoundTrip(t *testing.T) {
	cases := []struct {
		name  string
		codec codec.Codec
		data  []byte
		enc   string
	}{
		{"json object", codec.JSON, []byte(`{"a": 1, "b":[1,2]}`), converter.MetadataEncodingJSON},
		{"json keeps spacing", codec.JSON, []byte(` 42 `), converter.MetadataEncodingJSON},
		{"json empty", codec.JSON, []byte{}, converter.MetadataEncodingJSON},
		{"other codec binary", gobLike{}, []byte{0, 1, 2, 255}, converter.MetadataEncodingBinary},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dc := DataConverter(c.codec)
			p, err := dc.ToPayload(c.data)
			require.NoError(t, err)
			assert.Equal(t, c.enc, string(p.GetMetadata()[converter.MetadataEncoding]))
			var back []byte
			require.NoError(t, dc.FromPayload(p, &back))
			assert.Equal(t, string(c.data), string(back), "bytes pass through unchanged")
		})
	}
	// Records of the adapter itself travel as JSON.
	dc := DataConverter(codec.JSON)
	p, err := dc.ToPayload(batchResult{Output: []byte(`1`), Failure: &core.Failure{Type: "X", Message: "m"}})
	require.NoError(t, err)
	var r batchResult
	require.NoError(t, dc.FromPayload(p, &r))
	assert.Equal(t, "X", r.Failure.Type)
	assert.Equal(t, "1", string(r.Output))
}

func TestRetryPolicyMapping(t *testing.T) {
	cases := []struct {
		name string
		in   *core.RetryPolicy
		want *sdktemporal.RetryPolicy
	}{
		{"none", nil, &sdktemporal.RetryPolicy{MaximumAttempts: 1}},
		{"zero attempts", &core.RetryPolicy{}, &sdktemporal.RetryPolicy{MaximumAttempts: 1}},
		{"one attempt", &core.RetryPolicy{MaxAttempts: 1}, &sdktemporal.RetryPolicy{MaximumAttempts: 1}},
		{"defaults", &core.RetryPolicy{MaxAttempts: 3}, &sdktemporal.RetryPolicy{
			MaximumAttempts: 3, InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 100 * time.Second,
			// ActivityNotFound is retried on Temporal: another worker
			// of the task queue may host the activity.
			NonRetryableErrorTypes: []string{"DecodeError", "EncodeError", "PayloadTooLarge", "Canceled"}}},
		{"explicit", &core.RetryPolicy{MaxAttempts: 5, InitialInterval: time.Millisecond, BackoffCoefficient: 1.5,
			MaxInterval: time.Second, NonRetryableErrorTypes: []string{"Fatal"}}, &sdktemporal.RetryPolicy{
			MaximumAttempts: 5, InitialInterval: time.Millisecond, BackoffCoefficient: 1.5, MaximumInterval: time.Second,
			NonRetryableErrorTypes: []string{"DecodeError", "EncodeError", "PayloadTooLarge", "Canceled", "Fatal"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, retryPolicy(c.in)) })
	}
}

func TestFailureMapping(t *testing.T) {
	app := applicationError(&core.Failure{Type: "InsufficientFunds", Message: "no money", Stack: "stack"}, false)
	cases := []struct {
		name string
		err  error
		want *core.Failure
	}{
		{"application", app, &core.Failure{Type: "InsufficientFunds", Message: "no money", Stack: "stack"}},
		{"non-retryable", applicationError(&core.Failure{Type: "T", Message: "m"}, true), &core.Failure{Type: "T", Message: "m", NonRetryable: true}},
		{"wrapped", fmt.Errorf("outer: %w", app), &core.Failure{Type: "InsufficientFunds", Message: "no money", Stack: "stack"}},
		{"canceled", sdktemporal.NewCanceledError(), canceledFailure()},
		{"plain", errors.New("boom"), &core.Failure{Type: core.FailureError, Message: "boom"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, failureFromError(c.err)) })
	}
	assert.Nil(t, failureFromError(nil))
}

func TestActivityIDs(t *testing.T) {
	inst, seq := parseActivityID(directActivityID(7), "wf-1")
	assert.Equal(t, "wf-1", inst)
	assert.Equal(t, int64(7), seq)
	inst, seq = parseActivityID(batchActivityID("parent:with:colons", 1234), "parent:batch:1")
	assert.Equal(t, "parent:with:colons", inst)
	assert.Equal(t, int64(1234), seq)
}

func TestOptionsValidation(t *testing.T) {
	_, err := Open(t.Context(), Options{MaxPendingActivities: 5000})
	assert.ErrorContains(t, err, "MaxPendingActivities 5000")
	_, err = Open(t.Context(), Options{BatchSize: 2500})
	assert.ErrorContains(t, err, "BatchSize 2500")
}
