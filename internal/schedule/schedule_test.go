package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudbutton/cloudbutton/client"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spec  client.ScheduleSpec
		after string
		want  []string
	}{
		{"interval on the epoch grid", client.Every(15 * time.Minute), "2026-03-01T10:07:00Z",
			[]string{"2026-03-01T10:15:00Z", "2026-03-01T10:30:00Z"}},
		{"interval from a slot", client.Every(time.Hour), "2026-03-01T10:00:00Z",
			[]string{"2026-03-01T11:00:00Z", "2026-03-01T12:00:00Z"}},
		{"cron in UTC", client.Cron("30 2 * * *"), "2026-03-01T00:00:00Z",
			[]string{"2026-03-01T02:30:00Z", "2026-03-02T02:30:00Z"}},
		{"descriptor", client.Cron("@hourly"), "2026-03-01T00:10:00Z",
			[]string{"2026-03-01T01:00:00Z", "2026-03-01T02:00:00Z"}},
		// Paris: UTC+1 in winter, UTC+2 from 2026-03-29 02:00 local.
		{"cron in a time zone", client.ScheduleSpec{Cron: "0 9 * * *", TimeZone: "Europe/Paris"}, "2026-03-27T12:00:00Z",
			[]string{"2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"}},
		{"a wall time skipped by DST does not fire that day", client.ScheduleSpec{Cron: "30 2 * * *", TimeZone: "Europe/Paris"}, "2026-03-28T12:00:00Z",
			[]string{"2026-03-30T00:30:00Z"}},
		{"a wall time repeated by DST fires once", client.ScheduleSpec{Cron: "30 2 * * *", TimeZone: "Europe/Paris"}, "2026-10-24T12:00:00Z",
			[]string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Compile(tc.spec)
			require.NoError(t, err)
			at := mustTime(t, tc.after)
			for _, w := range tc.want {
				at = s.Next(at)
				assert.Equal(t, w, at.Format(time.RFC3339))
			}
		})
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, tc := range []struct {
		spec client.ScheduleSpec
		says string
	}{
		{client.Cron("61 * * * *"), `cron expression "61 * * * *"`},
		{client.Cron("* * *"), `cron expression "* * *"`},
		{client.Cron("0 0 31 2 *"), "never fires"},
		{client.Cron("TZ=UTC 0 * * * *"), "time zone"},
		{client.Cron("@every 1h"), "interval"},
		{client.Every(0), "neither"},
		{client.Every(-time.Minute), "interval -1m0s"},
		{client.ScheduleSpec{Cron: "@daily", Every: time.Hour}, "both"},
		{client.ScheduleSpec{Cron: "@daily", TimeZone: "Nowhere/Land"}, `"Nowhere/Land"`},
		{client.ScheduleSpec{Every: time.Hour, Jitter: -1}, "jitter"},
	} {
		_, err := Compile(tc.spec)
		require.ErrorIs(t, err, client.ErrInvalidSchedule, "%+v", tc.spec)
		assert.Contains(t, err.Error(), tc.says)
	}
}

func TestJitterIsDeterministicAndBounded(t *testing.T) {
	s, err := Compile(client.ScheduleSpec{Every: time.Minute, Jitter: 10 * time.Second})
	require.NoError(t, err)
	slot := mustTime(t, "2026-03-01T10:00:00Z")
	seen := map[time.Duration]bool{}
	for i := range 50 {
		at := slot.Add(time.Duration(i) * time.Minute)
		j := s.JitterOf("a", at)
		assert.Equal(t, j, s.JitterOf("a", at), "the same slot, the same jitter")
		assert.GreaterOrEqual(t, j, time.Duration(0))
		assert.Less(t, j, 10*time.Second)
		seen[j] = true
	}
	assert.Greater(t, len(seen), 40, "jitter varies across slots")
}

func TestSkip(t *testing.T) {
	for _, spec := range []client.ScheduleSpec{client.Every(time.Minute), client.Cron("* * * * *")} {
		s, err := Compile(spec)
		require.NoError(t, err)
		from := mustTime(t, "2026-03-01T10:00:00Z")
		n, last := s.Skip(from, from.Add(10*time.Minute))
		assert.Equal(t, 9, n, "%+v: slots strictly between", spec)
		assert.Equal(t, from.Add(9*time.Minute), last)
		n, last = s.Skip(from, from.Add(time.Minute))
		assert.Zero(t, n)
		assert.Equal(t, from, last)
	}
}

func TestValidate(t *testing.T) {
	ok := client.ScheduleOptions{ID: "s", Orchestrator: "o", Spec: client.Every(time.Hour)}
	_, err := Validate(ok)
	require.NoError(t, err)
	for _, tc := range []struct {
		change func(*client.ScheduleOptions)
		says   string
	}{
		{func(o *client.ScheduleOptions) { o.ID = "" }, "empty id"},
		{func(o *client.ScheduleOptions) { o.ID = strings.Repeat("x", MaxIDLength+1) }, "bytes"},
		{func(o *client.ScheduleOptions) { o.Orchestrator = "" }, "orchestrator"},
		{func(o *client.ScheduleOptions) { o.Overlap = 9 }, "overlap"},
		{func(o *client.ScheduleOptions) { o.CatchupWindow = -1 }, "catch-up"},
		{func(o *client.ScheduleOptions) { o.Limit = -1 }, "limit"},
		{func(o *client.ScheduleOptions) { o.Spec = client.Cron("nope") }, `"nope"`},
	} {
		o := ok
		tc.change(&o)
		_, err := Validate(o)
		require.True(t, errors.Is(err, client.ErrInvalidSchedule), "%v", err)
		assert.Contains(t, err.Error(), tc.says)
	}
}

func TestInstanceID(t *testing.T) {
	assert.Equal(t, "nightly-2026-12-01T02:30:00Z", InstanceID("nightly", mustTime(t, "2026-12-01T03:30:00+01:00")))
	assert.Equal(t, "fast-2026-12-01T02:30:00.2Z", InstanceID("fast", mustTime(t, "2026-12-01T02:30:00Z").Add(200*time.Millisecond)))
}

// FuzzCompile: any spec is compiled or refused with ErrInvalidSchedule,
// never a panic; a compiled one's next slots move forward.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"30 2 * * *", "@daily", "*/5 * * * MON-FRI", "61 * * * *", "0 0 31 2 *", "", "@every 1s", "TZ=UTC * * * * *"} {
		f.Add(s, int64(0), "Europe/Paris")
	}
	f.Add("", int64(time.Hour), "")
	f.Add("", int64(-1), "UTC")
	f.Fuzz(func(t *testing.T, expr string, every int64, tz string) {
		s, err := Compile(client.ScheduleSpec{Cron: expr, Every: time.Duration(every), TimeZone: tz})
		if err != nil {
			if !errors.Is(err, client.ErrInvalidSchedule) {
				t.Fatalf("error outside the family: %v", err)
			}
			return
		}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for range 3 {
			next := s.Next(at)
			if next.IsZero() {
				return
			}
			if !next.After(at) {
				t.Fatalf("Next(%s) = %s, not after", at, next)
			}
			at = next
		}
	})
}
