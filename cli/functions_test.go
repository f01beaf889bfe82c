package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
)

// greet is an activity of a user's program.
var greet = activity.New("greet", func(ctx context.Context, name string) (string, error) { return "hello, " + name, nil })

// TestFunctionsServe serves a registered activity as an in-process
// function and invokes it through the AWS SDK's Lambda client.
func TestFunctionsServe(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "functions.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("functions:\n  greet:\n    activity: greet\n"), 0o644))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, Registrations{Activities: []activity.Definition{greet}},
			[]string{"functions", "serve", "--config", cfgPath, "--addr", "127.0.0.1:0"}, &out, &out)
	}()
	credRe := regexp.MustCompile(`export AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)`)

	urlRe := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var url string
	require.Eventually(t, func() bool {
		m := urlRe.FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 10*time.Second, 5*time.Millisecond, "output: %s", out.String())

	var creds []string
	require.Eventually(t, func() bool { creds = credRe.FindStringSubmatch(out.String()); return creds != nil }, 10*time.Second, 5*time.Millisecond)

	// Unsigned with its credentials, nothing runs.
	other, err := awslambda.NewClient(ctx, awslambda.ClientConfig{Region: "us-east-1", Endpoint: url, AccessKeyID: "k", SecretAccessKey: "s"})
	require.NoError(t, err)
	otherInv, err := awslambda.New(other, awslambda.Options{})
	require.NoError(t, err)
	_, err = otherInv.Invoke(ctx, faas.Request{Activity: "greet", Input: []byte(`"cli"`), Attempt: 1})
	require.ErrorContains(t, err, "UnrecognizedClientException")

	client, err := awslambda.NewClient(ctx, awslambda.ClientConfig{Region: "us-east-1", Endpoint: url, AccessKeyID: creds[1], SecretAccessKey: creds[2]})
	require.NoError(t, err)
	inv, err := awslambda.New(client, awslambda.Options{})
	require.NoError(t, err)
	res, err := inv.Invoke(ctx, faas.Request{Activity: "greet", Input: []byte(`"cli"`), Attempt: 1})
	require.NoError(t, err)
	assert.Equal(t, `"hello, cli"`, string(res))

	cancel()
	require.Equal(t, ExitOK, <-done, out.String())
}

func TestFunctionsServeRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, yaml string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(yaml), 0o644))
		return p
	}
	greetOnly := Registrations{Activities: []activity.Definition{greet}}
	tests := []struct {
		name   string
		regs   Registrations
		config string
		want   []string
	}{
		{"missing config", greetOnly, filepath.Join(dir, "missing.yaml"), []string{"missing.yaml"}},
		{"activity not registered", greetOnly, write("other.yaml", "functions:\n  f:\n    activity: count-words\n"),
			[]string{`activity "count-words" is not among the host's activities (greet)`}},
		{"no activities registered", Registrations{}, write("all.yaml", "functions:\n  f:\n    inProcess: true\n"),
			[]string{"has no activities", "this program registers no activities for in-process functions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tt.regs, []string{"functions", "serve", "--config", tt.config, "--addr", "127.0.0.1:0"}, &out, &errOut)
			assert.Equal(t, ExitError, code)
			for _, w := range tt.want {
				assert.Contains(t, errOut.String(), w)
			}
		})
	}
}
