// Package awslambda is a faas.Invoker that runs activity attempts as AWS
// Lambda invocations (github.com/aws/aws-sdk-go-v2/service/lambda, Invoke
// with InvocationType RequestResponse), on AWS or on the local function
// host (faas/functionhost) through an endpoint override.
//
// # Functions
//
// Each attempt is sent as an envelope (activity name, input, instance id,
// task id, attempt, idempotency key) to the function chosen for its
// activity: Options.Functions[activity] if set, else
// Options.DefaultFunction (one function hosting many activities, built with
// faas/lambdahandler), else Options.Prefix + activity name. A function may
// be a name, an ARN, or "name:alias"; Options.Qualifier applies to names
// without one.
//
// # Errors and retries
//
// A function error (the X-Amz-Function-Error header, or defensively a body
// of Lambda's {"errorType","errorMessage"} shape) becomes a *faas.Error:
// KindApplication with the activity error's type, message, stack and
// non-retryable flag (an errorType ending in ":NonRetryable", the marker
// of faas/lambdahandler; any other type, a foreign function's, is kept
// as it is and retryable); KindTimeout for Sandbox.Timedout; KindCrash
// for Runtime.* errors (the process exited, init failed); KindNotFound
// for an activity the function does not host. Service errors map to
// KindNotFound (ResourceNotFoundException), KindPayloadTooLarge (413),
// KindThrottled (429 TooManyRequestsException) and KindUnavailable (5xx,
// network errors; other 4xx are non-retryable).
//
// AWS's Runtime Interface Emulator (aws-lambda-rie) never sends
// X-Amz-Function-Error, answers a function timeout with 200 and the text
// "Task timed out after N.00 seconds", and a crash, an init error or a
// reported panic with 502 and the function error as the body; the
// invoker reads these as the function errors they are (a 502 with
// Lambda's X-Amzn-ErrorType header stays a service error).
//
// The AWS SDK's own retryer is disabled on every call (aws.NopRetryer), so
// attempts never multiply silently. The invoker itself retries only what
// certainly did not run the function: throttling (429) and a connection
// to the endpoint that was never established (refused, DNS), a bounded
// number of times (Options.Retry, default 3 tries in all) with
// exponential backoff and full jitter, within the attempt's deadline.
// Anything that may have run (a 5xx, a connection lost after the request
// was sent, a crash, a timeout) goes back to the worker at once, and so
// does a retryable failure once the budget is spent: the worker's retry
// policy decides, and counts the attempt. The idempotency key lets
// activities detect a repeated attempt.
//
// # Usage
//
// The invoker asks for each invocation's log tail (LogType Tail; turn it
// off with Options.NoLogTail) and reports the usage in its REPORT line
// (billed duration, memory size, max memory used, init duration; see
// faas.Usage) with faas.ReportUsage, before Invoke returns, for results
// and function errors alike. Lambda and the local function host send the
// tail; AWS's Runtime Interface Emulator does not, so on it nothing is
// reported.
//
// # Trace context
//
// When the attempt's ctx holds a span (the worker traces: see package
// telemetry), its W3C traceparent and tracestate go in the invocation's
// client context, custom field ({"custom":{"traceparent":...}}), which
// faas/lambdahandler restores into the handler's ctx.
//
// # Payload limit
//
// The envelope is checked against Lambda's 6 MB synchronous limit before
// sending: over it, the attempt fails with KindPayloadTooLarge and a
// message with the size and the limit.
package awslambda

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// MaxPayload is Lambda's synchronous invocation payload limit, 6 MB.
const MaxPayload = lambdawire.MaxSyncPayload

// RetryOptions bounds the invoker's own retries of invocations that did
// not run: throttled (429), or no connection to the endpoint.
type RetryOptions struct {
	// MaxTries is the number of tries per attempt, the first included
	// (default 3; 1 disables retrying in the invoker).
	MaxTries int
	// BaseDelay is the first backoff (default 50ms); it doubles per try.
	BaseDelay time.Duration
	// MaxDelay caps one backoff (default 1s).
	MaxDelay time.Duration
}

