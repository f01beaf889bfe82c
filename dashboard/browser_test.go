package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/dashboard"
	"github.com/cloudbutton/cloudbutton/orchestration"
	"github.com/cloudbutton/cloudbutton/worker"
)

// Environment of the browser tests.
const (
	// envScreenshots is the directory screenshots are written to
	// (default: the test's temporary directory).
	envScreenshots = "CLOUDBUTTON_SCREENSHOTS"
	// envReadmeShot, set to 1, also writes the instance page's screenshot
	// to docs/dashboard.png, the README's picture.
	envReadmeShot = "CLOUDBUTTON_README_SCREENSHOT"
	// envChromium names the browser, overriding the search.
	envChromium = "CHROMIUM"
)

// installChromium is what to run when no browser is found.
const installChromium = "./scripts/test.sh (it installs it), or: apt-get install -y chromium"

// chromiumNames are where chromedp looks for a browser on Linux and other
// Unix-like systems (its execLocations), in its order.
var chromiumNames = []string{
	"headless_shell", "headless-shell", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
	"google-chrome-beta", "google-chrome-unstable", "/usr/bin/google-chrome", "/usr/local/bin/chrome", "/snap/bin/chromium", "chrome",
}

// findChromium finds the browser the way chromedp does, or says how to
// install one.
func findChromium() (string, error) {
	if p := os.Getenv(envChromium); p != "" {
		return p, nil
	}
	for _, n := range chromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("dashboard: no Chromium for the browser tests; install it with " + installChromium)
}

// browser starts headless Chromium for t, stopped in t.Cleanup. Without
// a browser, t is skipped with the install command, except under CI
// (CI=true), where it fails: as temporaltest does for the temporal CLI.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := findChromium()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1440, 1000))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run its sandbox as root
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// a bound on the whole test, not a synchronisation: every wait below
	// ends when its condition holds
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing the browser: %v", err)
		}
		cancel()
		cancelAlloc()
	})
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")), "starting %s", path)
	return ctx
}

// acceptDialogs accepts every JavaScript dialog (the actions' confirm)
// until the test ends.
func acceptDialogs(t *testing.T, ctx context.Context) {
	dctx, stop := context.WithCancel(ctx)
	dialogs := chromedp.Events(dctx, page.JavascriptDialogOpening) // ends with dctx
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				return
			}
		}
	})
	t.Cleanup(func() { stop(); wg.Wait() })
}

