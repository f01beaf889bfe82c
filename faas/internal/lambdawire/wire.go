// Package lambdawire is the wire format shared by the AWS Lambda invoker,
// the Lambda handler adapter and the local function host: the invocation
// envelope, the result encoding and Lambda's error shape.
//
// Envelope (the Invoke payload):
//
//	{"activity":"count-words","input":{...},"instanceId":"i-1","taskId":3,
//	 "attempt":1,"idempotencyKey":"i-1/3/1"}
//
// input holds the codec-encoded activity input as raw JSON when it is JSON
// that encoding/json copies byte for byte (every input of the default
// codec; see internal/rawjson), otherwise as a base64 string with
// "inputEncoding":"base64".
//
// Result (the Invoke response): the encoded activity result as is when it
// is valid JSON that does not mention "$cloudbutton", otherwise
// {"$cloudbutton":"base64","data":"..."}. Inputs and results arrive byte
// for byte.
//
// Error (a function error): Lambda's shape {"errorType","errorMessage",
// "stackTrace"}. A non-retryable application error has ":NonRetryable"
// appended to its errorType, so the flag survives any Lambda runtime.
package lambdawire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cloudbutton/cloudbutton/faas"
	"github.com/cloudbutton/cloudbutton/internal/core"
	"github.com/cloudbutton/cloudbutton/internal/rawjson"
)

// MaxSyncPayload is AWS Lambda's limit on a synchronous invocation's
// request and response payloads: 6 MB (6,291,456 bytes).
const MaxSyncPayload = 6 * 1024 * 1024

// NonRetryableSuffix marks a non-retryable application error's errorType.
const NonRetryableSuffix = ":NonRetryable"

// Well-known errorType values produced by Lambda (and the local host).
const (
	TypeTimeout           = "Sandbox.Timedout"              // the function ran past its timeout
	TypeExit              = "Runtime.ExitError"             // the runtime process exited
	TypeInit              = "Runtime.InitError"             // the runtime failed to initialise
	TypeOutOfMemory       = "Runtime.OutOfMemory"           // the execution environment went over its memory size
	TypeResponseTooLarge  = "Function.ResponseSizeTooLarge" // the response was over 6 MB
	TypeBadEnvelope       = core.FailureDecode              // the payload is not an envelope
	TypeActivityNotFound  = core.FailureActivityNotFound    // no such activity in the function
	base64Marker          = "base64"
	resultMarkerKey       = "$cloudbutton"
	timeoutMessagePattern = "Task timed out after"
)

// Envelope is the Invoke payload for one activity attempt.
type Envelope struct {
	Activity       string          `json:"activity"`
	Input          json.RawMessage `json:"input,omitempty"`
	InputEncoding  string          `json:"inputEncoding,omitempty"`
	InstanceID     string          `json:"instanceId,omitempty"`
	RunID          string          `json:"runId,omitempty"`
	TaskID         int64           `json:"taskId,omitempty"`
	Attempt        int             `json:"attempt,omitempty"`
	IdempotencyKey string          `json:"idempotencyKey,omitempty"`
}

// EncodeEnvelope builds the Invoke payload for an attempt.
func EncodeEnvelope(req faas.Request) ([]byte, error) {
	env := Envelope{Activity: req.Activity, InstanceID: req.InstanceID, RunID: req.RunID, TaskID: req.TaskID,
		Attempt: req.Attempt, IdempotencyKey: req.IdempotencyKey}
	input := req.Input
	switch {
	case len(input) == 0:
	case rawjson.Stable(input): // json.Marshal copies it byte for byte
		env.Input = input
	default:
		s, _ := json.Marshal(base64.StdEncoding.EncodeToString(input))
		env.Input, env.InputEncoding = s, base64Marker
	}
	return json.Marshal(env)
}

// ErrNotEnvelope is returned by DecodeEnvelope for valid JSON that is not
// an envelope with an activity name.
var ErrNotEnvelope = errors.New("lambdawire: payload is not an activity envelope (no \"activity\" field)")

