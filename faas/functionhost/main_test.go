package functionhost_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
	"github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities"
)

var (
	buildDir     string
	buildOnce    sync.Once
	bootstrapBin string
	buildErr     error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "functionhost-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// bootstrap builds samples/lambdafunc once per test binary, exactly as the
// README says to build it for Lambda.
func bootstrap(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		out := filepath.Join(buildDir, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, "github.com/cloudbutton/cloudbutton/samples/lambdafunc")
		cmd.Env = append(os.Environ(), "GOOS="+runtime.GOOS, "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the sample bootstrap: %v\n%s", err, b)
			return
		}
		bootstrapBin = out
	})
	require.NoError(tb, buildErr)
	return bootstrapBin
}

// startHost starts a host on a loopback port and closes it at cleanup.
func startHost(tb testing.TB, cfg *functionhost.Config, extra ...activity.Definition) (*functionhost.Host, string) {
	tb.Helper()
	return startHostWith(tb, cfg, functionhost.Options{Activities: extra})
}

// startHostWith is startHost with options; the sample activities are
// added to opts.Activities, and defaults to the logger and reap interval.
func startHostWith(tb testing.TB, cfg *functionhost.Config, opts functionhost.Options) (*functionhost.Host, string) {
	tb.Helper()
	opts.Activities = append(activities.All(), opts.Activities...)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if opts.ReapInterval == 0 {
		opts.ReapInterval = 10 * time.Millisecond
	}
	if opts.AccessKeyID == "" {
		opts.AccessKeyID, opts.SecretAccessKey = "local", "local" // newClient's
	}
	h, err := functionhost.New(cfg, opts)
	require.NoError(tb, err)
	url, err := h.Start("127.0.0.1:0")
	require.NoError(tb, err)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(tb, h.Close(ctx))
	})
	return h, url
}

// newClient returns a real AWS SDK Lambda client for the host.
func newClient(tb testing.TB, url string) *lambda.Client {
	tb.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 128
	tb.Cleanup(tr.CloseIdleConnections)
	c, err := awslambda.NewClient(context.Background(), awslambda.ClientConfig{
		Region: "us-east-1", Endpoint: url, AccessKeyID: "local", SecretAccessKey: "local",
		HTTPClient: &http.Client{Transport: tr},
	})
	require.NoError(tb, err)
	return c
}

func newInvoker(tb testing.TB, url string, opts awslambda.Options) *awslambda.Invoker {
	tb.Helper()
	inv, err := awslambda.New(newClient(tb, url), opts)
	require.NoError(tb, err)
	return inv
}
