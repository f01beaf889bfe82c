package dashboard

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"time"
)

// attemptState is the state of one activity attempt.
type attemptState string

const (
	stateScheduled attemptState = "scheduled" // not started yet
	stateRunning   attemptState = "running"
	stateCompleted attemptState = "completed"
	stateFailed    attemptState = "failed"
	stateTimedOut  attemptState = "timedout"
	stateCanceled  attemptState = "canceled"
)

func (s attemptState) live() bool { return s == stateScheduled || s == stateRunning }

// failed reports an attempt that ended without a result.
func (s attemptState) failed() bool {
	return s == stateFailed || s == stateTimedOut || s == stateCanceled
}

// attempt is one activity attempt on the timeline. An engine may not
// know every time (Temporal keeps only a call's last attempt): a zero
// time is unknown.
type attempt struct {
	TaskID    int64
	Name      string
	Attempt   int
	Scheduled time.Time
	Started   time.Time // zero if not started (or not known)
	Finished  time.Time // zero while live (or not known)
	State     attemptState
	Failure   string
}

// begin is when the attempt's bar begins: its start, or its scheduling
// when the start is not known; zero when neither is.
func (a *attempt) begin() time.Time {
	if a.Started.IsZero() {
		return a.Scheduled
	}
	return a.Started
}

// timed reports whether the attempt can be placed on the timeline.
func (a *attempt) timed() bool { return !a.begin().IsZero() }

// endKnown reports whether the attempt's end is known: it finished at a
// known time, or it is live (and ends now, for the drawing).
func (a *attempt) endKnown() bool { return !a.Finished.IsZero() || a.State.live() }

// end is when the attempt finished, now while it is live, or its begin
// when it finished at a time not known.
func (a *attempt) end(now time.Time) time.Time {
	switch {
	case !a.Finished.IsZero():
		return a.Finished
	case a.State.live():
		return now
	}
	return a.begin()
}

// duration is how long the attempt ran (or has been running).
func (a *attempt) duration(now time.Time) time.Duration { return a.end(now).Sub(a.begin()) }

// task is the attempts of one activity call, in attempt order: one row.
type task struct {
	id       int64
	name     string
	attempts []*attempt
	first    time.Time // first scheduling
	last     time.Time // last finish (now while live)
	critical bool
}

// timelineView is the timeline of an instance's activity attempts.
type timelineView struct {
	SVG        template.HTML
	Attempts   int
	Tasks      int
	Bars       int // rects drawn for attempts
	Aggregated bool
	GroupSize  int // tasks per row when aggregated
	Running    int
	Failed     int
	Retried    int // tasks with more than one attempt
	Peak       int // most attempts in flight at once
	Span       time.Duration
	Critical   []criticalStep
	CritSpan   time.Duration
	P50, P95   time.Duration
	Max        time.Duration
	Stragglers int // attempts over twice the median and among the slowest 5%
	Untimed    int // attempts without a known time, not drawn
}

type criticalStep struct {
	Name     string
	TaskID   int64
	Duration time.Duration
}

// SVG geometry, in user units (the SVG scales to the page's width).
const (
	svgWidth     = 1000.0
	gutter       = 150.0 // task labels, when rows are few enough to label
	profileH     = 44.0  // the in-flight profile above the rows
	axisH        = 22.0
	maxRowsShown = 500 // rows of the aggregated view
	labelRows    = 60  // rows up to which tasks are labelled
)

