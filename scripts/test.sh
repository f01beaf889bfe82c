#!/usr/bin/env bash
# The full test suite: what the README's test command and CI run.
# Installs the Temporal CLI (for the Temporal engine's tests, which start a
# dev server on loopback ports) when it is missing; the first install
# builds it from the Go module proxy (about 5-8 minutes), later runs reuse
# $(go env GOPATH)/bin/temporal. Likewise AWS's Lambda Runtime Interface
# Emulator (aws-lambda-rie, the Lambda reference of internal/lambdatest),
# and Chromium for the dashboard's browser tests (Debian's package, with
# apt-get: as root, or with sudo when there is one).
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
have_chromium() {
  for b in headless_shell headless-shell chromium chromium-browser google-chrome google-chrome-stable chrome; do
    command -v "$b" >/dev/null 2>&1 && { command -v "$b"; return 0; }
  done
  return 1
}
if ! have_chromium >/dev/null; then
  echo "== installing Chromium (the dashboard's browser tests)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null ||
      echo "== could not install chromium: the browser tests will say so"
  else
    echo "== no apt-get: install Chromium yourself (the browser tests will say so)"
  fi
fi
echo "== chromium: $(have_chromium || echo missing)"

echo "== gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
if [ -n "$unformatted" ]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -timeout 45m "$@" ./...
