package wordcount

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/storage"
)

// Part is a reference to partial counts stored in the scratch store: map
// and merge activities exchange Parts, not counts, so the orchestration's
// history holds a few bytes per activity however large the counts are
// (intermediate data lives in object storage, as in PyWren and Lithops).
type Part struct {
	// Store is the scratch store's URL; Key the object's key in it.
	// An empty Key is an empty part.
	Store string `json:"store"`
	Key   string `json:"key,omitempty"`
	// Words is the number of distinct words in the part.
	Words int `json:"words"`
}

// encodeCounts writes counts as "word count\n" lines (words never contain
// spaces or newlines).
func encodeCounts(c Counts) []byte {
	var b bytes.Buffer
	b.Grow(len(c) * 16)
	for w, n := range c {
		b.WriteString(w)
		b.WriteByte(' ')
		b.Write(strconv.AppendInt(b.AvailableBuffer(), n, 10))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// decodeCounts adds the counts encoded by encodeCounts to c.
func decodeCounts(c Counts, data []byte) error {
	for line := 1; len(data) > 0; line++ {
		nl := bytes.IndexByte(data, '\n')
		if nl < 0 {
			return fmt.Errorf("line %d: no final newline", line)
		}
		sp := bytes.LastIndexByte(data[:nl], ' ')
		if sp <= 0 {
			return fmt.Errorf("line %d: want \"word count\", got %q", line, data[:nl])
		}
		n, err := strconv.ParseInt(string(data[sp+1:nl]), 10, 64)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		c[string(data[:sp])] += n
		data = data[nl+1:]
	}
	return nil
}

// partKey names the object of partial counts number i written by the
// current activity task. It depends on the task, not the attempt, so a
// retried attempt overwrites what a failed one wrote.
func partKey(ctx context.Context, kind string, i int) string {
	info, ok := activity.InfoFrom(ctx)
	task := info.TaskKey()
	if !ok || info.InstanceID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		task = fmt.Sprintf("direct/%x", b)
	}
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == '.' || r == ':' || r == '\\' {
			return '_'
		}
		return r
	}, task)
	return fmt.Sprintf("%s/%s-%d.txt", safe, kind, i)
}

// writePart stores counts in the scratch store.
func writePart(ctx context.Context, st storage.Store, key string, c Counts) (Part, error) {
	p := Part{Store: st.URL(), Words: len(c)}
	if len(c) == 0 {
		return p, nil
	}
	p.Key = key
	if err := st.Put(ctx, key, encodeCounts(c)); err != nil {
		return Part{}, fmt.Errorf("writing partial counts: %w", err)
	}
	return p, nil
}

// readParts adds the counts of parts to c, opening stores through
// stores (a cache by URL).
func readParts(ctx context.Context, stores map[string]storage.Store, c Counts, parts ...Part) error {
	for _, p := range parts {
		if p.Key == "" {
			continue
		}
		st, err := openCached(ctx, stores, p.Store)
		if err != nil {
			return err
		}
		data, err := st.Get(ctx, p.Key)
		if err != nil {
			return badInput(fmt.Errorf("reading partial counts: %w", err))
		}
		if err := decodeCounts(c, data); err != nil {
			return activity.NewNonRetryableError("CorruptPart", fmt.Sprintf("partial counts %s in %s: %v", p.Key, p.Store, err))
		}
	}
	return nil
}

func openCached(ctx context.Context, stores map[string]storage.Store, url string) (storage.Store, error) {
	if st := stores[url]; st != nil {
		return st, nil
	}
	st, err := storage.Open(ctx, url)
	if err != nil {
		return nil, badInput(err)
	}
	stores[url] = st
	return st, nil
}

// Scratch is where a job keeps its intermediate counts.
type Scratch struct {
	// URL is the scratch store.
	URL string `json:"url"`
	// Temporary says the job created URL as a local temporary directory,
	// which RemoveScratch deletes at the end.
	Temporary bool `json:"temporary,omitempty"`
}

// PrepareScratch returns the job's scratch store: url itself (checked to
// open), or a new local temporary directory when url is empty.
var PrepareScratch = activity.New("wordcount.prepare-scratch", func(ctx context.Context, url string) (Scratch, error) {
	if url != "" {
		st, err := storage.Open(ctx, url)
		if err != nil {
			return Scratch{}, badInput(fmt.Errorf("scratch store: %w", err))
		}
		return Scratch{URL: st.URL()}, nil
	}
	dir, err := os.MkdirTemp("", "cloudbutton-wordcount-")
	if err != nil {
		return Scratch{}, fmt.Errorf("creating a scratch directory: %w", err)
	}
	return Scratch{URL: dir, Temporary: true}, nil
})

// RemoveScratch deletes a temporary scratch directory; other scratch
// stores are left as they are (their objects are under per-instance
// prefixes).
var RemoveScratch = activity.New("wordcount.remove-scratch", func(ctx context.Context, s Scratch) (bool, error) {
	if !s.Temporary {
		return false, nil
	}
	if !filepath.IsAbs(s.URL) || !strings.HasPrefix(filepath.Base(s.URL), "cloudbutton-wordcount-") {
		return false, activity.NewNonRetryableError("BadScratch", fmt.Sprintf("refusing to remove %q: not a scratch directory of this job", s.URL))
	}
	if err := os.RemoveAll(s.URL); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	return true, nil
})

// SummarizeRequest asks SummarizeParts for the summary of the final
// partitions of a count.
type SummarizeRequest struct {
	Parts []Part `json:"parts"`
	TopN  int    `json:"topN"`
}

// SummarizeParts reads the final partitions and returns their Summary.
var SummarizeParts = activity.New("wordcount.summarize", func(ctx context.Context, r SummarizeRequest) (Summary, error) {
	stores := map[string]storage.Store{}
	counts := make([]Counts, len(r.Parts))
	for i, p := range r.Parts {
		counts[i] = make(Counts, p.Words)
		if err := readParts(ctx, stores, counts[i], p); err != nil {
			return Summary{}, err
		}
	}
	return Summarize(r.TopN, counts...), nil
})
