package functionhost_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/faas/deploy"
	"github.com/cloudbutton/cloudbutton/faas/functionhost"
)

const greetingVar = "github.com/cloudbutton/cloudbutton/samples/lambdafunc/activities.Greeting"

var (
	pkgOnce  sync.Once
	pkgV1    []byte // samples/lambdafunc: greet says "hello"
	pkgV2    []byte // the same, built to say "hi"
	pkgErr   error
	testRole = "arn:aws:iam::000000000000:role/test"
)

// packages builds the two deployment packages of samples/lambdafunc once
// per test binary, through faas/deploy, for this machine (the host runs
// them natively).
func packages(tb testing.TB) (v1, v2 []byte) {
	tb.Helper()
	pkgOnce.Do(func() {
		ctx := context.Background()
		opts := deploy.BuildOptions{Package: "github.com/cloudbutton/cloudbutton/samples/lambdafunc", GOOS: runtime.GOOS}
		if pkgV1, pkgErr = deploy.Build(ctx, opts); pkgErr != nil {
			return
		}
		opts.LDFlags = "-X " + greetingVar + "=hi"
		pkgV2, pkgErr = deploy.Build(ctx, opts)
	})
	require.NoError(tb, pkgErr)
	return pkgV1, pkgV2
}

// greet invokes the greet activity of function (a name, name:qualifier or
// ARN) with qualifier, and returns the result and the executed version.
func greet(t *testing.T, c *lambda.Client, function, qualifier string) (string, string) {
	t.Helper()
	in := &lambda.InvokeInput{FunctionName: aws.String(function), Payload: []byte(`{"activity":"greet","input":"ada"}`)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := c.Invoke(context.Background(), in)
	require.NoError(t, err, "invoking %s (qualifier %q)", function, qualifier)
	require.Nil(t, out.FunctionError, "%s", out.Payload)
	var s string
	require.NoError(t, json.Unmarshal(out.Payload, &s), "%s", out.Payload)
	return s, aws.ToString(out.ExecutedVersion)
}

// apiError asserts err is the AWS error code with a message starting
// with msg.
func apiError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	require.True(t, errors.As(err, &ae), "want %s, got %v", code, err)
	assert.Equal(t, code, ae.ErrorCode(), "%v", err)
	assert.True(t, strings.HasPrefix(ae.ErrorMessage(), msg), "message %q, want it to start with %q", ae.ErrorMessage(), msg)
}

