// Package deploy builds a Go Lambda function and deploys it, through the
// Lambda API of aws-sdk-go-v2, to AWS or to the local function host
// (faas/functionhost, `cloudbutton functions serve`), which implements the
// same control-plane subset.
//
// Build compiles a main package the way Lambda's provided.al2023 runtime
// wants it (GOOS=linux CGO_ENABLED=0 go build -tags lambda.norpc) and zips
// the executable as "bootstrap", mode 0755. Deploy uploads such a package:
//
//   - GetFunction; if the function does not exist, CreateFunction
//     (runtime provided.al2023, handler bootstrap) and wait until it is
//     Active (lambda.NewFunctionActiveV2Waiter);
//   - otherwise UpdateFunctionCode, wait until the update is done
//     (lambda.NewFunctionUpdatedV2Waiter), and UpdateFunctionConfiguration
//     for the options set that differ;
//   - PublishVersion, guarded by the package's CodeSha256, so that the
//     version is this code even if someone else deploys meanwhile;
//   - CreateAlias, or UpdateAlias to move it, when Options.Alias is set.
//
// Workers then invoke "name:alias" (awslambda.Options.Qualifier), and a
// rollback is moving the alias back to an earlier version.
//
// `cloudbutton functions deploy` (package cli) is this package on the
// command line.
//
// # Retries
//
// Deploy's calls use the SDK's standard retryer (Options.MaxAttempts),
// whatever the client's own: awslambda.NewClient turns the SDK's retries
// off, which suits invocations, not deployments.
package deploy
