package client_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
)

func TestOverlapPolicyText(t *testing.T) {
	for _, p := range []client.OverlapPolicy{client.OverlapSkip, client.OverlapBufferOne, client.OverlapAllowAll, client.OverlapCancelPrevious} {
		b, err := json.Marshal(p)
		require.NoError(t, err)
		assert.Equal(t, `"`+p.String()+`"`, string(b))
		var back client.OverlapPolicy
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, p, back)
		parsed, err := client.ParseOverlapPolicy(p.String())
		require.NoError(t, err)
		assert.Equal(t, p, parsed)
	}
	var p client.OverlapPolicy
	require.ErrorIs(t, json.Unmarshal([]byte(`"maybe"`), &p), client.ErrInvalidSchedule)
	_, err := json.Marshal(client.OverlapPolicy(9))
	require.Error(t, err)
	assert.Equal(t, "OverlapPolicy(9)", client.OverlapPolicy(9).String())
}

// TestScheduleOptionsRefuse: each option constructor refuses its bad
// values, naming them, with ErrInvalidSchedule.
func TestScheduleOptionsRefuse(t *testing.T) {
	for _, tc := range []struct {
		opt  client.ScheduleOption
		says string
	}{
		{client.WithOverlap(7), "WithOverlap(7)"},
		{client.WithCatchupWindow(0), "WithCatchupWindow(0s)"},
		{client.WithJitter(-time.Second), "WithJitter(-1s)"},
		{client.WithTimeZone("Nowhere/Land"), `WithTimeZone("Nowhere/Land")`},
		{client.WithTimeZone(""), `WithTimeZone("")`},
		{client.WithScheduleLimit(0), "WithScheduleLimit(0)"},
		{client.WithScheduleLimit(-2), "WithScheduleLimit(-2)"},
	} {
		err := client.CreateSchedule(t.Context(), nil, "s", client.Every(time.Hour), report, "x", tc.opt)
		require.ErrorIs(t, err, client.ErrInvalidSchedule, tc.says)
		assert.Contains(t, err.Error(), tc.says)
	}
}
