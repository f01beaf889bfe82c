#!/usr/bin/env bash
# A custom Lambda runtime written with bash and curl: the Runtime API loop
# of a function that is neither Go nor CloudButton's (see
# lambdatest.WriteCurlRuntime). The payload's "case" (or the envelope's
# "activity") selects what an invocation does:
#
#   echo               respond {"payload":<the payload>,"headers":{<the Lambda-Runtime-* headers>}}
#   error              post a Python-style error {"errorMessage","errorType","requestId","stackTrace":["..."]}
#                      (errorType: the payload's "errorType", default ValueError)
#   extra              post an error body with keys beyond Lambda's ("cause", "data")
#   result-like-error  respond (successfully) {"errorType":"NotAnError","errorMessage":"..."}
#   init-error         post /runtime/init/error during the invocation (after init), then exit 1
#   sleep              sleep "sleepMs" (default one hour), then respond {"slept":ms}
#   exit               exit with "exitCode" (default 1) mid-invocation
#   anything else      post an error of type UnknownCase
#
# LAMBDATEST_INIT=error posts /runtime/init/error during init and exits 1;
# LAMBDATEST_INIT=exit exits 2 during init without a word to the Runtime API.
set -uo pipefail
api="http://${AWS_LAMBDA_RUNTIME_API:?}/2018-06-01/runtime"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# json_escape turns stdin into the inside of a JSON string.
json_escape() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/\r//g' | awk 'NR>1{printf "\\n"} {printf "%s", $0}'; }
# param KEY prints the value of "KEY" in the payload (simple strings and numbers only).
param() { sed -n 's/.*"'"$1"'" *: *"\{0,1\}\([A-Za-z0-9_.:+-]*\)"\{0,1\}.*/\1/p' "$tmp/body" | head -n1; }

case "${LAMBDATEST_INIT:-}" in
error)
  curl -sS -X POST "$api/init/error" -H 'Lambda-Runtime-Function-Error-Type: Runtime.LambdatestInitError' \
    -d '{"errorMessage":"lambdatest: init failed on purpose","errorType":"Runtime.LambdatestInitError","stackTrace":[]}' >/dev/null
  exit 1 ;;
exit)
  echo "lambdatest: exiting during init" >&2
  exit 2 ;;
esac

while true; do
  curl -sS -D "$tmp/headers" -o "$tmp/body" "$api/invocation/next" || exit 1
  id="$(sed -n 's/^[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *\([^\r]*\).*/\1/p' "$tmp/headers")"
  what="$(param case)"
  [ -n "$what" ] || what="$(param activity)"
  echo "lambdatest: invocation $id: $what"
  case "$what" in
  echo)
    {
      printf '{"payload":'
      cat "$tmp/body"
      printf ',"headers":{'
      sep=""
      while IFS= read -r line; do
        line="${line%$'\r'}"
        case "$line" in [Ll]ambda-[Rr]untime-*:*) ;; *) continue ;; esac
        name="${line%%:*}"
        value="${line#*:}"
        value="${value# }"
        printf '%s"%s":"%s"' "$sep" "$name" "$(printf '%s' "$value" | json_escape)"
        sep=","
      done <"$tmp/headers"
      printf '}}'
    } >"$tmp/response"
    curl -sS -X POST "$api/invocation/$id/response" --data-binary "@$tmp/response" >/dev/null || exit 1
    ;;
  error)
    type="$(param errorType)"
    [ -n "$type" ] || type="ValueError"
    curl -sS -X POST "$api/invocation/$id/error" -H "Lambda-Runtime-Function-Error-Type: $type" --data-binary @- >/dev/null <<JSON || exit 1
{"errorMessage": "lambdatest: the error case", "errorType": "$type", "requestId": "$id", "stackTrace": ["  File \"/var/task/handler.py\", line 3, in handler\n    raise $type(\"lambdatest: the error case\")\n"]}
JSON
    ;;
  extra)
    curl -sS -X POST "$api/invocation/$id/error" -H "Lambda-Runtime-Function-Error-Type: CustomError" --data-binary @- >/dev/null <<JSON || exit 1
{"errorMessage": "lambdatest: an error body with extra keys", "errorType": "CustomError", "requestId": "$id", "stackTrace": [], "cause": {"errorMessage": "inner"}, "data": {"retry": true}}
JSON
    ;;
  result-like-error)
    curl -sS -X POST "$api/invocation/$id/response" -d '{"errorType":"NotAnError","errorMessage":"a result that looks like an error"}' >/dev/null || exit 1
    ;;
  init-error)
    status="$(curl -sS -o "$tmp/init-error" -w '%{http_code}' -X POST "$api/init/error" -H 'Lambda-Runtime-Function-Error-Type: Runtime.LambdatestInitError' \
      -d '{"errorMessage":"lambdatest: init error after init","errorType":"Runtime.LambdatestInitError"}')"
    echo "lambdatest: /runtime/init/error after init answered $status: $(cat "$tmp/init-error")"
    exit 1
    ;;
  sleep)
    ms="$(param sleepMs)"
    [ -n "$ms" ] || ms=3600000
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    curl -sS -X POST "$api/invocation/$id/response" -d "{\"slept\":$ms}" >/dev/null || exit 1
    ;;
  exit)
    code="$(param exitCode)"
    [ -n "$code" ] || code=1
    echo "lambdatest: exiting with status $code mid-invocation"
    exit "$code"
    ;;
  *)
    curl -sS -X POST "$api/invocation/$id/error" -H 'Lambda-Runtime-Function-Error-Type: UnknownCase' \
      -d "{\"errorMessage\":\"lambdatest: unknown case $what\",\"errorType\":\"UnknownCase\"}" >/dev/null || exit 1
    ;;
  esac
done
