package client_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
)

func TestUsageJSON(t *testing.T) {
	u := client.Usage{Invocations: 3, BilledDuration: 300 * time.Millisecond, GBSeconds: 0.375}
	b, err := json.Marshal(u)
	require.NoError(t, err)
	assert.JSONEq(t, `{"invocations":3,"billedMs":300,"gbSeconds":0.375}`, string(b))
	var back client.Usage
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, u, back)
	assert.Equal(t, "3 invocations, 300ms billed, 0.375 GB-s", u.String())
}

func TestTotalUsage(t *testing.T) {
	own := &client.Usage{Invocations: 1, BilledDuration: time.Second, GBSeconds: 1}
	sub := &client.Usage{Invocations: 2, BilledDuration: 2 * time.Second, GBSeconds: 0.5}
	for _, tt := range []struct {
		name     string
		own, sub *client.Usage
		want     *client.Usage
	}{
		{"both", own, sub, &client.Usage{Invocations: 3, BilledDuration: 3 * time.Second, GBSeconds: 1.5}},
		{"no children's", own, nil, nil},
		{"no own", nil, sub, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := &client.Status{Usage: tt.own, SubOrchestrationUsage: tt.sub}
			assert.Equal(t, tt.want, st.TotalUsage())
		})
	}
}
