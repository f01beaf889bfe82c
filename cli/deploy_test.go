package cli

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/deploy"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
)

const samplePackage = "github.com/cloudbutton/cloudbutton/samples/lambdafunc"

// startFunctionHost starts a local host with no functions and closes it
// at cleanup.
func startFunctionHost(t *testing.T) string {
	t.Helper()
	h, err := functionhost.New(&functionhost.Config{}, functionhost.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), CodeDir: filepath.Join(t.TempDir(), "code"),
	})
	require.NoError(t, err)
	id, secret := h.Credentials()
	t.Setenv("AWS_ACCESS_KEY_ID", id) // as a user exports what functions serve prints
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	require.NoError(t, err)
	url, err := h.Start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, h.Close(ctx))
	})
	return url
}

// TestFunctionsDeploy deploys samples/lambdafunc to a local host with the
// CLI, twice (the second build greets with "hi"), and invokes the alias
// and both versions.
func TestFunctionsDeploy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sample bootstrap")
	}
	url := startFunctionHost(t)
	code, out, errOut := cli(t, "functions", "deploy", samplePackage, "--function", "samples", "--alias", "live",
		"--endpoint", url, "--timeout", "10s")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "created samples, version 1 (")
	assert.Contains(t, out, "function  arn:aws:lambda:us-east-1:000000000000:function:samples\n")
	assert.Contains(t, out, "version   arn:aws:lambda:us-east-1:000000000000:function:samples:1\n")
	assert.Contains(t, out, "alias     arn:aws:lambda:us-east-1:000000000000:function:samples:live\n")
	assert.Contains(t, errOut, "building "+samplePackage)

	code, out, errOut = cli(t, "functions", "deploy", samplePackage, "--function", "samples", "--alias", "live",
		"--endpoint", url, "--json", "--ldflags", "-X "+samplePackage+"/activities.Greeting=hi")
	require.Equal(t, ExitOK, code, errOut)
	var res deploy.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.False(t, res.Created)
	assert.Equal(t, "2", res.Version)
	assert.Equal(t, "arn:aws:lambda:us-east-1:000000000000:function:samples:live", res.AliasARN)

	ctx := context.Background()
	client, err := awslambda.NewClient(ctx, awslambda.ClientConfig{Region: "us-east-1", Endpoint: url,
		AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")})
	require.NoError(t, err)
	for _, tt := range []struct{ function, want, version string }{
		{"samples:live", "hi, ada", "2"},
		{"samples:1", "hello, ada", "1"},
		{"samples", "hi, ada", "$LATEST"},
	} {
		inv, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(tt.function), Payload: []byte(`{"activity":"greet","input":"ada"}`)})
		require.NoError(t, err)
		assert.Equal(t, `"`+tt.want+`"`, string(inv.Payload), tt.function)
		assert.Equal(t, tt.version, aws.ToString(inv.ExecutedVersion), tt.function)
	}

	// A prebuilt package, with --zip.
	zipPath := filepath.Join(t.TempDir(), "function.zip")
	pkg, err := deploy.Build(ctx, deploy.BuildOptions{Package: samplePackage, GOOS: runtime.GOOS})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(zipPath, pkg, 0o644))
	code, out, errOut = cli(t, "functions", "deploy", "--zip", zipPath, "--function", "other", "--endpoint", url)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "created other, version 1 (")
}

// TestFunctionsServeDeployed serves no config file (there is no
// functions.yaml here) and a function deployed to it with --zip.
func TestFunctionsServeDeployed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sample bootstrap")
	}
	pkg, err := deploy.Build(context.Background(), deploy.BuildOptions{Package: samplePackage, GOOS: runtime.GOOS})
	require.NoError(t, err)
	zipPath := filepath.Join(t.TempDir(), "function.zip")
	require.NoError(t, os.WriteFile(zipPath, pkg, 0o644))
	codeDir := t.TempDir()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, Registrations{}, []string{"functions", "serve", "--addr", "127.0.0.1:0", "--code-dir", codeDir,
			"--access-key-id", "AKIDTEST", "--secret-access-key", "secret"}, &out, &out)
	}()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	urlRe := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+) \(functions: \[\]\)`)
	var url string
	require.Eventually(t, func() bool {
		if m := urlRe.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
		return url != ""
	}, 10*time.Second, 5*time.Millisecond, "output: %s", out.String())

	code, stdout, errOut := cli(t, "functions", "deploy", "--zip", zipPath, "--function", "samples", "--alias", "live", "--endpoint", url)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, stdout, "created samples, version 1 (")
	entries, err := os.ReadDir(filepath.Join(codeDir, "samples"))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the package is extracted into --code-dir")

	client, err := awslambda.NewClient(ctx, awslambda.ClientConfig{Region: "us-east-1", Endpoint: url, AccessKeyID: "AKIDTEST", SecretAccessKey: "secret"})
	require.NoError(t, err)
	inv, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("samples:live"), Payload: []byte(`{"activity":"greet","input":"ada"}`)})
	require.NoError(t, err)
	assert.Equal(t, `"hello, ada"`, string(inv.Payload))
	assert.Equal(t, "1", aws.ToString(inv.ExecutedVersion))

	cancel()
	require.Equal(t, ExitOK, <-done, out.String())
}

func TestFunctionsDeployRefuses(t *testing.T) {
	url := startFunctionHost(t)
	notZip := filepath.Join(t.TempDir(), "not.zip")
	require.NoError(t, os.WriteFile(notZip, []byte("not a zip"), 0o644))
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no function", []string{"functions", "deploy", "."}, ExitUsage, "--function is required"},
		{"bad arch", []string{"functions", "deploy", "-f", "x", "--arch", "mips"}, ExitUsage, `--arch: deploy: architecture "mips"`},
		{"fractional timeout", []string{"functions", "deploy", "-f", "x", "--timeout", "1500ms"}, ExitUsage, "whole number of seconds"},
		{"package and zip", []string{"functions", "deploy", ".", "-f", "x", "--zip", notZip}, ExitUsage, "PACKAGE or --zip, not both"},
		{"missing zip", []string{"functions", "deploy", "-f", "x", "--zip", "/nonexistent.zip", "--endpoint", url}, ExitUsage, "--zip:"},
		{"not a zip", []string{"functions", "deploy", "-f", "x", "--zip", notZip, "--endpoint", url}, ExitError,
			"InvalidParameterValueException: Could not unzip uploaded file"},
		{"bad name", []string{"functions", "deploy", "-f", "../x", "--zip", notZip, "--endpoint", url}, ExitError,
			"ValidationException: 1 validation error detected: Value '../x' at 'functionName'"},
		{"no such package", []string{"functions", "deploy", "./nope", "-f", "x", "--endpoint", url}, ExitError, "building ./nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(t, tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.want)
			assert.False(t, strings.Contains(errOut, "panic"), errOut)
		})
	}
}
