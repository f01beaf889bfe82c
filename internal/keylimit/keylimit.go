// Package keylimit is the one implementation of per-key activity limits:
// what a limit is, how it is validated and parsed (the CLI's --key-limit),
// which limit a key gets (an exact key, then the longest prefix pattern,
// then the default "*"), and the token bucket of a rate.
package keylimit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is matched by every invalid limit (errors.Is); the public
// packages wrap it in their own sentinel.
var ErrInvalid = errors.New("invalid key limit")

// Limit bounds the activity attempts of the calls that name a key
// matching Pattern: at most MaxInFlight at once (0: no bound on the
// number in flight) and at most PerSecond started per second (0: no
// rate), with bursts of up to Burst (0: the rate rounded up, at least 1).
//
// Pattern is a key ("api.stripe.com"), a prefix ending in "*"
// ("tenant-*"), or "*" alone: the default of every key no other limit
// matches.
type Limit struct {
	Pattern     string
	MaxInFlight int
	PerSecond   float64
	Burst       int
}

// Validate says what is wrong with l, wrapping ErrInvalid.
func (l Limit) Validate() error {
	switch {
	case l.Pattern == "":
		return fmt.Errorf("%w: empty key", ErrInvalid)
	case strings.Contains(strings.TrimSuffix(l.Pattern, "*"), "*"):
		return fmt.Errorf("%w: key %q: '*' is allowed only at the end", ErrInvalid, l.Pattern)
	case l.MaxInFlight < 0:
		return fmt.Errorf("%w: key %q: in-flight limit %d is negative", ErrInvalid, l.Pattern, l.MaxInFlight)
	case math.IsNaN(l.PerSecond) || math.IsInf(l.PerSecond, 0):
		return fmt.Errorf("%w: key %q: rate %v/s is not a number", ErrInvalid, l.Pattern, l.PerSecond)
	case l.PerSecond < 0:
		return fmt.Errorf("%w: key %q: rate %v/s is negative", ErrInvalid, l.Pattern, l.PerSecond)
	case l.Burst < 0:
		return fmt.Errorf("%w: key %q: burst %d is negative", ErrInvalid, l.Pattern, l.Burst)
	case l.MaxInFlight == 0 && l.PerSecond == 0:
		return fmt.Errorf("%w: key %q: a limit of 0 (set an in-flight limit of at least 1, or a rate above 0)", ErrInvalid, l.Pattern)
	case l.Burst > 0 && l.PerSecond == 0:
		return fmt.Errorf("%w: key %q: a burst without a rate", ErrInvalid, l.Pattern)
	}
	return nil
}

// BurstOrDefault is the bucket size of l's rate.
func (l Limit) BurstOrDefault() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return max(1, int(math.Ceil(l.PerSecond)))
}

// String is l in Parse's syntax.
func (l Limit) String() string {
	var parts []string
	if l.MaxInFlight > 0 {
		parts = append(parts, strconv.Itoa(l.MaxInFlight))
	}
	if l.PerSecond > 0 {
		parts = append(parts, strconv.FormatFloat(l.PerSecond, 'g', -1, 64)+"/s")
	}
	if l.Burst > 0 {
		parts = append(parts, "burst="+strconv.Itoa(l.Burst))
	}
	return l.Pattern + "=" + strings.Join(parts, ",")
}

// maxSpec bounds what Parse reads.
const maxSpec = 1024

