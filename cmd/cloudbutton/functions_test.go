package main

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

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
)

func TestFunctionsServe(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "functions.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("functions:\n  greet:\n    activity: greet\n"), 0o644))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncbuf.Buffer
	cmd := newFunctionsCmd()
	cmd.SetArgs([]string{"serve", "--config", cfgPath, "--addr", "127.0.0.1:0"})
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	urlRe := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var url string
	require.Eventually(t, func() bool {
		m := urlRe.FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 10*time.Second, 5*time.Millisecond, "output: %s", out.String())

	client, err := awslambda.NewClient(ctx, awslambda.ClientConfig{Region: "us-east-1", Endpoint: url, AccessKeyID: "k", SecretAccessKey: "s"})
	require.NoError(t, err)
	inv, err := awslambda.New(client, awslambda.Options{})
	require.NoError(t, err)
	res, err := inv.Invoke(ctx, faas.Request{Activity: "greet", Input: []byte(`"cli"`), Attempt: 1})
	require.NoError(t, err)
	assert.Equal(t, `"hello, cli"`, string(res))

	cancel()
	require.NoError(t, <-done)
}

func TestFunctionsServeRejectsBadConfig(t *testing.T) {
	cmd := newFunctionsCmd()
	cmd.SetArgs([]string{"serve", "--config", filepath.Join(t.TempDir(), "missing.yaml")})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	assert.ErrorContains(t, cmd.Execute(), "missing.yaml")
}
