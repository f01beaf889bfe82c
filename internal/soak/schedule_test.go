package soak

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSchedule(t *testing.T) {
	a, b := schedule(42, 50), schedule(42, 50)
	assert.Equal(t, a, b, "a seed gives one schedule")
	assert.NotEqual(t, a, schedule(43, 50))
	n := map[string]int{}
	for _, k := range a {
		n[k.when]++
		switch d := k.delay(100*time.Millisecond, time.Second); k.when {
		case killOpen:
			assert.Less(t, d, 100*time.Millisecond, "before the median time to ready")
		case killEarly:
			assert.Less(t, d, earlyWindow)
		case killLate:
			assert.GreaterOrEqual(t, d, earlyWindow)
			assert.Less(t, d, time.Second)
		}
	}
	for _, when := range []string{killOpen, killEarly, killLate} {
		assert.Positive(t, n[when], "50 kills have some %s", when)
	}
}

func TestPlanner(t *testing.T) {
	c := config{Seed: 9, Sizes: SmallSizes()}
	p, q := newPlanner(c, 0), newPlanner(c, 0)
	seen := map[string]bool{}
	for range topKinds {
		o, id, s := p.next()
		o2, id2, s2 := q.next()
		assert.Equal(t, o, o2)
		assert.Equal(t, id, id2)
		assert.Equal(t, s, s2, "a seed gives one plan")
		seen[o.Name()] = true
	}
	assert.Len(t, seen, len(topKinds), "each round has every kind once")
	_, id, _ := newPlanner(c, 1).next()
	assert.Contains(t, id, "-l1-0", "loaders' ids differ")
}
