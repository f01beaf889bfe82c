package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// MaxZipSize is Lambda's limit on a deployment package uploaded directly
// (not through S3): 50 MB.
const MaxZipSize = 50 * 1000 * 1000

// Runtime and Handler are what a Go bootstrap is deployed as.
const (
	Runtime = types.RuntimeProvidedal2023
	Handler = "bootstrap"
)

// API is the part of the Lambda API Deploy uses; *lambda.Client
// implements it.
type API interface {
	lambda.GetFunctionAPIClient
	CreateFunction(context.Context, *lambda.CreateFunctionInput, ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	UpdateFunctionCode(context.Context, *lambda.UpdateFunctionCodeInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionCodeOutput, error)
	UpdateFunctionConfiguration(context.Context, *lambda.UpdateFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	PublishVersion(context.Context, *lambda.PublishVersionInput, ...func(*lambda.Options)) (*lambda.PublishVersionOutput, error)
	GetAlias(context.Context, *lambda.GetAliasInput, ...func(*lambda.Options)) (*lambda.GetAliasOutput, error)
	CreateAlias(context.Context, *lambda.CreateAliasInput, ...func(*lambda.Options)) (*lambda.CreateAliasOutput, error)
	UpdateAlias(context.Context, *lambda.UpdateAliasInput, ...func(*lambda.Options)) (*lambda.UpdateAliasOutput, error)
}

var _ API = (*lambda.Client)(nil)

// Options says what Deploy deploys to.
type Options struct {
	// FunctionName is the function to create or update (required).
	FunctionName string
	// Alias, when set, is created or moved to point at the published
	// version (e.g. "live"); workers invoke "name:alias".
	Alias string
	// Role is the execution role's ARN; required to create a function on
	// AWS (the local function host accepts any). On update it changes
	// the role only when set.
	Role string
	// Architecture is "x86_64" or "arm64" (Go's amd64 and arm64 are
	// accepted too); it must match the bootstrap's GOARCH. Default
	// x86_64, Lambda's default.
	Architecture string
	// MemoryMB, Timeout, Environment and Description configure the
	// function; on update only the ones set (non-zero, non-nil) change.
	// Lambda's defaults for a new function are 128 MB and 3 seconds.
	MemoryMB    int32
	Timeout     time.Duration
	Environment map[string]string
	Description string
	// WaitTimeout bounds each wait for the function to become Active or
	// for an update to finish (default 5 minutes).
	WaitTimeout time.Duration
	// MaxAttempts is how often each API call is tried, with the SDK's
	// standard retryer (throttling, 5xx, network errors; default 3; 1
	// disables). It replaces the client's retryer for Deploy's calls:
	// awslambda.NewClient turns the SDK's retries off for invocations.
	MaxAttempts int
	// Logger receives a line per step (default slog.Default()).
	Logger *slog.Logger
}

// ErrNoRole is returned (wrapped) when the function does not exist and
// Options.Role is empty.
var ErrNoRole = errors.New("creating a function needs Options.Role (the execution role's ARN)")

// Result is what Deploy did.
type Result struct {
	// FunctionName is Options.FunctionName, FunctionARN its unqualified ARN.
	FunctionName string `json:"functionName"`
	FunctionARN  string `json:"functionArn"`
	// Created is true when Deploy created the function.
	Created bool `json:"created"`
	// Version is the published version's number, VersionARN its ARN.
	Version    string `json:"version"`
	VersionARN string `json:"versionArn"`
	// AliasARN is the alias's ARN (empty without Options.Alias).
	AliasARN string `json:"aliasArn,omitempty"`
	// CodeSha256 is the package's SHA-256, base64, as Lambda reports it.
	CodeSha256 string `json:"codeSha256"`
	// CodeSize is the package's size in bytes.
	CodeSize int64 `json:"codeSize"`
}

// aliasName is Lambda's pattern for alias names: not only digits (those
// are versions), not $LATEST.
var aliasName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
var digits = regexp.MustCompile(`^[0-9]+$`)

// Deploy uploads pkg (a deployment package, see Build) as the code of
// opts.FunctionName and publishes it as a new version: it creates the
// function if GetFunction says it does not exist (and waits until it is
// Active), else updates its code and the configuration set in opts
// (waiting for each update to finish); then it publishes a version of
// that code (Lambda returns the latest version instead when neither code
// nor configuration changed) and points opts.Alias at it.
//
// It works against AWS and against the local function host
// (faas/functionhost) alike: client is a Lambda client for either (see
// awslambda.NewClient).
func Deploy(ctx context.Context, client API, pkg []byte, opts Options) (*Result, error) {
	if client == nil {
		return nil, errors.New("deploy: nil Lambda client")
	}
	if opts.FunctionName == "" {
		return nil, errors.New("deploy: Options.FunctionName is empty")
	}
	if len(pkg) == 0 {
		return nil, errors.New("deploy: the deployment package is empty")
	}
	if len(pkg) > MaxZipSize {
		return nil, fmt.Errorf("deploy: the deployment package is %d bytes, over Lambda's %d for a direct upload", len(pkg), MaxZipSize)
	}
	if opts.Alias != "" && (!aliasName.MatchString(opts.Alias) || digits.MatchString(opts.Alias)) {
		return nil, fmt.Errorf("deploy: alias %q: want 1-128 letters, digits, '-' or '_', not only digits", opts.Alias)
	}
	if opts.Architecture == "" {
		opts.Architecture = string(types.ArchitectureX8664)
	}
	arch, err := Architecture(opts.Architecture)
	if err != nil {
		return nil, err
	}
	if opts.Timeout < 0 || opts.Timeout%time.Second != 0 {
		return nil, fmt.Errorf("deploy: timeout %v: want a whole number of seconds", opts.Timeout)
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = 5 * time.Minute
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	sum := sha256.Sum256(pkg)
	d := &deployer{client: client, opts: opts, arch: arch, pkg: pkg, sha: base64.StdEncoding.EncodeToString(sum[:]), log: opts.Logger}
	return d.run(ctx)
}

type deployer struct {
	client API
	opts   Options
	arch   types.Architecture
	pkg    []byte
	sha    string
	log    *slog.Logger
}

// call is the per-call option of every request: the standard retryer.
func (d *deployer) call(o *lambda.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = d.opts.MaxAttempts })
}

func (d *deployer) run(ctx context.Context) (*Result, error) {
	name := d.opts.FunctionName
	res := &Result{FunctionName: name, CodeSha256: d.sha, CodeSize: int64(len(d.pkg))}
	cur, err := d.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, d.call)
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		created, err := d.create(ctx)
		var conflict *types.ResourceConflictException
		if errors.As(err, &conflict) { // created meanwhile by someone else
			d.log.Info("deploy: function created concurrently; updating it", "function", name)
			if cur, err = d.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, d.call); err != nil {
				return nil, fmt.Errorf("deploy: getting function %s: %w", name, err)
			}
			if err := d.update(ctx, cur); err != nil {
				return nil, err
			}
			break
		}
		if err != nil {
			return nil, err
		}
		res.Created = created
	case err != nil:
		return nil, fmt.Errorf("deploy: getting function %s: %w", name, err)
	default:
		if err := d.update(ctx, cur); err != nil {
			return nil, err
		}
	}

	pub, err := d.client.PublishVersion(ctx, &lambda.PublishVersionInput{
		FunctionName: aws.String(name), CodeSha256: aws.String(d.sha), Description: nonEmpty(d.opts.Description),
	}, d.call)
	if err != nil {
		return nil, fmt.Errorf("deploy: publishing a version of %s: %w", name, err)
	}
	res.Version, res.VersionARN = aws.ToString(pub.Version), aws.ToString(pub.FunctionArn)
	res.FunctionARN = unqualified(res.VersionARN)
	d.log.Info("deploy: published", "function", name, "version", res.Version, "sha256", d.sha)
	if pub.State != types.StateActive {
		if err := d.waitActive(ctx, res.Version); err != nil {
			return nil, err
		}
	}

	if d.opts.Alias != "" {
		arn, err := d.pointAlias(ctx, res.Version)
		if err != nil {
			return nil, err
		}
		res.AliasARN = arn
	}
	return res, nil
}

