package engine

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbutton/cloudbutton/client"
	"github.com/cloudbutton/cloudbutton/internal/store"
)

// List implements client.Client: newest first, from f.PageToken on.
func (e *Engine) List(ctx context.Context, f client.Filter) ([]*client.Status, error) {
	sf, err := storeFilter(f)
	if err != nil {
		return nil, err
	}
	ins, err := e.store.List(ctx, sf)
	if err != nil {
		return nil, err
	}
	return toStatuses(ins), nil
}

// ListPage implements client.Client with keyset paging: a page token is
// the (creation time, id) of the page's last instance, so a listing
// neither repeats nor skips an instance when others are created or
// purged between pages.
func (e *Engine) ListPage(ctx context.Context, f client.Filter) (*client.Page, error) {
	if f.Limit <= 0 {
		f.Limit = client.DefaultPageSize
	}
	sf, err := storeFilter(f)
	if err != nil {
		return nil, err
	}
	sf.Limit = f.Limit + 1 // one more tells whether a next page exists
	ins, err := e.store.List(ctx, sf)
	if err != nil {
		return nil, err
	}
	page := &client.Page{}
	if len(ins) > f.Limit {
		ins = ins[:f.Limit]
		last := ins[len(ins)-1]
		page.NextPageToken = encodePageToken(store.ListKey{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	page.Instances = toStatuses(ins)
	return page, nil
}

func storeFilter(f client.Filter) (store.Filter, error) {
	sf := store.Filter{Name: f.Name, CreatedAfter: f.CreatedAfter, CreatedBefore: f.CreatedBefore, Limit: f.Limit}
	for _, s := range f.Statuses {
		sf.Statuses = append(sf.Statuses, string(s))
	}
	if f.PageToken != "" {
		k, err := decodePageToken(f.PageToken)
		if err != nil {
			return store.Filter{}, err
		}
		sf.After = &k
	}
	return sf, nil
}

func toStatuses(ins []*store.Instance) []*client.Status {
	out := make([]*client.Status, len(ins))
	for i, in := range ins {
		out[i] = toStatus(in)
	}
	return out
}

// pageTokenPrefix marks the embedded engine's page tokens (version 1).
const pageTokenPrefix = "e1."

// encodePageToken returns "e1." and the base64url of "NANOS/ID" and its
// CRC-32, which catches a truncated or altered token.
func encodePageToken(k store.ListKey) string {
	raw := []byte(strconv.FormatInt(k.CreatedAt.UnixNano(), 10) + "/" + k.ID)
	raw = binary.BigEndian.AppendUint32(raw, crc32.ChecksumIEEE(raw))
	return pageTokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
}

func decodePageToken(tok string) (store.ListKey, error) {
	bad := func(why string) (store.ListKey, error) {
		return store.ListKey{}, fmt.Errorf("%w: %.40q: %s", client.ErrBadPageToken, tok, why)
	}
	rest, ok := strings.CutPrefix(tok, pageTokenPrefix)
	if !ok {
		return bad("not a page token of the embedded engine")
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return bad("not base64url")
	}
	if len(raw) < 4 || crc32.ChecksumIEEE(raw[:len(raw)-4]) != binary.BigEndian.Uint32(raw[len(raw)-4:]) {
		return bad("truncated or altered")
	}
	raw = raw[:len(raw)-4]
	ns, id, ok := strings.Cut(string(raw), "/")
	if !ok {
		return bad("no instance id")
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return bad("no creation time")
	}
	return store.ListKey{CreatedAt: time.Unix(0, n).UTC(), ID: id}, nil
}