// TestDeployVersionsAndAliases deploys v1 of a function to the local host
// with faas/deploy and the real SDK, invokes it, deploys v2, and invokes
// the alias (v2), version 1 (v1) and $LATEST (v2).
func TestDeployVersionsAndAliases(t *testing.T) {
	v1, v2 := packages(t)
	codeDir := t.TempDir()
	h, url := startHostWith(t, &functionhost.Config{}, functionhost.Options{CodeDir: codeDir})
	c := newClient(t, url)
	ctx := context.Background()
	opts := deploy.Options{FunctionName: "samples", Alias: "live", Role: testRole, Architecture: runtime.GOARCH, Timeout: 10 * time.Second}

	res, err := deploy.Deploy(ctx, c, v1, opts)
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.Equal(t, "1", res.Version)
	assert.Equal(t, "arn:aws:lambda:us-east-1:000000000000:function:samples", res.FunctionARN)
	assert.Equal(t, res.FunctionARN+":1", res.VersionARN)
	assert.Equal(t, res.FunctionARN+":live", res.AliasARN)
	assert.Equal(t, []string{"samples"}, h.FunctionNames())

	got, ver := greet(t, c, "samples", "live")
	assert.Equal(t, "hello, ada", got)
	assert.Equal(t, "1", ver)

	res, err = deploy.Deploy(ctx, c, v2, opts)
	require.NoError(t, err)
	assert.False(t, res.Created)
	assert.Equal(t, "2", res.Version)

	tests := []struct {
		function, qualifier, want, version string
	}{
		{"samples", "live", "hi, ada", "2"},
		{"samples", "1", "hello, ada", "1"},
		{"samples", "2", "hi, ada", "2"},
		{"samples", "", "hi, ada", "$LATEST"},
		{"samples", "$LATEST", "hi, ada", "$LATEST"},
		{"samples:1", "", "hello, ada", "1"},
		{"samples:live", "", "hi, ada", "2"},
		{"arn:aws:lambda:us-east-1:000000000000:function:samples:1", "", "hello, ada", "1"},
		{"000000000000:function:samples:live", "", "hi, ada", "2"},
	}
	for _, tt := range tests {
		got, ver := greet(t, c, tt.function, tt.qualifier)
		assert.Equal(t, tt.want, got, "%s qualifier %q", tt.function, tt.qualifier)
		assert.Equal(t, tt.version, ver, "%s qualifier %q", tt.function, tt.qualifier)
	}

	// The same code again: no new version (Lambda publishes none when
	// nothing changed), the alias stays.
	res, err = deploy.Deploy(ctx, c, v2, opts)
	require.NoError(t, err)
	assert.Equal(t, "2", res.Version)

	// A configuration change alone is a new version.
	opts.MemoryMB = 256
	res, err = deploy.Deploy(ctx, c, v2, opts)
	require.NoError(t, err)
	assert.Equal(t, "3", res.Version)

	fn, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("samples")})
	require.NoError(t, err)
	cfg := fn.Configuration
	assert.Equal(t, "$LATEST", aws.ToString(cfg.Version))
	assert.Equal(t, res.CodeSha256, aws.ToString(cfg.CodeSha256))
	assert.Equal(t, int64(len(v2)), cfg.CodeSize)
	assert.Equal(t, int32(256), aws.ToInt32(cfg.MemorySize))
	assert.Equal(t, int32(10), aws.ToInt32(cfg.Timeout))
	assert.Equal(t, types.RuntimeProvidedal2023, cfg.Runtime)
	assert.Equal(t, testRole, aws.ToString(cfg.Role))
	assert.Equal(t, types.StateActive, cfg.State)
	assert.Equal(t, types.LastUpdateStatusSuccessful, cfg.LastUpdateStatus)

	fn1, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("samples"), Qualifier: aws.String("1")})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.ToString(fn1.Configuration.Version))
	assert.Equal(t, int32(128), aws.ToInt32(fn1.Configuration.MemorySize), "a version keeps the configuration it was published with")
	assert.NotEqual(t, aws.ToString(cfg.CodeSha256), aws.ToString(fn1.Configuration.CodeSha256))

	versions, err := c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("samples")})
	require.NoError(t, err)
	var names []string
	for _, v := range versions.Versions {
		names = append(names, aws.ToString(v.Version))
	}
	assert.Equal(t, []string{"$LATEST", "1", "2", "3"}, names)

	aliases, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("samples")})
	require.NoError(t, err)
	require.Len(t, aliases.Aliases, 1)
	assert.Equal(t, "3", aws.ToString(aliases.Aliases[0].FunctionVersion))

	list, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	require.NoError(t, err)
	require.Len(t, list.Functions, 1)
	assert.Equal(t, "samples", aws.ToString(list.Functions[0].FunctionName))
	all, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll})
	require.NoError(t, err)
	assert.Len(t, all.Functions, 4)

	entries, err := os.ReadDir(filepath.Join(codeDir, "samples"))
	require.NoError(t, err)
	assert.Len(t, entries, 2, "one directory per package")

	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("samples")})
	require.NoError(t, err)
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("samples")})
	apiError(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:samples")
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("samples"), Qualifier: aws.String("live")})
	apiError(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:samples:live")
	assert.Empty(t, h.FunctionNames())
	_, err = os.Stat(filepath.Join(codeDir, "samples"))
	assert.ErrorIs(t, err, os.ErrNotExist, "DeleteFunction removes the function's code")
	list, err = c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	require.NoError(t, err)
	assert.Empty(t, list.Functions)
}

