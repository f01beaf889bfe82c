package lambdatest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/internal/lambdatest"
	"github.com/cloudbutton/cloudbutton/internal/syncbuf"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newClient is the real SDK client of the invoker, against url.
func newClient(t *testing.T, url string) *lambda.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{
		Region: "us-east-1", Endpoint: url, AccessKeyID: "test", SecretAccessKey: "test", HTTPClient: &http.Client{Transport: tr},
	})
	require.NoError(t, err)
	return c
}

func invoke(t *testing.T, c *lambda.Client, payload string) *lambda.InvokeOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(lambdatest.FunctionName), Payload: []byte(payload)})
	require.NoError(t, err)
	return out
}

func TestEchoOnRIE(t *testing.T) {
	tests := []struct {
		name      string
		bootstrap func(t *testing.T) string
		check     func(t *testing.T, payload []byte)
	}{
		{"plain aws-lambda-go function", func(t *testing.T) string { return lambdatest.BuildPlain(t) }, func(t *testing.T, payload []byte) {
			assert.JSONEq(t, `{"case":"echo","n":[1,2]}`, string(payload))
		}},
		{"bash and curl runtime", func(t *testing.T) string { return lambdatest.WriteCurlRuntime(t, t.TempDir()) }, func(t *testing.T, payload []byte) {
			var got struct {
				Payload json.RawMessage   `json:"payload"`
				Headers map[string]string `json:"headers"`
			}
			require.NoError(t, json.Unmarshal(payload, &got), "%s", payload)
			assert.JSONEq(t, `{"case":"echo","n":[1,2]}`, string(got.Payload))
			assert.NotEmpty(t, got.Headers["Lambda-Runtime-Aws-Request-Id"])
			assert.NotEmpty(t, got.Headers["Lambda-Runtime-Deadline-Ms"])
			assert.Equal(t, "arn:aws:lambda:us-east-1:012345678912:function:function", got.Headers["Lambda-Runtime-Invoked-Function-Arn"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := lambdatest.Start(t, tt.bootstrap(t), lambdatest.Options{Timeout: time.Minute})
			assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
			c := newClient(t, url)
			for range 2 { // cold, then warm
				out := invoke(t, c, `{"case":"echo","n":[1,2]}`)
				assert.Equal(t, int32(200), out.StatusCode)
				assert.Nil(t, out.FunctionError)
				tt.check(t, out.Payload)
			}
		})
	}
}

func TestOptionsReachTheFunction(t *testing.T) {
	out := &syncbuf.Buffer{}
	url := lambdatest.Start(t, lambdatest.BuildPlain(t), lambdatest.Options{
		Timeout: 59500 * time.Millisecond, MemoryMB: 256, FunctionName: "myfn", Env: map[string]string{"EXTRA": "x"}, Output: out,
	})
	c := newClient(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before := time.Now()
	res, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(lambdatest.FunctionName), Payload: []byte(`{"case":"context"}`),
		ClientContext: aws.String(base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`)))})
	require.NoError(t, err)
	var got struct {
		RequestID          string            `json:"requestId"`
		DeadlineUnixMs     int64             `json:"deadlineUnixMs"`
		InvokedFunctionArn string            `json:"invokedFunctionArn"`
		ClientContext      map[string]any    `json:"clientContext"`
		Env                map[string]string `json:"env"`
	}
	require.NoError(t, json.Unmarshal(res.Payload, &got), "%s", res.Payload)
	assert.NotEmpty(t, got.RequestID)
	assert.Equal(t, "arn:aws:lambda:us-east-1:012345678912:function:myfn", got.InvokedFunctionArn)
	assert.Equal(t, map[string]any{"k": "v"}, got.ClientContext["custom"])
	assert.Equal(t, "256", got.Env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
	assert.Equal(t, "60", got.Env["AWS_LAMBDA_FUNCTION_TIMEOUT"], "whole seconds, rounded up")
	deadline := time.UnixMilli(got.DeadlineUnixMs)
	assert.True(t, deadline.After(before) && deadline.Before(time.Now().Add(61*time.Second)), "deadline %v", deadline)
	// RIE prints the REPORT line before it answers, but its output is
	// copied from a pipe: it may arrive a little later.
	assert.Eventually(t, func() bool { return strings.Contains(out.String(), "REPORT RequestId: "+got.RequestID) },
		30*time.Second, 5*time.Millisecond, "RIE's output reaches Options.Output")
}

// TestCleanupStopsEverything leaves RIE's runtime mid-invocation (a
// sleep, a child of the bash runtime) and checks that the cleanup of the
// test that started it leaves no process behind.
func TestCleanupStopsEverything(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds processes in /proc")
	}
	var groups []int
	var rie int
	t.Run("start", func(t *testing.T) {
		out := &syncbuf.Buffer{}
		url := lambdatest.Start(t, lambdatest.WriteCurlRuntime(t, t.TempDir()), lambdatest.Options{Timeout: time.Hour, Output: out})
		c := newClient(t, url)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(lambdatest.FunctionName), Payload: []byte(`{"case":"sleep"}`)})
			done <- err
		}()
		t.Cleanup(func() { cancel(); <-done }) // runs before (LIFO) the harness's cleanup
		require.Eventually(t, func() bool { return strings.Contains(out.String(), ": sleep\n") }, time.Minute, 10*time.Millisecond, "the runtime starts the sleep")
		rie, groups = lambdatest.RIEProcessForTest(t, url)
		require.NotEmpty(t, groups, "the runtime's process group")
	})
	require.NotZero(t, rie)
	assert.ErrorIs(t, syscall.Kill(rie, 0), syscall.ESRCH, "RIE was waited for")
	for _, g := range groups {
		assert.Eventually(t, func() bool { return errors.Is(syscall.Kill(-g, 0), syscall.ESRCH) || onlyZombies(g) },
			30*time.Second, 10*time.Millisecond, "process group %d is gone", g)
	}
}

// onlyZombies reports whether process group g's members have all exited
// (but not been reaped yet by their new parent).
func onlyZombies(g int) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) >= 3 && f[2] == strconv.Itoa(g) && f[0] != "Z" {
			return false
		}
	}
	return true
}

func TestFindRIEWithoutIt(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	_, err := lambdatest.FindRIE()
	require.ErrorIs(t, err, lambdatest.ErrNoRIE)
	assert.Contains(t, err.Error(), lambdatest.InstallCommand)
}

func TestTestScriptInstallsThisVersion(t *testing.T) {
	b, err := os.ReadFile("../../scripts/test.sh")
	require.NoError(t, err)
	version := lambdatest.InstallCommand[strings.LastIndexByte(lambdatest.InstallCommand, '@')+1:]
	assert.Contains(t, string(b), "LAMBDA_RIE_VERSION="+version)
}

// TestRIEExitingFailsTheTest: RIE dying under a test (it crashes on a
// second concurrent invocation, say) fails that test.
func TestRIEExitingFailsTheTest(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds processes in /proc")
	}
	var url string
	ft := &failRecorder{T: t}
	func() {
		defer ft.runCleanups()
		url = lambdatest.Start(ft, lambdatest.BuildPlain(t), lambdatest.Options{Timeout: time.Minute})
		pid, _ := lambdatest.RIEProcessForTest(t, url)
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		require.Eventually(t, func() bool { return lambdatest.RIEExitedForTest(url) }, time.Minute, 10*time.Millisecond)
	}()
	require.Len(t, ft.errors, 1)
	assert.Contains(t, ft.errors[0], "exited during the test")
}

// failRecorder is a testing.TB whose cleanups run on demand and whose
// errors are recorded, not reported.
type failRecorder struct {
	*testing.T
	errors   []string
	cleanups []func()
}

func (f *failRecorder) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *failRecorder) Errorf(format string, a ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, a...))
}
func (f *failRecorder) Failed() bool        { return len(f.errors) > 0 }
func (f *failRecorder) Logf(string, ...any) {}

func (f *failRecorder) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}
