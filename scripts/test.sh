#!/usr/bin/env bash
# The full test suite: what the README's test command and CI run.
# Installs the Temporal CLI (for the Temporal engine's tests, which start a
# dev server on loopback ports) when it is missing; the first install
# builds it from the Go module proxy (about 5-8 minutes), later runs reuse
# $(go env GOPATH)/bin/temporal. Likewise AWS's Lambda Runtime Interface
# Emulator (aws-lambda-rie, the Lambda reference of internal/lambdatest).
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_CLI_VERSION=v1.5.1
GOBIN_DIR="$(go env GOBIN)"
if [ -z "$GOBIN_DIR" ]; then GOBIN_DIR="$(go env GOPATH)/bin"; fi
export PATH="$GOBIN_DIR:$PATH"
if ! command -v temporal >/dev/null 2>&1; then
  echo "== installing the Temporal CLI $TEMPORAL_CLI_VERSION (one time, a few minutes)"
  go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
fi
echo "== temporal: $(command -v temporal)"
LAMBDA_RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
if ! command -v aws-lambda-rie >/dev/null 2>&1; then
  echo "== installing the Lambda Runtime Interface Emulator $LAMBDA_RIE_VERSION"
  go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$LAMBDA_RIE_VERSION"
fi
echo "== aws-lambda-rie: $(command -v aws-lambda-rie)"

echo "== gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -timeout 45m "$@" ./...