// create creates the function; created is false only with an error.
func (d *deployer) create(ctx context.Context) (created bool, err error) {
	name := d.opts.FunctionName
	if d.opts.Role == "" {
		return false, fmt.Errorf("deploy: function %s does not exist: %w", name, ErrNoRole)
	}
	in := &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String(d.opts.Role),
		Runtime:       Runtime,
		Handler:       aws.String(Handler),
		PackageType:   types.PackageTypeZip,
		Architectures: []types.Architecture{d.arch},
		Code:          &types.FunctionCode{ZipFile: d.pkg},
		Description:   nonEmpty(d.opts.Description),
	}
	if d.opts.MemoryMB > 0 {
		in.MemorySize = aws.Int32(d.opts.MemoryMB)
	}
	if d.opts.Timeout > 0 {
		in.Timeout = aws.Int32(int32(d.opts.Timeout / time.Second))
	}
	if d.opts.Environment != nil {
		in.Environment = &types.Environment{Variables: d.opts.Environment}
	}
	out, err := d.client.CreateFunction(ctx, in, d.call)
	if err != nil {
		return false, fmt.Errorf("deploy: creating function %s: %w", name, err)
	}
	d.log.Info("deploy: created", "function", name, "arn", aws.ToString(out.FunctionArn), "state", out.State)
	if out.State != types.StateActive {
		if err := d.waitActive(ctx, ""); err != nil {
			return false, err
		}
	}
	return true, nil
}

