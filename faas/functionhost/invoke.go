package functionhost

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
)

// MaxAsyncPayload is Lambda's limit on an asynchronous (Event)
// invocation's payload: 1 MB (1,048,576 bytes).
const MaxAsyncPayload = 1 << 20

// maxClientContext is Lambda's limit on X-Amz-Client-Context: 3,583
// bytes of base64.
const maxClientContext = 3583

// parseFunctionName accepts a name, "name:qualifier", a partial ARN
// "account:function:name[:qualifier]" or a full ARN.
func parseFunctionName(s string) (name, qualifier string) {
	parts := strings.Split(s, ":")
	if i := indexOf(parts, "function"); i >= 0 && i+1 < len(parts) {
		name = parts[i+1]
		if i+2 < len(parts) {
			qualifier = parts[i+2]
		}
		return name, qualifier
	}
	if len(parts) == 2 {
		return parts[0], parts[1]
	}
	return s, ""
}

func indexOf(ss []string, s string) int {
	for i, v := range ss {
		if v == s {
			return i
		}
	}
	return -1
}

// invokeRequest is a validated Invoke API request.
type invokeRequest struct {
	fn        *function
	version   *version
	qualifier string // as the caller gave it ("" for none)
	kind      string // RequestResponse, Event or DryRun
	inv       *invocation
}

// serviceError is an Invoke API error: its status, AWS error code and
// message.
type serviceError struct {
	status  int
	code    string
	message string
}

func (e *serviceError) Error() string { return e.code + ": " + e.message }

