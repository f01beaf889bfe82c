package deploy_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/deploy"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
)

// localHost starts a function host with one in-process function, "local",
// and returns a Lambda client for it.
func localHost(t *testing.T) *lambda.Client {
	t.Helper()
	echo := activity.New("echo", func(ctx context.Context, s string) (string, error) { return s, nil })
	h, err := functionhost.New(&functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"local": {Activity: "echo"}}},
		functionhost.Options{Activities: []activity.Definition{echo}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AccessKeyID: "local", SecretAccessKey: "local"})
	require.NoError(t, err)
	url, err := h.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, h.Close(ctx))
	})
	client, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{
		Region: "us-east-1", Endpoint: url, AccessKeyID: "local", SecretAccessKey: "local"})
	require.NoError(t, err)
	return client
}

// script is a package whose bootstrap is a shell script (never run).
func script(t *testing.T, body string) []byte {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	pkg, err := deploy.ZipBootstrap(bin)
	require.NoError(t, err)
	return pkg
}

func TestDeployToLocalHost(t *testing.T) {
	client := localHost(t)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	_, err := deploy.Deploy(ctx, client, script(t, "echo 1"), deploy.Options{FunctionName: "fresh", Logger: quiet})
	require.ErrorIs(t, err, deploy.ErrNoRole)

	opts := deploy.Options{FunctionName: "fresh", Role: "arn:aws:iam::000000000000:role/r", Alias: "live", Logger: quiet,
		Environment: map[string]string{"A": "1"}, Description: "first"}
	res, err := deploy.Deploy(ctx, client, script(t, "echo 1"), opts)
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.Equal(t, "1", res.Version)

	// Only the options set change on update; the environment is replaced.
	opts.Environment, opts.Description = map[string]string{"B": "2"}, ""
	res, err = deploy.Deploy(ctx, client, script(t, "echo 2"), opts)
	require.NoError(t, err)
	assert.Equal(t, "2", res.Version)
	fn, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("fresh"), Qualifier: aws.String("live")})
	require.NoError(t, err)
	assert.Equal(t, "2", aws.ToString(fn.Configuration.Version))
	assert.Equal(t, map[string]string{"B": "2"}, fn.Configuration.Environment.Variables)
	assert.Equal(t, "first", aws.ToString(fn.Configuration.Description))
	assert.Equal(t, res.CodeSha256, aws.ToString(fn.Configuration.CodeSha256))

	// An in-process function of the host's config has no code to update.
	_, err = deploy.Deploy(ctx, client, script(t, "echo 3"), deploy.Options{FunctionName: "local", Logger: quiet})
	require.ErrorContains(t, err, "deploy: updating the code of local")
	require.ErrorContains(t, err, "InvalidParameterValueException")
}