// buildTimeline lays out attempts, one row per task (activity call) in
// order of first scheduling, one bar per attempt up to maxBars. now is
// when live attempts are drawn to; the plot leaves room on the right for
// them to grow in the browser.
func buildTimeline(all []attempt, now time.Time, maxBars int) timelineView {
	var v timelineView
	v.Attempts = len(all)
	calls := map[int64]int{}
	attempts := make([]attempt, 0, len(all)) // the ones with times
	for i := range all {
		a := &all[i]
		calls[a.TaskID]++
		switch {
		case a.State.live():
			v.Running++
		case a.State.failed():
			v.Failed++
		}
		if a.timed() {
			attempts = append(attempts, *a)
		}
	}
	v.Tasks = len(calls)
	for _, n := range calls {
		if n > 1 {
			v.Retried++
		}
	}
	v.Untimed = len(all) - len(attempts)
	if len(attempts) == 0 {
		return v
	}
	tasks := groupTasks(attempts, now)
	t0, t1 := tasks[0].first, time.Time{}
	for _, t := range tasks {
		t0 = minTime(t0, t.first)
		t1 = maxTime(t1, t.last)
	}
	v.Span = t1.Sub(t0)
	if v.Running > 0 { // room to grow until the next refresh
		t1 = t1.Add(max(v.Span/5, time.Second))
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Millisecond)
	}
	v.Critical, v.CritSpan = markCritical(tasks)
	durs := make([]time.Duration, 0, len(attempts))
	for i := range attempts {
		if attempts[i].endKnown() {
			durs = append(durs, attempts[i].duration(now))
		}
	}
	slices.Sort(durs)
	slow := time.Duration(math.MaxInt64)
	if len(durs) > 0 {
		v.P50, v.P95, v.Max = quantile(durs, 0.5), quantile(durs, 0.95), durs[len(durs)-1]
		// a straggler ran over twice the median, and is among the slowest 5%
		slow = max(2*v.P50+1, v.P95)
		for _, d := range durs {
			if d >= slow {
				v.Stragglers++
			}
		}
	}
	v.Aggregated = len(attempts) > maxBars
	sb := svgBuilder{t0: t0, t1: t1, now: now, slowD: slow}
	rows := len(tasks)
	if v.Aggregated {
		v.GroupSize = (len(tasks) + maxRowsShown - 1) / maxRowsShown
		rows = (len(tasks) + v.GroupSize - 1) / v.GroupSize
	}
	sb.labels = rows <= labelRows
	sb.start(rows)
	v.Peak = sb.profile(attempts)
	sb.axis()
	if v.Aggregated {
		v.Bars = sb.aggregated(tasks, v.GroupSize, maxBars)
	} else {
		for i, t := range tasks {
			sb.row(i, t)
		}
		v.Bars = len(attempts)
	}
	v.SVG = sb.finish()
	return v
}