// update uploads the code, then changes the configuration options set
// and differing from cur's.
func (d *deployer) update(ctx context.Context, cur *lambda.GetFunctionOutput) error {
	name := d.opts.FunctionName
	if c := cur.Configuration; c != nil && c.LastUpdateStatus == types.LastUpdateStatusInProgress {
		if err := d.waitUpdated(ctx); err != nil {
			return err
		}
	}
	out, err := d.client.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{
		FunctionName: aws.String(name), ZipFile: d.pkg, Architectures: []types.Architecture{d.arch},
	}, d.call)
	if err != nil {
		return fmt.Errorf("deploy: updating the code of %s: %w", name, err)
	}
	d.log.Info("deploy: code updated", "function", name, "status", out.LastUpdateStatus)
	if out.LastUpdateStatus != types.LastUpdateStatusSuccessful {
		if err := d.waitUpdated(ctx); err != nil {
			return err
		}
	}
	in, changed := d.configChanges(cur.Configuration)
	if !changed {
		return nil
	}
	cfg, err := d.client.UpdateFunctionConfiguration(ctx, in, d.call)
	if err != nil {
		return fmt.Errorf("deploy: updating the configuration of %s: %w", name, err)
	}
	d.log.Info("deploy: configuration updated", "function", name, "status", cfg.LastUpdateStatus)
	if cfg.LastUpdateStatus != types.LastUpdateStatusSuccessful {
		return d.waitUpdated(ctx)
	}
	return nil
}

// configChanges is the UpdateFunctionConfiguration of the options set that
// differ from cur.
func (d *deployer) configChanges(cur *types.FunctionConfiguration) (*lambda.UpdateFunctionConfigurationInput, bool) {
	if cur == nil {
		cur = &types.FunctionConfiguration{}
	}
	in := &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(d.opts.FunctionName)}
	changed := false
	if m := d.opts.MemoryMB; m > 0 && m != aws.ToInt32(cur.MemorySize) {
		in.MemorySize, changed = aws.Int32(m), true
	}
	if t := int32(d.opts.Timeout / time.Second); t > 0 && t != aws.ToInt32(cur.Timeout) {
		in.Timeout, changed = aws.Int32(t), true
	}
	if d.opts.Role != "" && d.opts.Role != aws.ToString(cur.Role) {
		in.Role, changed = aws.String(d.opts.Role), true
	}
	if d.opts.Description != "" && d.opts.Description != aws.ToString(cur.Description) {
		in.Description, changed = aws.String(d.opts.Description), true
	}
	if d.opts.Environment != nil {
		var have map[string]string
		if cur.Environment != nil {
			have = cur.Environment.Variables
		}
		if !maps.Equal(have, d.opts.Environment) {
			in.Environment, changed = &types.Environment{Variables: d.opts.Environment}, true
		}
	}
	return in, changed
}