// Options configures an Invoker. The zero value invokes a function named
// after each activity.
type Options struct {
	// Functions maps activity names to function names, ARNs or
	// "name:qualifier".
	Functions map[string]string
	// DefaultFunction hosts every activity not in Functions.
	DefaultFunction string
	// Prefix is prepended to the activity name when neither Functions nor
	// DefaultFunction applies.
	Prefix string
	// Qualifier (a version or alias) applies to functions given without
	// one.
	Qualifier string
	// MaxPayload bounds the request payload (default and maximum
	// MaxPayload).
	MaxPayload int
	// Retry bounds the invoker's retries of what did not run (throttling,
	// connections never made); see the package doc.
	Retry RetryOptions
	// NoLogTail stops the invoker from asking Lambda for each
	// invocation's log tail (LogType Tail), which it otherwise does to
	// report the invocation's usage (faas.ReportUsage) from its REPORT
	// line: with NoLogTail no usage is reported.
	NoLogTail bool
	// LogTail logs each invocation's log tail at debug level.
	LogTail bool
	// Logger receives the invoker's logs (default slog.Default()).
	Logger *slog.Logger
}

// Invoker invokes activities as Lambda functions. It is safe for
// concurrent use.
type Invoker struct {
	client *lambda.Client
	opts   Options
	log    *slog.Logger
}

var _ faas.Invoker = (*Invoker)(nil)

// New returns an invoker over client (see NewClient).
func New(client *lambda.Client, opts Options) (*Invoker, error) {
	if client == nil {
		return nil, errors.New("awslambda: nil Lambda client")
	}
	if opts.MaxPayload <= 0 || opts.MaxPayload > MaxPayload {
		opts.MaxPayload = MaxPayload
	}
	if opts.Retry.MaxTries <= 0 {
		opts.Retry.MaxTries = 3
	}
	if opts.Retry.BaseDelay <= 0 {
		opts.Retry.BaseDelay = 50 * time.Millisecond
	}
	if opts.Retry.MaxDelay <= 0 {
		opts.Retry.MaxDelay = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	for act, fn := range opts.Functions {
		if fn == "" {
			return nil, fmt.Errorf("awslambda: Options.Functions[%q] is empty", act)
		}
	}
	return &Invoker{client: client, opts: opts, log: opts.Logger}, nil
}

// ClientConfig says how NewClient builds a Lambda client.
type ClientConfig struct {
	// Region overrides the region of the default chain (AWS_REGION,
	// profile); required when the chain has none.
	Region string
	// Endpoint overrides the service endpoint, e.g. the local function
	// host's "http://127.0.0.1:9001".
	Endpoint string
	// AccessKeyID and SecretAccessKey, when set, are static credentials
	// (the local host's, for example: see functionhost.Host.Credentials); otherwise
	// credentials come from the default chain (environment, shared
	// config and credentials files, SSO, container and instance roles).
	AccessKeyID, SecretAccessKey string
	// Profile selects a shared-config profile.
	Profile string
	// MaxConnsPerHost sizes the HTTP connection pool (default 256).
	MaxConnsPerHost int
	// HTTPClient, when set, replaces the SDK's HTTP client (and
	// MaxConnsPerHost is ignored).
	HTTPClient aws.HTTPClient
}

// NewClient builds a Lambda client with the SDK's retries disabled (the
// invoker retries itself, see the package doc).
func NewClient(ctx context.Context, cc ClientConfig) (*lambda.Client, error) {
	if cc.MaxConnsPerHost <= 0 {
		cc.MaxConnsPerHost = 256
	}
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = cc.MaxConnsPerHost
		t.MaxIdleConnsPerHost = cc.MaxConnsPerHost
	})
	loaders := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if cc.Region != "" {
		loaders = append(loaders, config.WithRegion(cc.Region))
	}
	if cc.Profile != "" {
		loaders = append(loaders, config.WithSharedConfigProfile(cc.Profile))
	}
	if (cc.AccessKeyID == "") != (cc.SecretAccessKey == "") {
		return nil, errors.New("awslambda: set both AccessKeyID and SecretAccessKey, or neither")
	}
	if cc.AccessKeyID != "" {
		loaders = append(loaders, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cc.AccessKeyID, cc.SecretAccessKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("awslambda: loading AWS config: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("awslambda: no AWS region: set ClientConfig.Region, AWS_REGION or a profile region")
	}
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if cc.Endpoint != "" {
			o.BaseEndpoint = aws.String(cc.Endpoint)
		}
		if cc.HTTPClient != nil {
			o.HTTPClient = cc.HTTPClient
		}
	}), nil
}

