package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cloudbutton/cloudbutton/internal/errkind"
)

// Problem is an error response, an RFC 9457 problem detail, sent as
// application/problem+json. Type is "urn:cloudbutton:problem:" and a
// kind, the same kinds as the CLI's exit codes mean: not-found (404, exit
// code 3), already-exists and not-running (409), unknown-name and
// bad-input (400), too-large (413), unsupported (501), unavailable (503),
// unauthorized (401), forbidden (403), method-not-allowed (405), timeout
// (504) and internal (500).
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Instance is the request's path.
	Instance string `json:"instance,omitempty"`
	// Field names the JSON field or query parameter at fault (bad-input).
	Field string `json:"field,omitempty"`
	// Limit is the bound a too-large body exceeded, in bytes.
	Limit int64 `json:"limit,omitempty"`
}

// ProblemTypePrefix starts every Problem.Type.
const ProblemTypePrefix = "urn:cloudbutton:problem:"

// statuses are the HTTP statuses of the error kinds.
var statuses = map[errkind.Kind]int{
	errkind.Internal:      http.StatusInternalServerError,
	errkind.NotFound:      http.StatusNotFound,
	errkind.AlreadyExists: http.StatusConflict,
	errkind.NotRunning:    http.StatusConflict,
	errkind.UnknownName:   http.StatusBadRequest,
	errkind.BadInput:      http.StatusBadRequest,
	errkind.TooLarge:      http.StatusRequestEntityTooLarge,
	errkind.Unsupported:   http.StatusNotImplemented,
	errkind.Unavailable:   http.StatusServiceUnavailable,
	errkind.Failed:        http.StatusConflict,
	errkind.Timeout:       http.StatusGatewayTimeout,
	errkind.Canceled:      http.StatusServiceUnavailable, // the client went away, or the server is stopping
}

// fieldError is a bad-input error about one field or parameter.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// badField returns a bad-input error naming field.
func badField(field, format string, args ...any) error {
	return errkind.With(errkind.BadInput, &fieldError{field, fmt.Errorf(format, args...)})
}

// tooLarge is a request body over the limit.
type tooLarge struct{ limit int64 }

func (e *tooLarge) Error() string {
	return fmt.Sprintf("the request body is over the limit of %d bytes", e.limit)
}

// ProblemFor returns the Problem that reports err on a request for path:
// its kind (see internal/errkind) gives the status and the type, its
// message the detail.
func ProblemFor(err error, path string) *Problem {
	k := errkind.Of(err)
	status := statuses[k]
	p := &Problem{Type: ProblemTypePrefix + k.String(), Title: http.StatusText(status), Status: status,
		Detail: err.Error(), Instance: path}
	var fe *fieldError
	if errors.As(err, &fe) {
		p.Field = fe.field
	}
	var tl *tooLarge
	if errors.As(err, &tl) {
		p.Limit = tl.limit
	}
	return p
}

// WriteProblem writes p as application/problem+json with p.Status.
func WriteProblem(w http.ResponseWriter, p *Problem) {
	b, err := json.Marshal(p)
	if err != nil { // a Problem always marshals
		b = []byte(`{"type":"` + ProblemTypePrefix + `internal","status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Location")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(b, '\n'))
}

// newProblem is a Problem of a kind that no client error has.
func newProblem(status int, kind, detail, path string) *Problem {
	return &Problem{Type: ProblemTypePrefix + kind, Title: http.StatusText(status), Status: status, Detail: detail, Instance: path}
}
