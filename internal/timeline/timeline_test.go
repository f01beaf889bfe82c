package timeline

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

func TestState(t *testing.T) {
	tests := []struct {
		f    *core.Failure
		want client.AttemptState
	}{
		{nil, client.AttemptFailed},
		{&core.Failure{Type: "Transient"}, client.AttemptFailed},
		{&core.Failure{Type: core.FailureInterrupted}, client.AttemptFailed},
		{&core.Failure{Type: core.FailurePanic}, client.AttemptFailed},
		{&core.Failure{Type: core.FailureTimeout}, client.AttemptTimedOut},
		{&core.Failure{Type: core.FailureCanceled}, client.AttemptCanceled},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, State(tt.f), "%+v", tt.f)
		assert.True(t, tt.want.Finished())
	}
	assert.False(t, client.AttemptScheduled.Finished())
	assert.False(t, client.AttemptRunning.Finished())
}

func TestSort(t *testing.T) {
	as := []client.ActivityAttempt{{TaskID: 2, Attempt: 1}, {TaskID: 1, Attempt: 2}, {TaskID: 1, Attempt: 1}}
	Sort(as)
	assert.Equal(t, []client.ActivityAttempt{{TaskID: 1, Attempt: 1}, {TaskID: 1, Attempt: 2}, {TaskID: 2, Attempt: 1}}, as)
}
