package orchestration_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/orchestration/orchestrationtest"
)

var keyed = activity.New("keyed", func(ctx context.Context, s string) (string, error) { return s, nil })

func TestWithKeyBadInput(t *testing.T) {
	cases := []struct{ key, want string }{
		{"", `WithKey(""): empty`},
		{"\xff", `not valid UTF-8`},
		{strings.Repeat("k", 300), `300 bytes (at most 256)`},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			o := orchestration.New("keyed-call", func(ctx orchestration.Context, _ string) (string, error) {
				return orchestration.Call(ctx, keyed, "x", orchestration.WithKey(c.key)).Await(ctx)
			})
			env := orchestrationtest.New(t)
			orchestrationtest.MockActivity(env, keyed, func(ctx context.Context, s string) (string, error) { return s, nil })
			_, err := orchestrationtest.Run(env, o, "")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Run: %v; want an error with %q", err, c.want)
			}
		})
	}
}