// FunctionFor returns the function name (or ARN) and qualifier an
// activity is invoked as.
func (inv *Invoker) FunctionFor(activityName string) (function, qualifier string) {
	fn, ok := inv.opts.Functions[activityName]
	switch {
	case ok:
	case inv.opts.DefaultFunction != "":
		fn = inv.opts.DefaultFunction
	default:
		fn = inv.opts.Prefix + activityName
	}
	// "name:qualifier" or an ARN with a qualifier carries its own.
	parts := strings.Split(fn, ":")
	hasQualifier := (len(parts) == 2) || (len(parts) == 8 && parts[0] == "arn")
	if !hasQualifier {
		qualifier = inv.opts.Qualifier
	}
	return fn, qualifier
}

// Invoke runs one attempt as a Lambda invocation; see the package doc for
// how failures map to *faas.Error.
func (inv *Invoker) Invoke(ctx context.Context, req faas.Request) ([]byte, error) {
	function, qualifier := inv.FunctionFor(req.Activity)
	payload, err := lambdawire.EncodeEnvelope(req)
	if err != nil {
		return nil, &faas.Error{Kind: faas.KindApplication, Type: core.FailureEncode, Message: err.Error(), NonRetryable: true, Function: function}
	}
	if len(payload) > inv.opts.MaxPayload {
		return nil, &faas.Error{Kind: faas.KindPayloadTooLarge, Type: core.FailurePayloadTooLarge, NonRetryable: true, Function: function,
			Message: fmt.Sprintf("invocation payload of activity %q is %d bytes, over the Lambda synchronous invocation limit of %d bytes", req.Activity, len(payload), inv.opts.MaxPayload)}
	}
	in := &lambda.InvokeInput{FunctionName: aws.String(function), Payload: payload, InvocationType: types.InvocationTypeRequestResponse}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	if !inv.opts.NoLogTail {
		in.LogType = types.LogTypeTail
	}
	if cc := lambdawire.ClientContext(ctx); cc != "" {
		in.ClientContext = aws.String(cc) // the attempt's span, for the function
	}
	for try := 1; ; try++ {
		var body errorBody
		out, err := inv.client.Invoke(ctx, in, noSDKRetries, body.capture)
		if err == nil {
			return inv.result(ctx, function, out)
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, fmt.Errorf("awslambda: invocation of %s abandoned: %w", function, ctx.Err())
		}
		fe := inv.classify(ctx, function, err, body.b)
		if !didNotRun(fe, err) || try >= inv.opts.Retry.MaxTries {
			return nil, fe
		}
		delay := inv.backoff(try)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
			return nil, fe
		}
		inv.log.Debug("awslambda: retrying invocation", "function", function, "activity", req.Activity, "try", try, "kind", fe.Kind, "delay", delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil, fmt.Errorf("awslambda: invocation of %s abandoned: %w", function, ctx.Err())
			}
			return nil, inv.classify(ctx, function, ctx.Err(), nil)
		}
	}
}

// noSDKRetries disables the SDK's retryer for one call, whatever the
// client was built with.
func noSDKRetries(o *lambda.Options) {
	o.Retryer = aws.NopRetryer{}
	o.RetryMaxAttempts = 0
}

func (inv *Invoker) backoff(try int) time.Duration {
	d := inv.opts.Retry.BaseDelay << (try - 1)
	if d > inv.opts.Retry.MaxDelay || d <= 0 {
		d = inv.opts.Retry.MaxDelay
	}
	return time.Duration(rand.Int64N(int64(d)) + 1) // full jitter
}

