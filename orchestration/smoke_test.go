package orchestration_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var double = activity.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })

var sumDoubles = orchestration.New("sum-doubles", func(ctx orchestration.Context, n int) (int, error) {
	fs := make([]orchestration.Future[int], n)
	for i := range fs {
		fs[i] = orchestration.Call(ctx, double, i)
	}
	vals, err := orchestration.All(ctx, fs...).Await(ctx)
	if err != nil {
		return 0, err
	}
	sum := 0
	for _, v := range vals {
		sum += v
	}
	return sum, nil
})

func TestSmoke(t *testing.T) {
	env := orchestrationtest.New(t)
	env.RegisterActivities(double)
	out, err := orchestrationtest.Run(env, sumDoubles, 10)
	require.NoError(t, err)
	require.Equal(t, 90, out)
	require.Len(t, env.History(), 1+10+10+1)
}