func (h *Host) serveInvoke(w http.ResponseWriter, r *http.Request) {
	id := uuid.NewString()
	// Like Lambda, the response's request id is the one the function sees.
	w.Header().Set("X-Amzn-RequestId", id)
	req, err := h.parseInvoke(r, id)
	if err != nil {
		var se *serviceError
		if errors.As(err, &se) {
			awsError(w, se.status, se.code, se.message)
			return
		}
		awsError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	fn, v := req.fn, req.version
	switch req.kind {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		if err := fn.async.enqueue(req); err != nil {
			h.log.Error("functionhost: cannot queue an asynchronous invocation", "function", fn.name, "request_id", id, "err", err)
			awsError(w, http.StatusInternalServerError, "ServiceException", "queuing the asynchronous invocation: "+err.Error())
			return
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if err := fn.acquire(r.Context()); err != nil {
		if errors.Is(err, errThrottled) {
			w.Header().Set("Retry-After", "1")
			awsErrorBody(w, http.StatusTooManyRequests, "TooManyRequestsException",
				fmt.Sprintf(`{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded. Function %s is at its concurrency limit of %d."}`, fn.name, fn.concurrency))
		}
		return // the client gave up while queued
	}
	res := v.invoke(r.Context(), req.inv)
	fn.release()

	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Amz-Executed-Version", v.name)
	if res.functionError {
		hdr.Set("X-Amz-Function-Error", "Unhandled")
	}
	if strings.EqualFold(r.Header.Get("X-Amz-Log-Type"), "Tail") {
		tail := res.logs
		if len(tail) > MaxLogTail {
			tail = tail[len(tail)-MaxLogTail:]
		}
		hdr.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(tail))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.body)
}

// parseInvoke validates an Invoke request as Lambda does, in Lambda's
// order: the function and qualifier, the invocation type, the payload's
// size, that it is JSON, and the client context.
func (h *Host) parseInvoke(r *http.Request, id string) (*invokeRequest, error) {
	name, qualifier := parseFunctionName(r.PathValue("name"))
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		if qualifier != "" && q != qualifier {
			return nil, &serviceError{http.StatusBadRequest, "InvalidParameterValueException",
				"The derived qualifier from the function name does not match the specified qualifier."}
		}
		qualifier = q
	}
	fn := h.function(name)
	var v *version
	if fn != nil {
		var err error
		if v, err = fn.resolve(qualifier); err != nil {
			fn = nil
		}
	}
	if fn == nil {
		arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", h.opts.Region, h.opts.AccountID, name)
		if qualifier != "" {
			arn += ":" + qualifier
		}
		return nil, &serviceError{http.StatusNotFound, "ResourceNotFoundException", "Function not found: " + arn}
	}
	kind := r.Header.Get("X-Amz-Invocation-Type")
	limit := lambdawire.MaxSyncPayload
	switch kind {
	case "":
		kind = "RequestResponse"
	case "RequestResponse", "DryRun":
	case "Event":
		limit = MaxAsyncPayload
	default:
		return nil, &serviceError{http.StatusBadRequest, "InvalidParameterValueException",
			fmt.Sprintf("X-Amz-Invocation-Type %q: want RequestResponse, Event or DryRun", kind)}
	}
	payload, tooLarge, err := readLimited(r.Body, limit)
	if err != nil {
		return nil, &serviceError{http.StatusBadRequest, "InvalidRequestContentException", "reading the request payload: " + err.Error()}
	}
	if tooLarge {
		return nil, &serviceError{http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
			fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", limit)}
	}
	if len(payload) > 0 && !json.Valid(payload) {
		return nil, &serviceError{http.StatusBadRequest, "InvalidRequestContentException",
			"Could not parse request body into json: Could not parse payload into json: " + jsonError(payload)}
	}
	clientContext, err := decodeClientContext(r.Header.Get("X-Amz-Client-Context"))
	if err != nil {
		return nil, err
	}
	arn := fn.arn
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return &invokeRequest{fn: fn, version: v, qualifier: qualifier, kind: kind, inv: &invocation{
		id: id, payload: payload, arn: arn, traceID: traceID(r.Header.Get("X-Amzn-Trace-Id")), clientContext: clientContext,
	}}, nil
}

// jsonError says why payload is not JSON, as briefly as encoding/json can.
func jsonError(payload []byte) string {
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return err.Error()
	}
	return "invalid JSON"
}

// decodeClientContext decodes X-Amz-Client-Context: base64 of a JSON
// object, at most 3,583 bytes of base64, passed to the runtime decoded.
func decodeClientContext(h string) (string, error) {
	if h == "" {
		return "", nil
	}
	if len(h) > maxClientContext {
		return "", &serviceError{http.StatusBadRequest, "InvalidRequestContentException",
			fmt.Sprintf("Client context must be at most %d bytes of base64; it is %d", maxClientContext, len(h))}
	}
	raw, err := base64.StdEncoding.DecodeString(h)
	var obj map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(raw, &obj)
	}
	if err != nil {
		return "", &serviceError{http.StatusBadRequest, "InvalidRequestContentException",
			"Client context must be a valid Base64-encoded JSON object."}
	}
	return string(raw), nil
}

// traceHeader is an X-Ray trace header with a well-formed root.
var traceHeader = regexp.MustCompile(`(^|;)Root=1-[0-9a-f]{8}-[0-9a-f]{24}(;|$)`)

// traceID returns the caller's X-Amzn-Trace-Id when it carries a valid
// root, else a new one in X-Ray's format: Root=1-{8 hex: epoch
// seconds}-{24 hex: random};Parent={16 hex};Sampled=0.
func traceID(fromCaller string) string {
	if fromCaller != "" && len(fromCaller) <= 256 && traceHeader.MatchString(fromCaller) {
		return fromCaller
	}
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("functionhost: crypto/rand: %v", err))
	}
	var epoch [4]byte
	binary.BigEndian.PutUint32(epoch[:], uint32(time.Now().Unix()))
	return "Root=1-" + hex.EncodeToString(epoch[:]) + "-" + hex.EncodeToString(b[:12]) + ";Parent=" + hex.EncodeToString(b[12:]) + ";Sampled=0"
}

func awsError(w http.ResponseWriter, status int, code, msg string) {
	awsErrorBody(w, status, code, string(errorBody(msg)))
}

func awsErrorBody(w http.ResponseWriter, status int, code, body string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// errorBody renders an AWS service error body.
func errorBody(msg string) []byte {
	b, _ := json.Marshal(map[string]string{"Type": "User", "message": msg})
	return b
}