// DecodeEnvelope parses an Invoke payload. It returns ErrNotEnvelope
// (wrapped) when the payload is JSON but not an envelope, and a
// descriptive error for anything else it cannot read.
func DecodeEnvelope(payload []byte) (Envelope, []byte, error) {
	var env Envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		if json.Valid(payload) {
			return env, nil, fmt.Errorf("%w: %w", ErrNotEnvelope, err)
		}
		return env, nil, fmt.Errorf("lambdawire: invocation payload is not a JSON envelope: %w", err)
	}
	if env.Activity == "" {
		return env, nil, ErrNotEnvelope
	}
	switch env.InputEncoding {
	case "":
		return env, []byte(env.Input), nil
	case base64Marker:
		var s string
		if err := json.Unmarshal(env.Input, &s); err != nil {
			return env, nil, fmt.Errorf("lambdawire: base64 input of activity %q is not a JSON string: %w", env.Activity, err)
		}
		in, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return env, nil, fmt.Errorf("lambdawire: base64 input of activity %q: %w", env.Activity, err)
		}
		return env, in, nil
	default:
		return env, nil, fmt.Errorf("lambdawire: unknown inputEncoding %q (want \"base64\" or none)", env.InputEncoding)
	}
}

type wrappedResult struct {
	Marker string `json:"$cloudbutton"`
	Data   string `json:"data"`
}

// EncodeResult turns an encoded activity result into a response payload.
// JSON that mentions the wrapper's key is wrapped too, so that
// DecodeResult returns every result byte for byte (an empty one as null).
func EncodeResult(out []byte) []byte {
	if len(out) == 0 {
		return []byte("null")
	}
	if json.Valid(out) && !bytes.Contains(out, []byte(resultMarkerKey)) {
		return out
	}
	b, _ := json.Marshal(wrappedResult{Marker: base64Marker, Data: base64.StdEncoding.EncodeToString(out)})
	return b
}

// DecodeResult reverses EncodeResult.
func DecodeResult(payload []byte) ([]byte, error) {
	if !bytes.Contains(payload, []byte(resultMarkerKey)) {
		return payload, nil
	}
	var w wrappedResult
	if err := json.Unmarshal(payload, &w); err != nil || w.Marker != base64Marker {
		return payload, nil //nolint:nilerr // an ordinary result that happens to mention the key
	}
	out, err := base64.StdEncoding.DecodeString(w.Data)
	if err != nil {
		return nil, fmt.Errorf("lambdawire: base64 result: %w", err)
	}
	return out, nil
}

// StackFrame is one frame of Lambda's stackTrace.
type StackFrame struct {
	Path  string `json:"path"`
	Line  int32  `json:"line"`
	Label string `json:"label"`
}

// ErrorResponse is Lambda's function error shape.
type ErrorResponse struct {
	Type       string       `json:"errorType"`
	Message    string       `json:"errorMessage"`
	StackTrace []StackFrame `json:"stackTrace,omitempty"`
}

// FromFailure builds the Lambda error for a recorded failure.
func FromFailure(f *core.Failure) ErrorResponse {
	typ := f.Type
	if typ == "" {
		typ = core.FailureError
	}
	if f.NonRetryable {
		typ += NonRetryableSuffix
	}
	return ErrorResponse{Type: typ, Message: f.Message, StackTrace: ParseStack(f.Stack)}
}

// Decoded is an ErrorResponse split into its parts.
type Decoded struct {
	Type         string
	Message      string
	Stack        string
	NonRetryable bool
}

// Decode strips the non-retryable marker and rebuilds the stack text. The
// marker follows a type (FromFailure always writes one): a bare
// ":NonRetryable" is some other function's type, kept as it is.
func (e ErrorResponse) Decode() Decoded {
	typ, nonRetryable := strings.CutSuffix(e.Type, NonRetryableSuffix)
	if typ == "" {
		typ, nonRetryable = e.Type, false
	}
	return Decoded{Type: typ, Message: e.Message, Stack: FormatStack(e.StackTrace), NonRetryable: nonRetryable}
}

// IsTimeout reports whether the error is Lambda's timeout: its type, or
// (as older Lambda reported it) no type and the timeout message. A typed
// error that mentions a timeout is the function's own.
func (e ErrorResponse) IsTimeout() bool {
	return e.Type == TypeTimeout || (e.Type == "" && strings.Contains(e.Message, timeoutMessagePattern))
}

// IsRuntimeCrash reports whether the runtime itself failed (exit, init
// error, unknown runtime error).
func (e ErrorResponse) IsRuntimeCrash() bool { return strings.HasPrefix(e.Type, "Runtime.") }

