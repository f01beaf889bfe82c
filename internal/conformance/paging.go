package conformance

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/worker"
)

// testListPaging pages through a listing with ListPage: every instance
// once, pages bounded by Limit, tokens URL-safe, and a malformed token an
// error matching ErrBadPageToken. Other instances of the name may exist
// (Temporal's namespace is shared): the case checks its own.
func testListPaging(t *testing.T, e Engine) {
	ctx := testContext(t)
	c := e.Start(t, func(w *worker.Worker) { w.RegisterOrchestrators(paged) })
	const n, size = 7, 3
	prefix := fmt.Sprintf("paged-%d-", time.Now().UnixNano())
	mine := map[string]bool{}
	for i := range n {
		id, err := client.Start(ctx, c, paged, "", client.WithInstanceID(fmt.Sprintf("%s%d", prefix, i)))
		require.NoError(t, err)
		mine[id] = true
	}
	t.Cleanup(func() {
		for id := range mine {
			_ = c.Terminate(ctx, id, "paging case done")
		}
	})

	var lastToken string
	walk := func() (seen map[string]int, pages int) {
		seen = map[string]int{}
		f := client.Filter{Name: paged.Name(), Limit: size}
		for {
			page, err := c.ListPage(ctx, f)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Instances), size, "a page holds at most Limit")
			for _, st := range page.Instances {
				seen[st.InstanceID]++
				assert.Equal(t, paged.Name(), st.Name)
			}
			pages++
			if page.NextPageToken == "" {
				return seen, pages
			}
			assert.Equal(t, url.QueryEscape(page.NextPageToken), page.NextPageToken, "a token is URL-safe")
			lastToken = page.NextPageToken
			f.PageToken = page.NextPageToken
			require.Less(t, pages, 1000, "paging ends")
		}
	}
	eventually(t, "paging lists every instance", func() bool {
		seen, pages := walk()
		for id, k := range seen {
			require.Equal(t, 1, k, "%s listed once", id)
		}
		for id := range mine {
			if seen[id] == 0 {
				return false
			}
		}
		assert.GreaterOrEqual(t, pages, (n+size-1)/size)
		return true
	})

	all, err := c.List(ctx, client.Filter{Name: paged.Name()})
	require.NoError(t, err)
	for id := range mine {
		assert.True(t, containsID(all, id), "List without a token lists %s", id)
	}

	require.NotEmpty(t, lastToken)
	for _, tok := range []string{"not a page token", "e1.AAAA", "t1.AAAA", lastToken[:len(lastToken)-5], lastToken + "x"} {
		_, err := c.ListPage(ctx, client.Filter{Name: paged.Name(), Limit: size, PageToken: tok})
		assert.ErrorIs(t, err, client.ErrBadPageToken, "token %q", tok)
		_, err = c.List(ctx, client.Filter{Name: paged.Name(), PageToken: tok})
		assert.ErrorIs(t, err, client.ErrBadPageToken, "List, token %q", tok)
	}
}