func (inv *Invoker) result(ctx context.Context, function string, out *lambda.InvokeOutput) ([]byte, error) {
	if out.LogResult != nil {
		logs := decodeLog(*out.LogResult)
		if inv.opts.LogTail {
			inv.log.Debug("awslambda: invocation log", "function", function, "log", logs)
		}
		if u, ok := lambdawire.ParseReport(logs); ok {
			faas.ReportUsage(ctx, u)
		}
	}
	if out.FunctionError != nil {
		er, ok := functionErrorBody(out.Payload)
		if !ok {
			er = lambdawire.ErrorResponse{Type: *out.FunctionError, Message: string(out.Payload)}
		}
		return nil, er.ToError(function)
	}
	// Without the header (AWS's Runtime Interface Emulator never sends
	// it), an error body or the emulator's timeout text.
	if er, ok := lambdawire.IsStrictErrorBody(out.Payload); ok {
		return nil, er.ToError(function)
	}
	if fe, ok := timeoutBody(function, out.Payload); ok {
		return nil, fe
	}
	res, err := lambdawire.DecodeResult(out.Payload)
	if err != nil {
		return nil, decodeFailure(function, err)
	}
	return res, nil
}

// classify maps an Invoke error (service, transport or ctx) to
// *faas.Error; body is the error response's body, if any.
func (inv *Invoker) classify(ctx context.Context, function string, err error, body []byte) *faas.Error {
	fe := &faas.Error{Function: function, Message: err.Error()}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		fe.Kind, fe.Type = faas.KindTimeout, core.FailureTimeout
		fe.Message = fmt.Sprintf("Lambda invocation of %s did not finish within the attempt's timeout: %v", function, err)
		return fe
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
		// Not a service error but the function's: AWS's Runtime Interface
		// Emulator answers a crash (Runtime.ExitError), an init error or
		// a reported panic with 502 and the function error as the body,
		// where Lambda answers 200 and X-Amz-Function-Error. Lambda's own
		// errors carry X-Amzn-ErrorType and another body.
		if status >= 500 && re.Response != nil && re.Response.Header.Get("X-Amzn-ErrorType") == "" {
			if er, ok := lambdawire.IsStrictErrorBody(body); ok {
				return er.ToError(function)
			}
		}
	}
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
		fe.Message = ae.ErrorMessage()
		if fe.Message == "" || fe.Message == code {
			fe.Message = fmt.Sprintf("HTTP %d from the Lambda endpoint (%s)", status, code)
		}
	}
	fe.Type = code
	switch {
	case code == "ResourceNotFoundException" || status == http.StatusNotFound:
		fe.Kind, fe.NonRetryable = faas.KindNotFound, true
	case code == "RequestTooLargeException" || code == "RequestEntityTooLargeException" || status == http.StatusRequestEntityTooLarge:
		fe.Kind, fe.NonRetryable = faas.KindPayloadTooLarge, true
	case code == "TooManyRequestsException" || status == http.StatusTooManyRequests:
		fe.Kind = faas.KindThrottled
	case status >= 500:
		fe.Kind = faas.KindUnavailable
	case status >= 400:
		// Bad configuration or permissions (AccessDeniedException,
		// InvalidParameterValueException...): retrying cannot fix it.
		fe.Kind, fe.NonRetryable = faas.KindUnavailable, true
	default:
		fe.Kind = faas.KindUnavailable // connection refused, reset, DNS...
	}
	if fe.Type == "" {
		fe.Type = string(fe.Kind)
	}
	return fe
}

// didNotRun reports whether the failed invocation certainly did not run
// the function, so that the invoker may try again without running an
// attempt twice: Lambda refused it (429 throttling), or no connection to
// the endpoint was made. Anything else (a 5xx, a connection lost after
// the request was sent) may have run, and goes back to the worker, whose
// retry policy decides.
func didNotRun(fe *faas.Error, err error) bool {
	if fe.Kind == faas.KindThrottled {
		return true
	}
	if fe.Kind != faas.KindUnavailable || fe.NonRetryable {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func decodeLog(b64 string) string {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return b64
	}
	return string(b)
}
