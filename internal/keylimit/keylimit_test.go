package keylimit

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Limit
		err  string // a substring of the error; "" for none
	}{
		{in: "api.stripe.com=10,5/s", want: Limit{Pattern: "api.stripe.com", MaxInFlight: 10, PerSecond: 5}},
		{in: "tenant-*=3", want: Limit{Pattern: "tenant-*", MaxInFlight: 3}},
		{in: "*=0.5/s,burst=2", want: Limit{Pattern: "*", PerSecond: 0.5, Burst: 2}},
		{in: " k = 2 , 1/s ", want: Limit{Pattern: "k", MaxInFlight: 2, PerSecond: 1}},
		{in: "k=0", err: "in-flight limit of 0"},
		{in: "k=0/s", err: "rate of 0/s"},
		{in: "k=-1/s", err: "rate -1/s is negative"},
		{in: "k=-2", err: "in-flight limit -2 is negative"},
		{in: "k=NaN/s", err: "not a number"},
		{in: "k=", err: "bad in-flight limit"},
		{in: "k", err: "want KEY=N"},
		{in: "=3", err: "empty key"},
		{in: "a*b=3", err: "only at the end"},
		{in: "k=3,4", err: "bad in-flight limit"},
		{in: "k=3,burst=2", err: "burst without a rate"},
		{in: "k=3,x/s", err: "bad rate"},
		{in: strings.Repeat("k", 2000) + "=1", err: "at most 1024"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := Parse(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("Parse(%q) = %v, %v; want an ErrInvalid with %q", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
			}
			if again, err := Parse(got.String()); err != nil || again != got {
				t.Fatalf("Parse(String()) = %+v, %v; want %+v", again, err, got)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	s, err := NewSet([]Limit{
		{Pattern: "*", MaxInFlight: 1}, {Pattern: "t-*", MaxInFlight: 2},
		{Pattern: "t-big-*", MaxInFlight: 3}, {Pattern: "t-big-1", MaxInFlight: 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{"x": 1, "t-a": 2, "t-big-2": 3, "t-big-1": 4, "t-": 2} {
		if l, ok := s.Lookup(key); !ok || l.MaxInFlight != want {
			t.Errorf("Lookup(%q) = %+v, %v; want MaxInFlight %d", key, l, ok, want)
		}
	}
	if _, ok := s.Lookup(""); ok {
		t.Error("the empty key is never limited")
	}
	if _, err := NewSet([]Limit{{Pattern: "a", MaxInFlight: 1}, {Pattern: "a", PerSecond: 1}}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a key limited twice: %v", err)
	}
	var none *Set
	if _, ok := none.Lookup("a"); ok {
		t.Error("a nil set limits nothing")
	}
}

func TestBucketStartsEmpty(t *testing.T) {
	t0 := time.Unix(0, 0)
	b := NewBucket(Limit{PerSecond: 2, Burst: 2}, t0)
	if ok, wait := b.Take(t0); ok || wait != 500*time.Millisecond {
		t.Fatalf("empty at start: %v, %v", ok, wait)
	}
	now := t0.Add(10 * time.Second) // fills to the burst, no more
	for i := range 2 {
		if ok, _ := b.Take(now); !ok {
			t.Fatalf("token %d of the burst", i)
		}
	}
	if ok, _ := b.Take(now); ok {
		t.Fatal("a third token past the burst")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"api.stripe.com=10,5/s", "t-*=3", "*=1/s,burst=4", "k=0", "k=-1/s", "=", "k=1e309/s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q): %v is not ErrInvalid", s, err)
			}
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("Parse(%q) returned an invalid limit: %v", s, err)
		}
		again, err := Parse(l.String())
		if err != nil || again != l {
			t.Fatalf("Parse(%q).String() = %q does not round-trip: %+v, %v", s, l.String(), again, err)
		}
	})
}