// screenshot writes the page to the screenshot directory as name.png.
func screenshot(t *testing.T, ctx context.Context, name string, full bool) []byte {
	t.Helper()
	var png []byte
	var err error
	if full {
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	} else {
		png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	require.NoError(t, err)
	dir := os.Getenv(envScreenshots)
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	p := filepath.Join(dir, name+".png")
	require.NoError(t, os.WriteFile(p, png, 0o644))
	t.Logf("screenshot: %s", p)
	return png
}

// crunch takes a little time that varies by item, with a few stragglers,
// so that the timeline has a shape to show.
var crunch = activity.New("crunch", func(ctx context.Context, n int) (int, error) {
	d := time.Duration(5+(n*37)%40) * time.Millisecond
	if n%67 == 13 {
		d = 180 * time.Millisecond // a straggler
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return n, nil
})

// crunchAll fans out n calls of crunch, at most 64 at a time.
var crunchAll = orchestration.New("crunch-all", func(ctx orchestration.Context, n int) (int, error) {
	out, err := orchestration.CallAll(ctx, crunch, items(n), 64).Await(ctx)
	return len(out), err
})

// retriedItem tells the items whose first attempt fails.
func retriedItem(n int) bool { return n%23 == 5 }

// crunchOrFail is crunch whose first attempt fails for the retried items.
var crunchOrFail = activity.New("crunch-or-fail", func(ctx context.Context, n int) (int, error) {
	if info, _ := activity.InfoFrom(ctx); info.Attempt == 1 && retriedItem(n) {
		return 0, activity.NewError("Flaky", fmt.Sprintf("item %d: not this time", n))
	}
	return crunch.Run(ctx, n)
})

// crunchRetried fans out n calls of crunchOrFail, retried.
var crunchRetried = orchestration.New("crunch-retried", func(ctx orchestration.Context, n int) (int, error) {
	out, err := orchestration.CallAll(ctx, crunchOrFail, items(n), 64,
		orchestration.WithRetry(orchestration.RetryPolicy{MaxAttempts: 3, InitialInterval: 20 * time.Millisecond})).Await(ctx)
	return len(out), err
})

// gateOpen releases the calls of gate; TestBrowser makes it before its
// worker starts.
var gateOpen chan struct{}

// gate runs until gateOpen is closed.
var gate = activity.New("gate", func(ctx context.Context, _ struct{}) (string, error) {
	select {
	case <-gateOpen:
		return "through", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
})

var gated = orchestration.New("gated", func(ctx orchestration.Context, _ struct{}) (string, error) {
	return orchestration.Call(ctx, gate, struct{}{}).Await(ctx)
})

func items(n int) []int {
	in := make([]int, n)
	for i := range in {
		in[i] = i
	}
	return in
}

func TestBrowser(t *testing.T) {
	ctx := browser(t)
	acceptDialogs(t, ctx)
	gateOpen = make(chan struct{})
	eng := openEmbedded(t, func(w *worker.Worker) {
		w.RegisterOrchestrators(crunchAll, crunchRetried, gated)
		w.RegisterActivities(crunch, crunchOrFail, gate)
	})
	startAndWait(t, eng, crunchAll, 200, "fan-out-200")
	startAndWait(t, eng, crunchRetried, 200, "retried-200")
	startAndWait(t, eng, failing, "fly", "fails-1")
	startAndWait(t, eng, parent, 5, "parent-1")
	base := serve(t, eng, dashboard.Options{RefreshInterval: 200 * time.Millisecond})

	t.Run("list", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("instances"))))
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#instances tbody tr[data-instance]').length`))
		require.NoError(t, err)
		assert.Equal(t, 5, rows) // fan-out-200, retried-200, fails-1, parent-1 and its child
		completed, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#counts [data-status="Completed"] .count`)))
		require.NoError(t, err)
		assert.Equal(t, "4", completed)
		screenshot(t, ctx, "list", false)
	})

	t.Run("timeline of a fan-out of 200", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/instances/fan-out-200"), chromedp.WaitVisible(chromedp.ID("timeline"))))
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#timeline rect.bar').length`))
		require.NoError(t, err)
		assert.Equal(t, 200, n)
		status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
		require.NoError(t, err)
		assert.Equal(t, "Completed", status)
		hist, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#histograms rect.hbin').length`))
		require.NoError(t, err)
		assert.Positive(t, hist, "a fan-out of 200 calls of one activity gets a histogram")
		screenshot(t, ctx, "instance", false)
		screenshot(t, ctx, "instance-full", true)
	})

	t.Run("retries in colour", func(t *testing.T) {
		retried := 0
		for n := range 200 {
			if retriedItem(n) {
				retried++
			}
		}
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/instances/retried-200"), chromedp.WaitVisible(chromedp.ID("timeline"))))
		counts, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`['rect.bar', 'rect.bar.a-failed.retried', 'rect.bar.a-completed.retried']
			.map(s => document.querySelectorAll('#timeline ' + s).length)`))
		require.NoError(t, err)
		assert.Equal(t, []int{200 + retried, retried, retried}, counts, "bars: every attempt; failed first attempts; their retries")
		png := screenshot(t, ctx, "retried", false)
		if os.Getenv(envReadmeShot) == "1" {
			require.NoError(t, os.WriteFile(filepath.Join("..", "docs", "dashboard.png"), png, 0o644))
			t.Log("wrote ../docs/dashboard.png")
		}
	})

	t.Run("a large instance's history loads on its own", func(t *testing.T) {
		small := serve(t, eng, dashboard.Options{MaxHistoryRows: 100})
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(small+"/instances/fan-out-200"),
			chromedp.WaitVisible(chromedp.CSS(`#history table.events`))))
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#history td.etype').length`))
		require.NoError(t, err)
		assert.Equal(t, 100, rows, "the first and last 50 events")
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#timeline rect.bar').length`))
		require.NoError(t, err)
		assert.Equal(t, 200, n)
	})

	t.Run("raise an event from the page", func(t *testing.T) {
		_, err := client.Start(testCtx(t), eng, approval, "order-9", client.WithInstanceID("order-9"))
		require.NoError(t, err)
		waitStatus(t, eng, "order-9", client.StatusRunning)
		err = chromedp.Do(ctx,
			chromedp.Navigate(base+"/instances/order-9"),
			chromedp.WaitVisible(chromedp.ID("raise-form")),
			chromedp.SendKeys(chromedp.ID("event-name"), "approval"),
			chromedp.SetValue(chromedp.ID("event-payload"), "true"),
			chromedp.Click(chromedp.ID("raise-button")), // confirm() is accepted by acceptDialogs
			chromedp.WaitVisible(chromedp.ID("flash")),
		)
		require.NoError(t, err)
		// the page refreshes itself until the instance has ended
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](
			`document.getElementById('status') !== null && document.getElementById('status').textContent === 'Completed'`,
			chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(0)))
		require.NoError(t, err, "the page never showed Completed")
		out, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#data .payloads div:nth-child(2) pre`)))
		require.NoError(t, err)
		assert.Equal(t, `"approved order-9"`, out)
		st, err := eng.Status(testCtx(t), "order-9")
		require.NoError(t, err)
		assert.Equal(t, client.StatusCompleted, st.RuntimeStatus)
		screenshot(t, ctx, "raised", false)
	})

	t.Run("a running attempt grows, then the page shows its end", func(t *testing.T) {
		_, err := client.Start(testCtx(t), eng, gated, struct{}{}, client.WithInstanceID("gated-1"))
		require.NoError(t, err)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/instances/gated-1"),
			chromedp.WaitVisible(chromedp.CSS(`#timeline rect.bar.a-running`))))
		w0, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`+document.querySelector('#timeline rect.bar.a-running').getAttribute('width')`))
		require.NoError(t, err)
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](
			`+document.querySelector('#timeline rect.bar.a-running').getAttribute('width') > `+fmt.Sprint(w0),
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0)))
		require.NoError(t, err, "the running bar never grew")
		close(gateOpen)
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](
			`document.getElementById('status').textContent === 'Completed' && document.querySelectorAll('#timeline rect.bar.a-completed').length === 1`,
			chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(0)))
		require.NoError(t, err, "the page never showed the call completed")
	})

	t.Run("purge asks first and can be cancelled", func(t *testing.T) {
		// a declined confirm cancels the submission (the page's listener
		// runs first and prevents it), so nothing is posted
		const declined = `(() => {
			let prevented = null;
			window.confirm = () => false;
			document.addEventListener('submit', ev => { prevented = ev.defaultPrevented; ev.preventDefault(); });
			document.querySelector('form[action$="/purge"] button').click();
			return prevented;
		})()`
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/instances/fails-1"), chromedp.WaitVisible(chromedp.ID("actions"))))
		prevented, err := chromedp.Run(ctx, chromedp.Evaluate[bool](declined))
		require.NoError(t, err)
		assert.True(t, prevented, "a declined confirmation must cancel the form")
		_, err = eng.Status(testCtx(t), "fails-1")
		require.NoError(t, err, "still there")
	})
}
