//go:build linux

package functionhost_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/awslambda"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
)

// shellRuntime is a Lambda custom runtime in bash: it polls the Runtime
// API and hands each payload to handle (defined by the test), which may
// print the response or never return.
const shellRuntime = `#!/bin/bash
set -u
api="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
hdrs="$LAMBDA_TASK_ROOT/headers.$$"
exec 3>&1 # the runtime's own stdout, for processes that outlive a handler's output
%s
while true; do
  body=$(curl -sS -D "$hdrs" "$api/invocation/next") || exit 1
  id=$(tr -d '\r' < "$hdrs" | awk 'tolower($1) == "lambda-runtime-aws-request-id:" {print $2}')
  out=$(handle "$body")
  curl -sS -X POST "$api/invocation/$id/response" -d "$out" >/dev/null || exit 1
done
`

// writeRuntime writes a bash bootstrap with the given handle function.
func writeRuntime(t *testing.T, handle string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bootstrap")
	require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(shellRuntime, handle)), 0o755))
	return path
}

// orphanRuntime: "orphan" starts a `setsid sleep 300` whose pid goes to
// $PIDFILE and returns once the pid is written; "hang" never returns;
// anything else returns "ok".
const orphanRuntime = `handle() {
  case "$1" in
  *orphan*)
    setsid bash -c 'echo $$ > "$PIDFILE.tmp" && mv "$PIDFILE.tmp" "$PIDFILE"; exec sleep 300' >&3 2>&3 &
    while [ ! -s "$PIDFILE" ]; do sleep 0.01; done
    echo '"started"' ;;
  *hang*) sleep 300 ;;
  *) echo '"ok"' ;;
  esac
}`

// sandboxModes runs f with environments in their own cgroup (when this
// machine lets the host create cgroup v2 children) and without a cgroup.
func sandboxModes(t *testing.T, f func(t *testing.T, cgroup bool)) {
	t.Run("cgroup", func(t *testing.T) {
		if functionhost.SandboxCgroupDir() == "" {
			t.Skip("the host cannot create cgroup v2 children here")
		}
		t.Cleanup(func() { assertNoCgroupsLeft(t) }) // after the hosts' Close
		f(t, true)
	})
	t.Run("no-cgroup", func(t *testing.T) {
		functionhost.ForceNoCgroup(t)
		f(t, false)
	})
}

// assertNoCgroupsLeft checks that every cgroup this process created is gone.
func assertNoCgroupsLeft(t *testing.T) {
	t.Helper()
	left := func() []string {
		entries, err := os.ReadDir(functionhost.SandboxCgroupDir())
		require.NoError(t, err)
		var out []string
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), functionhost.SandboxCgroupPrefix()) {
				out = append(out, e.Name())
			}
		}
		return out
	}
	assert.Eventually(t, func() bool { return len(left()) == 0 }, 10*time.Second, 5*time.Millisecond, "cgroups left: %v", left())
}

// proc is one process, named by pid and start time (a pid may be reused).
type proc struct {
	pid   int
	start string
	state string
	pgrp  int
	sid   int
}

func readProc(pid int) (proc, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	pgrp, _ := strconv.Atoi(f[2])
	sid, _ := strconv.Atoi(f[3])
	return proc{pid: pid, state: f[0], pgrp: pgrp, sid: sid, start: f[19]}, true
}

// alive reports whether p still runs (a zombie waiting to be reaped by
// init does not).
func (p proc) alive() bool {
	now, ok := readProc(p.pid)
	return ok && now.start == p.start && now.state != "Z" && now.state != "X"
}

// orphanOf reads the pid the orphan runtime wrote, checks the process
// left the bootstrap's session, and kills it at cleanup if a failing
// test left it behind.
func orphanOf(t *testing.T, pidFile string) proc {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	p, ok := readProc(pid)
	require.True(t, ok, "the orphan %d runs", pid)
	t.Cleanup(func() {
		if p.alive() {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
	})
	require.Equal(t, pid, p.sid, "the orphan is a session leader (setsid)")
	require.Equal(t, pid, p.pgrp, "so it is out of the bootstrap's process group")
	return p
}

func requireGone(t *testing.T, p proc, after string) {
	t.Helper()
	require.Eventually(t, func() bool { return !p.alive() }, 10*time.Second, 5*time.Millisecond,
		"the bootstrap's setsid child %d survived %s", p.pid, after)
}

// checkMechanism checks the orphan is held the way the mode says: in one
// of the host's cgroups, or marked in its environment.
func checkMechanism(t *testing.T, p proc, cgroup bool) {
	t.Helper()
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/cgroup")
	require.NoError(t, err)
	env, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/environ")
	require.NoError(t, err)
	if cgroup {
		assert.Contains(t, string(cg), "/"+functionhost.SandboxCgroupPrefix(), "the environment has its own cgroup")
		assert.NotContains(t, string(env), "_CLOUDBUTTON_SANDBOX=")
	} else {
		assert.NotContains(t, string(cg), functionhost.SandboxCgroupPrefix())
		assert.Contains(t, string(env), "\x00_CLOUDBUTTON_SANDBOX=", "the environment's processes are marked")
	}
}

func invokeRaw(t *testing.T, client *lambda.Client, function, payload string) (*lambda.InvokeOutput, string) {
	t.Helper()
	out, err := client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String(function), Payload: []byte(payload), LogType: types.LogTypeTail,
	})
	require.NoError(t, err)
	require.NotNil(t, out.LogResult)
	logs, err := base64.StdEncoding.DecodeString(*out.LogResult)
	require.NoError(t, err)
	return out, string(logs)
}

