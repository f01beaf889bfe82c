package wordcount

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cloudbutton/cloudbutton/storage"
)

// Counts maps words to their number of occurrences.
type Counts map[string]int64

// wordByte marks the ASCII bytes that are word characters.
var wordByte = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		r := rune(c)
		t[c] = r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
	}
	return t
}()

// Count adds the words of data to c. A word is a maximal run of Unicode
// letters, digits and underscores; every other rune, and every byte that
// is not valid UTF-8, separates words.
func Count(c Counts, data []byte) {
	start := -1
	for i := 0; i < len(data); {
		b := data[i]
		var isWord bool
		size := 1
		if b < utf8.RuneSelf {
			isWord = wordByte[b]
		} else {
			var r rune
			r, size = utf8.DecodeRune(data[i:])
			isWord = !(r == utf8.RuneError && size == 1) && (unicode.IsLetter(r) || unicode.IsDigit(r))
		}
		if isWord {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			c[string(data[start:i])]++
			start = -1
		}
		i += size
	}
	if start >= 0 {
		c[string(data[start:])]++
	}
}

// WordFreq is a word and its count.
type WordFreq struct {
	Word  string `json:"word"`
	Count int64  `json:"count"`
}

// Summary describes a word count compactly: equal summaries mean equal
// counts (up to a 64-bit hash collision in Digest).
type Summary struct {
	// Total is the number of words.
	Total int64 `json:"total"`
	// Distinct is the number of different words.
	Distinct int `json:"distinct"`
	// Top holds the most frequent words, most frequent first (ties by
	// word).
	Top []WordFreq `json:"top"`
	// Digest is an order-independent hash of every (word, count) pair.
	Digest string `json:"digest"`
}

// Summarize summarises counts split in any number of disjoint parts (the
// partitions of a reduce by key), keeping the top n words. It does not
// depend on map iteration order, so orchestrators may call it.
func Summarize(n int, parts ...Counts) Summary {
	var s Summary
	var digest uint64
	var top []WordFreq
	for _, p := range parts {
		for w, c := range p {
			s.Total += c
			s.Distinct++
			h := fnv.New64a()
			h.Write([]byte(w))
			var buf [9]byte
			binary.LittleEndian.PutUint64(buf[1:], uint64(c))
			h.Write(buf[:])
			digest += h.Sum64()
			if n > 0 {
				top = append(top, WordFreq{w, c})
				if len(top) >= 4*n+64 {
					top = topN(top, n)
				}
			}
		}
	}
	s.Top = topN(top, n)
	s.Digest = fmt.Sprintf("%016x", digest)
	return s
}

func topN(ws []WordFreq, n int) []WordFreq {
	slices.SortFunc(ws, func(a, b WordFreq) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Word, b.Word)
	})
	if len(ws) > n {
		ws = ws[:n:n]
	}
	return ws
}

// CountPlain counts the words of every object under prefix in st, in one
// process, one object after the other: the reference the orchestrated
// count is checked against.
func CountPlain(ctx context.Context, st storage.Store, prefix string) (Counts, error) {
	objs, err := st.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	c := Counts{}
	for _, o := range objs {
		data, err := st.Get(ctx, o.Key)
		if err != nil {
			return nil, err
		}
		Count(c, data)
	}
	return c, nil
}

// DefaultCorpus returns $(go env GOROOT)/src, the Go installation's
// source tree (falling back to the GOROOT this program was built with).
func DefaultCorpus(ctx context.Context) string {
	if out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output(); err == nil {
		if root := strings.TrimSpace(string(out)); root != "" {
			return filepath.Join(root, "src")
		}
	}
	return filepath.Join(runtime.GOROOT(), "src") //nolint:staticcheck // fallback only
}