// Parse reads a limit as the CLI's --key-limit has it:
// KEY=N[,R/s][,burst=B] or KEY=R/s[,burst=B], e.g. "api.stripe.com=10,5/s"
// (10 in flight, 5 per second), "tenant-*=3", "*=100/s".
func Parse(s string) (Limit, error) {
	if len(s) > maxSpec {
		return Limit{}, fmt.Errorf("%w: %d bytes (at most %d)", ErrInvalid, len(s), maxSpec)
	}
	key, spec, ok := strings.Cut(s, "=")
	if !ok {
		return Limit{}, fmt.Errorf("%w: %q: want KEY=N[,R/s][,burst=B]", ErrInvalid, s)
	}
	l := Limit{Pattern: strings.TrimSpace(key)}
	var seenN, seenR, seenB bool
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(part, "burst="):
			b, err := strconv.Atoi(strings.TrimPrefix(part, "burst="))
			if err != nil || seenB {
				return Limit{}, fmt.Errorf("%w: %q: bad burst %q", ErrInvalid, s, part)
			}
			l.Burst, seenB = b, true
		case strings.HasSuffix(part, "/s"):
			r, err := strconv.ParseFloat(strings.TrimSuffix(part, "/s"), 64)
			if err != nil || seenR {
				return Limit{}, fmt.Errorf("%w: %q: bad rate %q (want R/s, e.g. 5/s or 0.5/s)", ErrInvalid, s, part)
			}
			l.PerSecond, seenR = r, true
		default:
			n, err := strconv.Atoi(part)
			if err != nil || seenN {
				return Limit{}, fmt.Errorf("%w: %q: bad in-flight limit %q (want an integer)", ErrInvalid, s, part)
			}
			if n == 0 {
				return Limit{}, fmt.Errorf("%w: %q: an in-flight limit of 0 (at least 1)", ErrInvalid, s)
			}
			l.MaxInFlight, seenN = n, true
		}
	}
	if seenR && l.PerSecond == 0 {
		return Limit{}, fmt.Errorf("%w: %q: a rate of 0/s (above 0)", ErrInvalid, s)
	}
	if err := l.Validate(); err != nil {
		return Limit{}, err
	}
	return l, nil
}

// Set is a validated list of limits, looked up by key.
type Set struct {
	exact    map[string]Limit
	prefixes []Limit // longest first
	def      *Limit
}

// NewSet validates ls (a pattern given twice is an error too); an empty
// list is a nil Set, which limits nothing.
func NewSet(ls []Limit) (*Set, error) {
	if len(ls) == 0 {
		return nil, nil
	}
	s := &Set{exact: map[string]Limit{}}
	seen := map[string]bool{}
	for _, l := range ls {
		if err := l.Validate(); err != nil {
			return nil, err
		}
		if seen[l.Pattern] {
			return nil, fmt.Errorf("%w: key %q is limited twice", ErrInvalid, l.Pattern)
		}
		seen[l.Pattern] = true
		switch {
		case l.Pattern == "*":
			s.def = &l
		case strings.HasSuffix(l.Pattern, "*"):
			s.prefixes = append(s.prefixes, l)
		default:
			s.exact[l.Pattern] = l
		}
	}
	// Longest prefix first: the most specific pattern wins.
	for i := 1; i < len(s.prefixes); i++ {
		for j := i; j > 0 && len(s.prefixes[j].Pattern) > len(s.prefixes[j-1].Pattern); j-- {
			s.prefixes[j], s.prefixes[j-1] = s.prefixes[j-1], s.prefixes[j]
		}
	}
	return s, nil
}

// Lookup returns the limit of key: an exact one, else the longest
// matching prefix, else the default; false if none applies (or s is nil).
func (s *Set) Lookup(key string) (Limit, bool) {
	if s == nil || key == "" {
		return Limit{}, false
	}
	if l, ok := s.exact[key]; ok {
		return l, true
	}
	for _, l := range s.prefixes {
		if strings.HasPrefix(key, strings.TrimSuffix(l.Pattern, "*")) {
			return l, true
		}
	}
	if s.def != nil {
		return *s.def, true
	}
	return Limit{}, false
}

// Bucket is a token bucket that starts empty: a worker that starts (or
// restarts) never bursts. It is not safe for concurrent use.
type Bucket struct {
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

// NewBucket returns an empty bucket of l's rate at now.
func NewBucket(l Limit, now time.Time) *Bucket {
	return &Bucket{rate: l.PerSecond, burst: float64(l.BurstOrDefault()), last: now}
}

// Take takes a token at now if there is one, else says how long until
// there is.
func (b *Bucket) Take(now time.Time) (bool, time.Duration) {
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / b.rate * float64(time.Second)))
	return false, max(wait, time.Nanosecond)
}