// TestOrphansDieWithTheirEnvironment: a process the bootstrap started in
// a session of its own (setsid) dies with the environment, whether the
// environment ends by a timeout, host Close or idle shutdown.
func TestOrphansDieWithTheirEnvironment(t *testing.T) {
	sandboxModes(t, func(t *testing.T, cgroup bool) {
		bootstrap := writeRuntime(t, orphanRuntime)
		setup := func(t *testing.T, fc functionhost.FunctionConfig) (*functionhost.Host, *lambda.Client, proc) {
			pidFile := filepath.Join(t.TempDir(), "orphan.pid")
			fc.Bootstrap, fc.Environment = bootstrap, map[string]string{"PIDFILE": pidFile}
			h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"orphan": fc}})
			client := newClient(t, url)
			out, _ := invokeRaw(t, client, "orphan", `"orphan"`)
			require.Nil(t, out.FunctionError, "%s", out.Payload)
			require.Equal(t, `"started"`, string(out.Payload))
			p := orphanOf(t, pidFile)
			checkMechanism(t, p, cgroup)
			return h, client, p
		}

		t.Run("timeout", func(t *testing.T) {
			// The timeout only has to be longer than starting the orphan.
			h, client, p := setup(t, functionhost.FunctionConfig{Timeout: 3 * time.Second})
			out, _ := invokeRaw(t, client, "orphan", `"hang"`)
			require.Equal(t, "Unhandled", aws.ToString(out.FunctionError))
			var e struct{ ErrorType, ErrorMessage string }
			require.NoError(t, json.Unmarshal(out.Payload, &e))
			assert.Equal(t, "Sandbox.Timedout", e.ErrorType, "%s", out.Payload)
			requireGone(t, p, "the timeout")
			out, _ = invokeRaw(t, client, "orphan", `"again"`)
			assert.Equal(t, `"ok"`, string(out.Payload), "a fresh environment serves the next invocation")
			st, _ := h.Stats("orphan")
			assert.Equal(t, int64(2), st.ColdStarts)
		})
		t.Run("close", func(t *testing.T) {
			h, _, p := setup(t, functionhost.FunctionConfig{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, h.Close(ctx))
			requireGone(t, p, "host Close")
		})
		t.Run("idle", func(t *testing.T) {
			h, _, p := setup(t, functionhost.FunctionConfig{IdleTimeout: 20 * time.Millisecond})
			require.Eventually(t, func() bool {
				st, _ := h.Stats("orphan")
				return st.Environments == 0
			}, 10*time.Second, 5*time.Millisecond, "the idle environment is stopped")
			requireGone(t, p, "idle shutdown")
		})
	})
}

// hogRuntime: "hog" makes a child process hold 300 MB; anything else
// returns "ok".
const hogRuntime = `handle() {
  case "$1" in
  *hog*) perl -e '$x = "a" x (300 * 1024 * 1024); sleep 300' ;;
  *) echo '"ok"' ;;
  esac
}`