// TestConfigFunctionThroughAPI updates and publishes a function of the
// config file through the API: its version 1 keeps the config's code.
func TestConfigFunctionThroughAPI(t *testing.T) {
	_, v2 := packages(t)
	h, url := startHost(t, &functionhost.Config{Functions: map[string]functionhost.FunctionConfig{
		"samples": {Bootstrap: bootstrap(t), Timeout: 10 * time.Second},
		"local":   {InProcess: true},
	}})
	c := newClient(t, url)
	ctx := context.Background()

	fn, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("samples")})
	require.NoError(t, err)
	assert.Equal(t, "$LATEST", aws.ToString(fn.Configuration.Version))
	assert.Equal(t, int32(10), aws.ToInt32(fn.Configuration.Timeout))

	pub, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("samples"), Description: aws.String("from the config")})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.ToString(pub.Version))
	assert.Equal(t, "from the config", aws.ToString(pub.Description))
	_, err = c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("samples"), Name: aws.String("stable"), FunctionVersion: aws.String("1")})
	require.NoError(t, err)

	// An invocation running while the code changes finishes on the old
	// code; then the old code's environments stop.
	pid := runtimePID(t, c, "samples")
	slow := make(chan *lambda.InvokeOutput, 1)
	go func() {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("samples"), Payload: []byte(`{"activity":"sleep","input":500}`)})
		assert.NoError(t, err)
		slow <- out
	}()
	require.Eventually(t, func() bool { st, _ := h.Stats("samples"); return st.Invocations >= 2 }, 10*time.Second, time.Millisecond)
	up, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("samples"), ZipFile: v2})
	require.NoError(t, err)
	assert.Equal(t, types.LastUpdateStatusSuccessful, up.LastUpdateStatus)
	if out := <-slow; out != nil {
		assert.Nil(t, out.FunctionError, "%s", out.Payload)
		assert.Equal(t, "500", string(out.Payload))
	}
	require.Eventually(t, func() bool { return !processAlive(pid) }, 10*time.Second, 5*time.Millisecond,
		"the old code's process %d stops", pid)
	assert.NotEqual(t, pid, runtimePID(t, c, "samples"))
	got, ver := greet(t, c, "samples", "")
	assert.Equal(t, "hi, ada", got)
	assert.Equal(t, "$LATEST", ver)
	got, ver = greet(t, c, "samples", "stable")
	assert.Equal(t, "hello, ada", got)
	assert.Equal(t, "1", ver)

	// Configuration updates reach $LATEST's new environments; version 1
	// keeps its own.
	_, err = c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("samples"), MemorySize: aws.Int32(512), Environment: &types.Environment{Variables: map[string]string{"X": "y"}}})
	require.NoError(t, err)
	memory := func(qualifier string) string {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("samples"), Qualifier: aws.String(qualifier),
			Payload: []byte(`{"activity":"runtime-info","input":{}}`)})
		require.NoError(t, err)
		var info struct{ Memory string }
		require.NoError(t, json.Unmarshal(out.Payload, &info), "%s", out.Payload)
		return info.Memory
	}
	assert.Equal(t, "512", memory("$LATEST"))
	assert.Equal(t, "128", memory("1"))

	// An in-process function has no code to update, but publishes.
	_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("local"), ZipFile: v2})
	apiError(t, err, "InvalidParameterValueException", "Function local is in-process")
	pub, err = c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("local")})
	require.NoError(t, err)
	got, ver = greet(t, c, "local:1", "")
	assert.Equal(t, "hello, ada", got)
	assert.Equal(t, "1", ver)
}

