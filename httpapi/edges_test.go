package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/engine/temporal"
	"github.com/cloudbutton/cloudbutton/httpapi"
)

// lacking is an engine without suspend and resume, as the Temporal engine
// was: they return temporal.ErrUnsupported with its reason.
type lacking struct{ client.Client }

func (lacking) Suspend(_ context.Context, id, _ string) error {
	return fmt.Errorf("suspend %q: %w (no suspend on this engine)", id, temporal.ErrUnsupported)
}

func (lacking) Resume(_ context.Context, id, _ string) error {
	return fmt.Errorf("resume %q: %w (no resume on this engine)", id, temporal.ErrUnsupported)
}

// TestUnsupportedIs501 checks that a feature an engine lacks is 501 with
// the engine's reason.
func TestUnsupportedIs501(t *testing.T) {
	e := newEnv(t, "embedded", lacking{openEmbedded(t)}, httpapi.Options{Logger: quiet()})
	_, acc := e.start(t, forever.Name(), "lacking", struct{}{})
	for _, link := range []string{acc.Links.Suspend, acc.Links.Resume} {
		r := e.do(t, http.MethodPost, link, "")
		require.Equal(t, http.StatusNotImplemented, r.status, "%s", r.body)
		p := r.problem(t)
		assert.Equal(t, httpapi.ProblemTypePrefix+"unsupported", p.Type)
		assert.Contains(t, p.Detail, "unsupported on the Temporal engine")
		assert.Contains(t, p.Detail, "no ")
	}
}

// TestCancelledWaitIs503 checks a long-poll whose request is cancelled
// (the client went away, or the server is stopping) is answered 503.
func TestCancelledWaitIs503(t *testing.T) {
	c := openEmbedded(t)
	_, err := c.StartRaw(context.Background(), forever.Name(), []byte("{}"), client.StartOptions{InstanceID: "w"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	httpapi.New(c, httpapi.Options{Logger: quiet()}).ServeHTTP(rec,
		httptest.NewRequestWithContext(ctx, "GET", "/api/v1/instances/w/wait?timeout=5m", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "%s", rec.Body)
	assert.Contains(t, rec.Body.String(), httpapi.ProblemTypePrefix+"canceled")
}

// TestIDsArePathEscaped checks that ids with slashes, spaces and
// non-ASCII characters round-trip through the links.
func TestIDsArePathEscaped(t *testing.T) {
	e := newEnv(t, "embedded", openEmbedded(t), httpapi.Options{Logger: quiet()})
	for _, id := range []string{"a/b", "with space", "ünï/cødé?#%"} {
		_, acc := e.start(t, echo.Name(), id, order{Item: "x"})
		assert.Equal(t, id, acc.InstanceID)
		in := e.wait(t, url.PathEscape(id))
		assert.Equal(t, id, in.InstanceID)
		r := e.do(t, http.MethodGet, acc.Links.History, "")
		assert.Equal(t, http.StatusOK, r.status, "%s: %s", acc.Links.History, r.body)
		r = e.do(t, http.MethodDelete, acc.Links.Purge, "")
		assert.Equal(t, http.StatusNoContent, r.status, "%s: %s", acc.Links.Purge, r.body)
	}
}