// groupTasks groups attempts by task id, rows ordered by first
// scheduling then task id; attempts of a task in attempt order.
func groupTasks(attempts []attempt, now time.Time) []*task {
	byID := make(map[int64]*task, len(attempts))
	tasks := make([]*task, 0, len(attempts))
	for i := range attempts {
		a := &attempts[i]
		t, ok := byID[a.TaskID]
		if !ok {
			t = &task{id: a.TaskID, name: a.Name, first: a.begin()}
			byID[a.TaskID] = t
			tasks = append(tasks, t)
		}
		t.attempts = append(t.attempts, a)
		t.first = minTime(t.first, a.begin())
		if !a.Scheduled.IsZero() {
			t.first = minTime(t.first, a.Scheduled)
		}
		t.last = maxTime(t.last, a.end(now))
	}
	for _, t := range tasks {
		if len(t.attempts) > 1 {
			slices.SortFunc(t.attempts, func(a, b *attempt) int { return cmp.Compare(a.Attempt, b.Attempt) })
		}
	}
	slices.SortFunc(tasks, func(a, b *task) int {
		if c := a.first.Compare(b.first); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return tasks
}

// markCritical marks the chain of tasks that bounds the instance's
// activity time: from the task that finished last, back through the task
// that finished last before it was scheduled (what the orchestrator was
// waiting for), and so on. In a fan-out it is the straggler of each wave.
func markCritical(tasks []*task) ([]criticalStep, time.Duration) {
	byEnd := slices.Clone(tasks)
	slices.SortFunc(byEnd, func(a, b *task) int { return a.last.Compare(b.last) })
	var path []criticalStep
	cur := byEnd[len(byEnd)-1]
	end := cur.last
	for range len(tasks) {
		cur.critical = true
		path = append(path, criticalStep{Name: cur.name, TaskID: cur.id, Duration: cur.last.Sub(cur.first)})
		// the last task to finish at or before cur was scheduled
		i, _ := slices.BinarySearchFunc(byEnd, cur.first, func(t *task, at time.Time) int {
			if t.last.After(at) {
				return 1
			}
			return -1
		})
		if i == 0 {
			break
		}
		prev := byEnd[i-1]
		if prev.critical {
			break
		}
		cur = prev
	}
	slices.Reverse(path)
	return path, end.Sub(cur.first)
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(len(sorted)-1, max(0, i))]
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// svgBuilder writes the timeline's SVG by hand: html/template would cost
// far more than the 1 s budget at 10,000 bars. Every text it writes goes
// through esc.
type svgBuilder struct {
	b      []byte
	t0, t1 time.Time
	now    time.Time
	slowD  time.Duration // stragglers ran longer
	labels bool
	x0     float64 // left of the plot
	rowH   float64
	top    float64 // y of the first row
	height float64
}

func (s *svgBuilder) start(rows int) {
	s.x0 = 4
	if s.labels {
		s.x0 = gutter
	}
	s.rowH = math.Max(3, math.Min(18, math.Floor(720/float64(max(rows, 1)))))
	s.top = profileH + axisH
	s.height = s.top + float64(rows)*s.rowH + 4
	s.b = make([]byte, 0, 256+rows*200)
	s.b = fmt.Appendf(s.b, `<svg class="timeline" id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" `+
		`data-t0="%d" data-t1="%d" data-now="%d" data-x0="%g" data-x1="%g" role="img" aria-label="Timeline of activity attempts">`,
		svgWidth, s.height, s.t0.UnixMilli(), s.t1.UnixMilli(), s.now.UnixMilli(), s.x0, svgWidth-4)
}

// x maps a time to the plot.
func (s *svgBuilder) x(t time.Time) float64 {
	f := float64(t.Sub(s.t0)) / float64(s.t1.Sub(s.t0))
	return s.x0 + math.Max(0, math.Min(1, f))*(svgWidth-4-s.x0)
}

func (s *svgBuilder) num(v float64) { s.b = strconv.AppendFloat(s.b, math.Round(v*10)/10, 'f', -1, 64) }

func (s *svgBuilder) esc(text string) { s.b = append(s.b, template.HTMLEscapeString(text)...) }

// profile draws how many attempts are in flight over time (from start,
// or scheduling, to finish) as an area, and returns the peak.
func (s *svgBuilder) profile(attempts []attempt) int {
	const cols = 250
	type edge struct {
		at time.Time
		d  int
	}
	edges := make([]edge, 0, 2*len(attempts))
	for i := range attempts {
		a := &attempts[i]
		edges = append(edges, edge{a.begin(), 1}, edge{a.end(s.now), -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.d, b.d) // ends before starts at the same instant
	})
	peaks := make([]int, cols)
	inFlight, peak := 0, 0
	w := svgWidth - 4 - s.x0
	col := func(t time.Time) int { return min(cols-1, max(0, int((s.x(t)-s.x0)/w*cols))) }
	for _, e := range edges {
		inFlight += e.d
		c := col(e.at)
		peaks[c] = max(peaks[c], inFlight)
		peak = max(peak, inFlight)
	}
	// carry the level across columns without edges
	inFlight = 0
	ei := 0
	for c := range cols {
		for ei < len(edges) && col(edges[ei].at) <= c {
			inFlight += edges[ei].d
			ei++
		}
		peaks[c] = max(peaks[c], inFlight)
	}
	if peak == 0 {
		return 0
	}
	base := profileH - 4
	s.b = append(s.b, `<path class="profile" d="M`...)
	s.num(s.x0)
	s.b = append(s.b, ' ')
	s.num(base)
	last := -1.0
	for c, p := range peaks {
		y := base - float64(p)/float64(peak)*(profileH-10)
		if y == last {
			continue
		}
		x := s.x0 + float64(c)*w/cols
		if c > 0 {
			s.b = append(s.b, " H"...)
			s.num(x)
		}
		s.b = append(s.b, " V"...)
		s.num(y)
		last = y
	}
	s.b = append(s.b, " H"...)
	s.num(svgWidth - 4)
	s.b = append(s.b, " V"...)
	s.num(base)
	s.b = fmt.Appendf(s.b, ` Z"><title>in flight: peak %d</title></path>`, peak)
	s.b = fmt.Appendf(s.b, `<text class="label" x="%g" y="12">in flight (peak %d)</text>`, s.x0, peak)
	return peak
}

// axis draws time ticks at a round step.
func (s *svgBuilder) axis() {
	span := s.t1.Sub(s.t0)
	step := niceStep(span / 6)
	y := profileH + axisH - 6
	s.b = fmt.Appendf(s.b, `<g class="axis"><line x1="%g" x2="%g" y1="%g" y2="%g"/>`, s.x0, svgWidth-4, y+3, y+3)
	for i := range 12 {
		d := time.Duration(i) * step
		if d > span || d < 0 {
			break
		}
		x := s.x(s.t0.Add(d))
		s.b = fmt.Appendf(s.b, `<line class="tick" x1="%.1f" x2="%.1f" y1="%g" y2="%g"/><text x="%.1f" y="%g">+%s</text>`,
			x, x, y+3, s.height, x+2, y, template.HTMLEscapeString(fmtDuration(d)))
	}
	s.b = append(s.b, `</g>`...)
}

// niceStep rounds d up to 1, 2 or 5 times a power of ten (at least 1ms).
func niceStep(d time.Duration) time.Duration {
	for step := time.Millisecond; step <= math.MaxInt64/10; step *= 10 {
		for _, m := range []time.Duration{1, 2, 5} {
			if m*step >= d {
				return m * step
			}
		}
	}
	return max(d, time.Millisecond)
}

// row draws one task: a thin wait segment from scheduling to start and a
// bar from start to finish for each attempt.
func (s *svgBuilder) row(i int, t *task) {
	y := s.top + float64(i)*s.rowH
	if s.labels {
		s.b = fmt.Appendf(s.b, `<text class="task-label" x="%g" y="%.1f">`, s.x0-6, y+s.rowH*0.75)
		s.esc(clip(fmt.Sprintf("#%d %s", t.id, t.name), 22))
		s.b = append(s.b, `</text>`...)
	}
	for _, a := range t.attempts {
		s.bar(a, y, len(t.attempts) > 1, t.critical)
	}
}

func (s *svgBuilder) bar(a *attempt, y float64, retried, critical bool) {
	h := math.Max(2, s.rowH*0.72)
	if !a.Started.IsZero() && a.Started.After(a.Scheduled) {
		wh := math.Max(1, s.rowH*0.18)
		s.b = append(s.b, `<rect class="wait" x="`...)
		xs := s.x(a.Scheduled)
		s.num(xs)
		s.b = append(s.b, `" y="`...)
		s.num(y + (s.rowH-wh)/2)
		s.b = append(s.b, `" width="`...)
		s.num(math.Max(0.5, s.x(a.Started)-xs))
		s.b = append(s.b, `" height="`...)
		s.num(wh)
		s.b = append(s.b, `"/>`...)
	}
	x := s.x(a.begin())
	s.b = append(s.b, `<rect class="bar a-`...)
	s.b = append(s.b, a.State...)
	if retried {
		s.b = append(s.b, " retried"...)
	}
	if critical {
		s.b = append(s.b, " critical"...)
	}
	d := a.duration(s.now)
	if s.slowD > 0 && d >= s.slowD {
		s.b = append(s.b, " straggler"...)
	}
	s.b = append(s.b, `" data-task="`...)
	s.b = strconv.AppendInt(s.b, a.TaskID, 10)
	s.b = append(s.b, `" data-attempt="`...)
	s.b = strconv.AppendInt(s.b, int64(a.Attempt), 10)
	if a.State.live() {
		s.b = append(s.b, `" data-begin="`...)
		s.b = strconv.AppendInt(s.b, a.begin().UnixMilli(), 10)
	}
	s.b = append(s.b, `" x="`...)
	s.num(x)
	s.b = append(s.b, `" y="`...)
	s.num(y + (s.rowH-h)/2)
	s.b = append(s.b, `" width="`...)
	minW := 0.8
	if a.State.failed() {
		minW = 3 // a failure that returned at once still shows
	}
	s.num(math.Max(minW, s.x(a.end(s.now))-x))
	s.b = append(s.b, `" height="`...)
	s.num(h)
	s.b = append(s.b, `"><title>`...)
	s.esc(a.Name)
	s.b = fmt.Appendf(s.b, " #%d attempt %d: %s", a.TaskID, a.Attempt, a.State)
	if !a.Started.IsZero() && a.Started.After(a.Scheduled) {
		s.b = fmt.Appendf(s.b, ", waited %s", fmtDuration(a.Started.Sub(a.Scheduled)))
	}
	if a.endKnown() {
		s.b = fmt.Appendf(s.b, ", ran %s (+%s → +%s)", fmtDuration(d), fmtDuration(a.begin().Sub(s.t0)), fmtDuration(a.end(s.now).Sub(s.t0)))
	} else {
		s.b = fmt.Appendf(s.b, ", from +%s (its end is not known)", fmtDuration(a.begin().Sub(s.t0)))
	}
	if a.Failure != "" {
		s.b = append(s.b, "\n"...)
		s.esc(clip(a.Failure, 200))
	}
	s.b = append(s.b, `</title></rect>`...)
}

// aggregated draws groups of size consecutive tasks as one row each: a
// band from the group's first start to its last finish, and bars of their
// own for the notable attempts (failed, retried, live, the slowest), at
// most maxBars in all. It returns the number of attempt bars.
func (s *svgBuilder) aggregated(tasks []*task, size, maxBars int) int {
	type pick struct {
		a        *attempt
		row      int
		retried  bool
		critical bool
		rank     int
		d        time.Duration
	}
	var notable []pick
	for i := 0; i < len(tasks); i += size {
		row := i / size
		g := tasks[i:min(i+size, len(tasks))]
		begin, end := g[0].attempts[0].begin(), time.Time{}
		failed, live, n := 0, 0, 0
		for _, t := range g {
			for _, a := range t.attempts {
				n++
				begin = minTime(begin, a.begin())
				end = maxTime(end, a.end(s.now))
				rank := 4
				switch {
				case a.State.failed():
					failed, rank = failed+1, 0
				case a.State.live():
					live, rank = live+1, 1
				case len(t.attempts) > 1:
					rank = 2
				case t.critical:
					rank = 3
				}
				notable = append(notable, pick{a: a, row: row, retried: len(t.attempts) > 1, critical: t.critical, rank: rank, d: a.duration(s.now)})
			}
		}
		y := s.top + float64(row)*s.rowH
		x := s.x(begin)
		s.b = fmt.Appendf(s.b, `<rect class="group" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>tasks %d to %d: %d attempts, %d failed, %d live, +%s → +%s</title></rect>`,
			x, y+s.rowH*0.15, math.Max(0.8, s.x(end)-x), math.Max(1, s.rowH*0.7), g[0].id, g[len(g)-1].id, n, failed, live,
			fmtDuration(begin.Sub(s.t0)), fmtDuration(end.Sub(s.t0)))
	}
	// the most notable first, then the slowest
	slices.SortFunc(notable, func(a, b pick) int {
		if c := cmp.Compare(a.rank, b.rank); c != 0 {
			return c
		}
		return cmp.Compare(b.d, a.d)
	})
	notable = notable[:min(len(notable), max(0, maxBars-len(tasks)/size-1))]
	for _, p := range notable {
		s.bar(p.a, s.top+float64(p.row)*s.rowH, p.retried, p.critical)
	}
	return len(notable)
}

func (s *svgBuilder) finish() template.HTML {
	s.b = append(s.b, `</svg>`...)
	return template.HTML(s.b) // every text inside went through esc
}