// runtimePID returns the process id $LATEST of function runs in.
func runtimePID(t *testing.T, c *lambda.Client, function string) int {
	t.Helper()
	out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(function), Payload: []byte(`{"activity":"runtime-info","input":{}}`)})
	require.NoError(t, err)
	var info struct{ PID int }
	require.NoError(t, json.Unmarshal(out.Payload, &info), "%s", out.Payload)
	require.NotZero(t, info.PID)
	return info.PID
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// TestControlPlaneRefuses sends each kind of bad input and checks AWS's
// error code and message, and that the host keeps serving.
func TestControlPlaneRefuses(t *testing.T) {
	v1, _ := packages(t)
	_, url := startHost(t, &functionhost.Config{})
	c := newClient(t, url)
	ctx := context.Background()
	_, err := deploy.Deploy(ctx, c, v1, deploy.Options{FunctionName: "f", Alias: "live", Role: testRole, Architecture: runtime.GOARCH})
	require.NoError(t, err)
	arn := "arn:aws:lambda:us-east-1:000000000000:function:"
	create := func(name string, zip []byte) error {
		_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: aws.String(testRole),
			Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: zip}})
		return err
	}

	tests := []struct {
		name string
		call func() error
		code string
		msg  string
	}{
		{"unknown function", func() error {
			_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
			return err
		}, "ResourceNotFoundException", "Function not found: " + arn + "nope"},
		{"unknown version", func() error {
			_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("f"), Qualifier: aws.String("7")})
			return err
		}, "ResourceNotFoundException", "Function not found: " + arn + "f:7"},
		{"invoke unknown qualifier", func() error {
			_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f"), Qualifier: aws.String("prod")})
			return err
		}, "ResourceNotFoundException", "Function not found: " + arn + "f:prod"},
		{"unknown alias", func() error {
			_, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("f"), Name: aws.String("prod")})
			return err
		}, "ResourceNotFoundException", "Alias not found: " + arn + "f:prod"},
		{"alias to an unknown version", func() error {
			_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("f"), Name: aws.String("prod"), FunctionVersion: aws.String("9")})
			return err
		}, "ResourceNotFoundException", "Function not found: " + arn + "f:9"},
		{"numeric alias", func() error {
			_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("f"), Name: aws.String("12"), FunctionVersion: aws.String("1")})
			return err
		}, "ValidationException", "1 validation error detected: Value '12' at 'name' failed to satisfy constraint"},
		{"alias exists", func() error {
			_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("f"), Name: aws.String("live"), FunctionVersion: aws.String("1")})
			return err
		}, "ResourceConflictException", "Alias already exists: " + arn + "f:live"},
		{"function exists", func() error { return create("f", v1) }, "ResourceConflictException", "Function already exist: f"},
		{"name with ../", func() error { return create("../evil", v1) },
			"ValidationException", "1 validation error detected: Value '../evil' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"get a name with ../", func() error {
			_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("../f")})
			return err
		}, "ValidationException", "1 validation error detected: Value '../f' at 'functionName'"},
		{"delete ..", func() error {
			_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("..")})
			return err
		}, "ValidationException", "1 validation error detected: Value '..' at 'functionName'"},
		{"name too long", func() error { return create(strings.Repeat("a", 65), v1) },
			"ValidationException", "1 validation error detected: Value '" + strings.Repeat("a", 65) + "' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"not a zip", func() error { return create("g", []byte("this is not a zip")) },
			"InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again."},
		{"empty zip", func() error { return create("g", zipOf(t)) }, "InvalidParameterValueException", "Uploaded file must be a non-empty zip"},
		{"entry with ..", func() error { return create("g", zipOf(t, entry{name: "../escape", body: "x", mode: 0o755})) },
			"InvalidParameterValueException", "Could not unzip uploaded file."},
		{"absolute entry", func() error { return create("g", zipOf(t, entry{name: "/etc/escape", body: "x", mode: 0o755})) },
			"InvalidParameterValueException", "Could not unzip uploaded file."},
		{"symlink escaping", func() error {
			return create("g", zipOf(t, entry{name: "bootstrap", body: "../../../bin/sh", mode: os.ModeSymlink | 0o777}))
		}, "InvalidParameterValueException", "Could not unzip uploaded file."},
		{"absolute symlink", func() error {
			return create("g", zipOf(t, entry{name: "bootstrap", body: "/bin/sh", mode: os.ModeSymlink | 0o777}))
		}, "InvalidParameterValueException", "Could not unzip uploaded file."},
		{"write through a symlink", func() error {
			return create("g", zipOf(t, entry{name: "d", body: ".", mode: os.ModeSymlink | 0o777},
				entry{name: "d/../../escape", body: "x", mode: 0o644}))
		}, "InvalidParameterValueException", "Could not unzip uploaded file."},
		{"no bootstrap", func() error { return create("g", zipOf(t, entry{name: "main", body: "#!/bin/sh\n", mode: 0o755})) },
			"InvalidParameterValueException", "The deployment package has no executable file named bootstrap"},
		{"bootstrap not executable", func() error { return create("g", zipOf(t, entry{name: "bootstrap", body: "#!/bin/sh\n", mode: 0o644})) },
			"InvalidParameterValueException", "The deployment package's bootstrap is not executable"},
		{"bootstrap a directory", func() error { return create("g", zipOf(t, entry{name: "bootstrap/", mode: os.ModeDir | 0o755})) },
			"InvalidParameterValueException", "The deployment package's bootstrap is a d"},
		{"unzipped size", func() error { return create("g", hugeZip(t)) },
			"InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes"},
		{"memory", func() error {
			_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("f"), MemorySize: aws.Int32(64)})
			return err
		}, "ValidationException", "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"},
		{"timeout", func() error {
			_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("f"), Timeout: aws.Int32(901)})
			return err
		}, "ValidationException", "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{"runtime", func() error {
			_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("g"), Role: aws.String(testRole),
				Runtime: types.RuntimePython312, Handler: aws.String("app.handler"), Code: &types.FunctionCode{ZipFile: v1}})
			return err
		}, "InvalidParameterValueException", "The runtime parameter of python3.12 is not supported"},
		{"code sha256", func() error {
			_, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("f"), CodeSha256: aws.String("AAAA")})
			return err
		}, "InvalidParameterValueException", "CodeSHA256 (AAAA) is different from current CodeSHA256 in $LATEST"},
		{"revision", func() error {
			_, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("f"), ZipFile: v1, RevisionId: aws.String("old")})
			return err
		}, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id."},
		{"delete $LATEST", func() error {
			_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("f"), Qualifier: aws.String("$LATEST")})
			return err
		}, "InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function."},
		{"delete an aliased version", func() error {
			_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("f"), Qualifier: aws.String("1")})
			return err
		}, "ResourceConflictException", "Unable to delete version because the following aliases reference it: [live]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apiError(t, tt.call(), tt.code, tt.msg)
		})
	}

	// What the SDK cannot send: malformed JSON and bodies over the limits.
	raw := []struct {
		name, method, path, body string
		size                     int
		status                   int
		code, msg                string
	}{
		{name: "malformed JSON", method: "POST", path: "/2015-03-31/functions", body: `{"FunctionName": "g",`,
			status: 400, code: "InvalidRequestContentException", msg: "Could not parse request body into json: "},
		{name: "wrong JSON type", method: "PUT", path: "/2015-03-31/functions/f/configuration", body: `{"MemorySize": "lots"}`,
			status: 400, code: "InvalidRequestContentException", msg: "Could not parse request body into json: "},
		{name: "zip not base64", method: "PUT", path: "/2015-03-31/functions/f/code", body: `{"ZipFile": "%%%"}`,
			status: 400, code: "InvalidRequestContentException", msg: "Could not parse request body into json: "},
		{name: "no role", method: "POST", path: "/2015-03-31/functions", body: `{"FunctionName":"g","Runtime":"provided.al2023","Handler":"bootstrap","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`,
			status: 400, code: "ValidationException", msg: "1 validation error detected: Value 'null' at 'role' failed to satisfy constraint: Member must not be null"},
		{name: "create too large", method: "POST", path: "/2015-03-31/functions", size: functionhost.MaxCodeRequest + 1,
			status: 413, code: "RequestEntityTooLargeException", msg: "Request must be smaller than 69905067 bytes for the CreateFunction operation"},
		{name: "update too large", method: "PUT", path: "/2015-03-31/functions/f/code", size: functionhost.MaxCodeRequest + 1,
			status: 413, code: "RequestEntityTooLargeException", msg: "Request must be smaller than 69905067 bytes for the UpdateFunctionCode operation"},
		{name: "escaped ../ in the path", method: "GET", path: "/2015-03-31/functions/..%2F..%2Fetc",
			status: 400, code: "ValidationException", msg: "1 validation error detected: Value '../../etc' at 'functionName'"},
	}
	for _, tt := range raw {
		t.Run(tt.name, func(t *testing.T) {
			body := io.Reader(strings.NewReader(tt.body))
			if tt.size > 0 {
				body = io.LimitReader(zeros{}, int64(tt.size))
			}
			status, hdr, resp := rawRequest(t, tt.method, url+tt.path, body)
			assert.Equal(t, tt.status, status, "%s", resp)
			assert.Equal(t, tt.code, hdr.Get("X-Amzn-ErrorType"))
			var e struct{ Message string }
			require.NoError(t, json.Unmarshal(resp, &e), "%s", resp)
			assert.True(t, strings.HasPrefix(e.Message, tt.msg), "message %q, want it to start with %q", e.Message, tt.msg)
		})
	}

	// Nothing of the refused requests was created, and the host serves.
	list, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	require.NoError(t, err)
	require.Len(t, list.Functions, 1)
	got, ver := greet(t, c, "f", "live")
	assert.Equal(t, "hello, ada", got)
	assert.Equal(t, "1", ver)
}
