package errkind_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/codec"
	"github.com/cloudbutton/cloudbutton/internal/errkind"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

func TestOf(t *testing.T) {
	failed := &client.InstanceError{Status: &client.Status{RuntimeStatus: client.StatusFailed,
		Failure: &client.Failure{Type: "Timeout", Message: "timed out"}}}
	tests := []struct {
		err  error
		want errkind.Kind
	}{
		{nil, errkind.Internal},
		{errors.New("disk on fire"), errkind.Internal},
		{fmt.Errorf("x: %w: %q", client.ErrNotFound, "a"), errkind.NotFound},
		{fmt.Errorf("x: %w", client.ErrAlreadyExists), errkind.AlreadyExists},
		{fmt.Errorf("x: %w", client.ErrNotRunning), errkind.NotRunning},
		{fmt.Errorf("x: %w", client.ErrUnknownName), errkind.UnknownName},
		{fmt.Errorf("x: %w", client.ErrBadPageToken), errkind.BadInput},
		{fmt.Errorf("x: %w", client.ErrScheduleNotFound), errkind.NotFound},
		{fmt.Errorf("x: %w", client.ErrScheduleExists), errkind.AlreadyExists},
		{fmt.Errorf("x: %w", client.ErrInvalidSchedule), errkind.BadInput},
		{client.ErrSchedulesUnsupported, errkind.Unsupported},
		{&codec.SizeError{What: "input", Size: 10, Limit: 5}, errkind.TooLarge},
		{fmt.Errorf("suspend: %w", errors.ErrUnsupported), errkind.Unsupported},
		{client.ErrEngineClosed, errkind.Unavailable},
		{failed, errkind.Failed},
		{fmt.Errorf("wait: %w", context.DeadlineExceeded), errkind.Timeout},
		{context.Canceled, errkind.Canceled},
		{errkind.With(errkind.BadInput, client.ErrNotFound), errkind.BadInput},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.err), func(t *testing.T) {
			assert.Equal(t, tt.want, errkind.Of(tt.err))
		})
	}
	assert.ErrorIs(t, failed, orchestration.ErrTimeout, "a failure unwraps to its kind, but is Failed first")
	assert.ErrorIs(t, errkind.With(errkind.BadInput, client.ErrNotFound), client.ErrNotFound, "With keeps the chain")
	assert.NoError(t, errkind.With(errkind.BadInput, nil))
	assert.Equal(t, "not-found", errkind.NotFound.String())
	assert.Equal(t, "internal", errkind.Kind(99).String())
}
