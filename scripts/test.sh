#!/usr/bin/env bash
# The full test suite: what the README's test command and CI run.
# Installs the Temporal CLI (for the Temporal engine's tests, which start a
# dev server on loopback ports) when it is missing; the first install
# builds it from the Go module proxy (about 5-8 minutes), later runs reuse
# $(go env GOPATH)/bin/temporal.
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

echo "== gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -timeout 45m "$@" ./...