var oomMessage = regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: signal: killed$`)

// TestMemoryLimitIsEnforced: a 128 MB environment whose process holds
// 300 MB is killed; the invocation fails as on Lambda, with
// Runtime.OutOfMemory and Max Memory Used at the memory size, and the next
// invocation runs on a fresh environment.
func TestMemoryLimitIsEnforced(t *testing.T) {
	sandboxModes(t, func(t *testing.T, _ bool) {
		// The timeout is a backstop: the environment is killed as soon as it
		// is over its memory.
		h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
			"hog": {Bootstrap: writeRuntime(t, hogRuntime), MemoryMB: 128, Timeout: time.Minute, Concurrency: 1},
		}})
		client := newClient(t, url)
		out, logs := invokeRaw(t, client, "hog", `"hog"`)
		require.Equal(t, "Unhandled", aws.ToString(out.FunctionError))
		var e struct{ ErrorType, ErrorMessage string }
		require.NoError(t, json.Unmarshal(out.Payload, &e))
		assert.Equal(t, "Runtime.OutOfMemory", e.ErrorType, "%s", out.Payload)
		assert.Regexp(t, oomMessage, e.ErrorMessage)
		assert.Contains(t, logs, "\tMemory Size: 128 MB\tMax Memory Used: 128 MB", logs)
		t.Logf("%s\n%s", out.Payload, logs)

		out, _ = invokeRaw(t, client, "hog", `"small"`)
		assert.Nil(t, out.FunctionError, "%s", out.Payload)
		assert.Equal(t, `"ok"`, string(out.Payload))
		st, _ := h.Stats("hog")
		assert.Equal(t, int64(2), st.ColdStarts, "the killed environment was replaced")
		assert.Equal(t, int64(1), st.Crashes)

		// Through the invoker, it is a crash of the runtime.
		_, err := newInvoker(t, url, awslambda.Options{DefaultFunction: "hog", Retry: awslambda.RetryOptions{MaxTries: 1}}).
			Invoke(context.Background(), req("hog", `{}`))
		var fe *faas.Error
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, faas.KindCrash, fe.Kind)
		assert.Equal(t, "Runtime.OutOfMemory", fe.Type)
	})
}

var reportLine = regexp.MustCompile(`REPORT RequestId: [0-9a-f-]{36}\tDuration: ([0-9.]+) ms\tBilled Duration: ([0-9]+) ms\t` +
	`Memory Size: ([0-9]+) MB\tMax Memory Used: ([0-9]+) MB(?:\tInit Duration: ([0-9.]+) ms)?\n`)

// report is the numbers of a REPORT line.
type reportNumbers struct {
	duration, billed, init float64
	memorySize, maxMemory  int
}

func parseReport(t *testing.T, logs string) reportNumbers {
	t.Helper()
	m := reportLine.FindStringSubmatch(logs)
	require.NotNil(t, m, "a REPORT line with Max Memory Used in %q", logs)
	var r reportNumbers
	r.duration, _ = strconv.ParseFloat(m[1], 64)
	r.billed, _ = strconv.ParseFloat(m[2], 64)
	r.memorySize, _ = strconv.Atoi(m[3])
	r.maxMemory, _ = strconv.Atoi(m[4])
	if m[5] != "" {
		r.init, _ = strconv.ParseFloat(m[5], 64)
	}
	return r
}

// TestReportLine: the REPORT line of a bootstrap function has Max Memory
// Used (more than 0, at most the memory size, never less on a warm
// invocation) and Billed Duration: the duration, a cold start's init
// included, rounded up to the next ms.
func TestReportLine(t *testing.T) {
	sandboxModes(t, func(t *testing.T, _ bool) {
		_, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
			"samples": {Bootstrap: bootstrap(t), MemoryMB: 128, Timeout: 10 * time.Second},
		}})
		client := newClient(t, url)
		var prev int
		for i, payload := range []string{`{"activity":"greet","input":"ada"}`, `{"activity":"count-words","input":"a b a"}`} {
			out, logs := invokeRaw(t, client, "samples", payload)
			require.Nil(t, out.FunctionError, "%s", out.Payload)
			r := parseReport(t, logs)
			t.Logf("%s", logs)
			assert.Equal(t, 128, r.memorySize)
			assert.Greater(t, r.maxMemory, 0, logs)
			assert.LessOrEqual(t, r.maxMemory, 128, logs)
			assert.GreaterOrEqual(t, r.maxMemory, prev, "Max Memory Used is the environment's peak so far")
			prev = r.maxMemory
			if i == 0 {
				assert.Greater(t, r.init, 0.0, "a cold start: %s", logs)
			} else {
				assert.Zero(t, r.init, "a warm start: %s", logs)
			}
			// Duration and Init Duration are shown to 0.01 ms; Billed Duration is
			// their exact sum rounded up.
			total := r.duration + r.init
			assert.GreaterOrEqual(t, r.billed, math.Floor(total), logs)
			assert.LessOrEqual(t, r.billed, math.Ceil(total+0.03), logs)
		}
	})
}

// TestReportLineInProcess: an in-process function has no memory of its
// own to report; its REPORT line leaves Max Memory Used out.
func TestReportLineInProcess(t *testing.T) {
	_, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{"local": {InProcess: true}}})
	_, logs := invokeRaw(t, newClient(t, url), "local", `{"activity":"greet","input":"ada"}`)
	assert.Contains(t, logs, "\tBilled Duration: ")
	assert.NotContains(t, logs, "Max Memory Used")
}