// ParseErrorBody parses a function error body. ok is false when the body
// is not Lambda's error shape.
func ParseErrorBody(body []byte) (ErrorResponse, bool) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return ErrorResponse{}, false
	}
	_, hasMsg := raw["errorMessage"]
	_, hasType := raw["errorType"]
	if !hasMsg && !hasType {
		return ErrorResponse{}, false
	}
	for k := range raw {
		switch k {
		case "errorType", "errorMessage", "stackTrace", "trace", "requestId":
		default:
			return ErrorResponse{}, false
		}
	}
	var e ErrorResponse
	_ = json.Unmarshal(raw["errorType"], &e.Type)
	_ = json.Unmarshal(raw["errorMessage"], &e.Message)
	if st, ok := raw["stackTrace"]; ok {
		// Other runtimes send a list of strings; keep them as labels.
		if json.Unmarshal(st, &e.StackTrace) != nil {
			var lines []string
			if json.Unmarshal(st, &lines) == nil {
				for _, l := range lines {
					e.StackTrace = append(e.StackTrace, StackFrame{Label: l})
				}
			}
		}
	}
	return e, true
}

// IsStrictErrorBody reports whether body has exactly Lambda's error keys
// (errorType and errorMessage, optionally stackTrace); used to detect
// function errors defensively when the X-Amz-Function-Error header is
// missing.
func IsStrictErrorBody(body []byte) (ErrorResponse, bool) {
	if len(body) == 0 || body[0] != '{' {
		return ErrorResponse{}, false
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return ErrorResponse{}, false
	}
	if _, ok := raw["errorType"]; !ok {
		return ErrorResponse{}, false
	}
	if _, ok := raw["errorMessage"]; !ok {
		return ErrorResponse{}, false
	}
	return ParseErrorBody(body)
}

// ParseStack turns a Go stack (runtime/debug.Stack format) into frames.
func ParseStack(stack string) []StackFrame {
	if stack == "" {
		return nil
	}
	lines := strings.Split(strings.TrimRight(stack, "\n"), "\n")
	var frames []StackFrame
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "goroutine ") || strings.TrimSpace(l) == "" {
			continue
		}
		// A label never starts with a tab: that is a location line's mark,
		// and FormatStack would write it back as one.
		f := StackFrame{Label: strings.TrimLeft(l, "\t")}
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "\t") {
			loc := strings.TrimSpace(lines[i+1])
			if sp := strings.LastIndex(loc, " +0x"); sp >= 0 {
				loc = loc[:sp]
			}
			if c := strings.LastIndex(loc, ":"); c >= 0 {
				if n, err := strconv.Atoi(loc[c+1:]); err == nil {
					f.Path, f.Line = loc[:c], int32(n)
				} else {
					f.Path = loc
				}
			} else {
				f.Path = loc
			}
			i++
		}
		frames = append(frames, f)
	}
	return frames
}

// FormatStack renders frames back as Go-style stack text.
func FormatStack(frames []StackFrame) string {
	if len(frames) == 0 {
		return ""
	}
	var b strings.Builder
	for _, f := range frames {
		b.WriteString(f.Label)
		b.WriteByte('\n')
		if f.Path != "" || f.Line != 0 { // a frame with a line but no path keeps its line
			fmt.Fprintf(&b, "\t%s:%d\n", f.Path, f.Line)
		}
	}
	return b.String()
}

// ToError turns a function error into the typed invocation failure.
func (e ErrorResponse) ToError(function string) *faas.Error {
	d := e.Decode()
	fe := &faas.Error{Kind: faas.KindApplication, Type: d.Type, Message: d.Message, Stack: d.Stack, NonRetryable: d.NonRetryable, Function: function}
	switch {
	case e.IsTimeout():
		fe.Kind = faas.KindTimeout
	case d.Type == TypeResponseTooLarge || d.Type == core.FailurePayloadTooLarge:
		fe.Kind, fe.NonRetryable = faas.KindPayloadTooLarge, true
	case d.Type == TypeActivityNotFound:
		fe.Kind, fe.NonRetryable = faas.KindNotFound, true
	case e.IsRuntimeCrash():
		fe.Kind = faas.KindCrash
	}
	return fe
}
