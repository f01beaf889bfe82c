package awslambda

import (
	"regexp"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
	"github.com/cloudbutton/cloudbutton/internal/core"
)

// timeoutText is the whole body of a function timeout on AWS's Runtime
// Interface Emulator: status 200, no X-Amz-Function-Error, and this plain
// text (AWS itself sends a Sandbox.Timedout error). It is not JSON, so no
// result of a function is mistaken for it.
var timeoutText = regexp.MustCompile(`^Task timed out after [0-9]+(\.[0-9]+)? seconds$`)

// timeoutBody returns the timeout failure when body is the emulator's
// timeout text.
func timeoutBody(function string, body []byte) (*faas.Error, bool) {
	if !timeoutText.Match(body) {
		return nil, false
	}
	return &faas.Error{Kind: faas.KindTimeout, Type: lambdawire.TypeTimeout, Message: string(body), Function: function}, true
}

// decodeFailure is a result the invoker cannot decode.
func decodeFailure(function string, err error) *faas.Error {
	return &faas.Error{Kind: faas.KindApplication, Type: core.FailureDecode, Message: err.Error(), NonRetryable: true, Function: function}
}