// pointAlias creates the alias at version, or moves it there.
func (d *deployer) pointAlias(ctx context.Context, version string) (string, error) {
	name, alias := d.opts.FunctionName, d.opts.Alias
	cur, err := d.client.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(name), Name: aws.String(alias)}, d.call)
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		out, err := d.client.CreateAlias(ctx, &lambda.CreateAliasInput{
			FunctionName: aws.String(name), Name: aws.String(alias), FunctionVersion: aws.String(version),
		}, d.call)
		var conflict *types.ResourceConflictException
		if errors.As(err, &conflict) {
			break // created meanwhile: move it
		}
		if err != nil {
			return "", fmt.Errorf("deploy: creating alias %s of %s: %w", alias, name, err)
		}
		d.log.Info("deploy: alias created", "function", name, "alias", alias, "version", version)
		return aws.ToString(out.AliasArn), nil
	case err != nil:
		return "", fmt.Errorf("deploy: getting alias %s of %s: %w", alias, name, err)
	case aws.ToString(cur.FunctionVersion) == version && cur.RoutingConfig == nil:
		return aws.ToString(cur.AliasArn), nil
	}
	out, err := d.client.UpdateAlias(ctx, &lambda.UpdateAliasInput{
		FunctionName: aws.String(name), Name: aws.String(alias), FunctionVersion: aws.String(version),
		RoutingConfig: &types.AliasRoutingConfiguration{}, // no weighted routing to an older version
	}, d.call)
	if err != nil {
		return "", fmt.Errorf("deploy: moving alias %s of %s to version %s: %w", alias, name, version, err)
	}
	d.log.Info("deploy: alias moved", "function", name, "alias", alias, "version", version)
	return aws.ToString(out.AliasArn), nil
}

// waitActive waits until the function (or one of its versions) is Active.
func (d *deployer) waitActive(ctx context.Context, qualifier string) error {
	in := &lambda.GetFunctionInput{FunctionName: aws.String(d.opts.FunctionName), Qualifier: nonEmpty(qualifier)}
	w := lambda.NewFunctionActiveV2Waiter(d.client, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.ClientOptions = append(o.ClientOptions, d.call)
	})
	if err := w.Wait(ctx, in, d.opts.WaitTimeout); err != nil {
		return d.waitError(ctx, in, "to become Active", err)
	}
	return nil
}

// waitUpdated waits until the function's last update is done.
func (d *deployer) waitUpdated(ctx context.Context) error {
	in := &lambda.GetFunctionInput{FunctionName: aws.String(d.opts.FunctionName)}
	w := lambda.NewFunctionUpdatedV2Waiter(d.client, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.ClientOptions = append(o.ClientOptions, d.call)
	})
	if err := w.Wait(ctx, in, d.opts.WaitTimeout); err != nil {
		return d.waitError(ctx, in, "to finish updating", err)
	}
	return nil
}

// waitError adds the function's state reason to a failed wait: the
// waiters say only "waiter state transitioned to Failure".
func (d *deployer) waitError(ctx context.Context, in *lambda.GetFunctionInput, what string, err error) error {
	what = d.opts.FunctionName + qualified(aws.ToString(in.Qualifier)) + " " + what
	if ctx.Err() != nil {
		return fmt.Errorf("deploy: waiting for %s: %w", what, ctx.Err())
	}
	out, gerr := d.client.GetFunction(ctx, in, d.call)
	if gerr != nil || out.Configuration == nil {
		return fmt.Errorf("deploy: waiting for %s: %w", what, err)
	}
	c := out.Configuration
	return fmt.Errorf("deploy: waiting for %s: %w (state %s %s; last update %s %s)", what, err,
		c.State, aws.ToString(c.StateReason), c.LastUpdateStatus, aws.ToString(c.LastUpdateStatusReason))
}

func qualified(q string) string {
	if q == "" {
		return ""
	}
	return ":" + q
}

// unqualified drops the version from a function ARN
// (arn:aws:lambda:region:account:function:name[:qualifier]).
func unqualified(arn string) string {
	n := 0
	for i := 0; i < len(arn); i++ {
		if arn[i] == ':' {
			n++
			if n == 7 {
				return arn[:i]
			}
		}
	}
	return arn
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
