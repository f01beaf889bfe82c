package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/cloudbutton/cloudbutton/activity"
	"github.com/cloudbutton/cloudbutton/orchestration"
)

// ReadText reads a text file. A missing file is bad input: not retried.
var ReadText = activity.New("chaining.read", func(ctx context.Context, path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", activity.NewNonRetryableError("NotFound", fmt.Sprintf("no file %s", path))
	}
	return string(data), err
})

// Normalize collapses runs of white space into one space and trims the
// ends.
var Normalize = activity.New("chaining.normalize", func(ctx context.Context, s string) (string, error) {
	return strings.Join(strings.Fields(s), " "), nil
})

// Lower lower-cases a text.
var Lower = activity.New("chaining.lower", func(ctx context.Context, s string) (string, error) {
	return strings.ToLower(s), nil
})

// StripPunct removes punctuation.
var StripPunct = activity.New("chaining.strip-punct", func(ctx context.Context, s string) (string, error) {
	return strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) {
			return -1
		}
		return r
	}, s), nil
})

// Hash returns the hex SHA-256 of its input. Repeated, it builds a hash
// chain (a fingerprint that is costly to recompute).
var Hash = activity.New("chaining.hash", func(ctx context.Context, s string) (string, error) {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:]), nil
})

// TextStats describes a text.
type TextStats struct {
	Words   int    `json:"words"`
	Runes   int    `json:"runes"`
	Longest string `json:"longest"`
}

// Stats counts the words and runes of a text and finds its longest word
// (the first one, on ties).
var Stats = activity.New("chaining.stats", func(ctx context.Context, s string) (TextStats, error) {
	st := TextStats{Runes: len([]rune(s))}
	for _, w := range strings.Fields(s) {
		st.Words++
		if len([]rune(w)) > len([]rune(st.Longest)) {
			st.Longest = w
		}
	}
	return st, nil
})

// Sequence runs steps one after the other, each on the result of the
// previous one, and returns the last result: IBM Composer's sequence, a
// chain of Step Functions Task states. The first failure stops the chain;
// its error names the step.
func Sequence[T any](ctx orchestration.Context, in T, steps ...*activity.Activity[T, T]) (T, error) {
	v := in
	for i, step := range steps {
		out, err := orchestration.Call(ctx, step, v).Await(ctx)
		if err != nil {
			var zero T
			return zero, fmt.Errorf("step %d of %d (%s): %w", i+1, len(steps), step.Name(), err)
		}
		v = out
	}
	return v, nil
}

// Repeat applies act n times, each time to the previous result: IBM
// Composer's repeat(n, action). n <= 0 returns in unchanged.
func Repeat[T any](ctx orchestration.Context, n int, act *activity.Activity[T, T], in T) (T, error) {
	steps := make([]*activity.Activity[T, T], max(n, 0))
	for i := range steps {
		steps[i] = act
	}
	return Sequence(ctx, in, steps...)
}

// Input is what Pipeline processes: the file at Path, else Text.
type Input struct {
	Path string `json:"path,omitempty"`
	Text string `json:"text,omitempty"`
	// Rounds is the length of the hash chain of the fingerprint.
	Rounds int `json:"rounds"`
}

// Output is Pipeline's result.
type Output struct {
	Clean       string    `json:"clean"`
	Stats       TextStats `json:"stats"`
	Fingerprint string    `json:"fingerprint"`
}

// Pipeline chains activities, each taking the previous one's result:
// read, then a sequence of clean-up steps, then statistics, then a hash
// chain of Rounds rounds as a fingerprint.
var Pipeline = orchestration.New("chaining.pipeline", func(ctx orchestration.Context, in Input) (Output, error) {
	text := in.Text
	if in.Path != "" {
		var err error
		if text, err = orchestration.Call(ctx, ReadText, in.Path).Await(ctx); err != nil {
			return Output{}, err
		}
	}
	clean, err := Sequence(ctx, text, Normalize, StripPunct, Lower)
	if err != nil {
		return Output{}, err
	}
	stats, err := orchestration.Call(ctx, Stats, clean).Await(ctx)
	if err != nil {
		return Output{}, err
	}
	fp, err := Repeat(ctx, in.Rounds, Hash, clean)
	if err != nil {
		return Output{}, err
	}
	return Output{Clean: clean, Stats: stats, Fingerprint: fp}, nil
})

// activities lists every activity of the sample, for registration.
func activities() []activity.Definition {
	return []activity.Definition{ReadText, Normalize, Lower, StripPunct, Hash, Stats}
}
