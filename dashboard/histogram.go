package dashboard

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"
)

// Names the analytics package gives its sub-orchestrators and its
// partition activity (analytics.MapOrchestrator, MapReduceOrchestrator,
// MapReduceByKeyOrchestrator, PartitionActivity).
const (
	analyticsMap         = "analytics.map:"
	analyticsMapReduce   = "analytics.mapreduce:"
	analyticsMapReduceBy = "analytics.mapreducebykey:"
	analyticsPartition   = "analytics.partition"
)

// fanOutMin is the number of attempts of one activity from which an
// instance is drawn a histogram as a map even without analytics' names:
// analytics.Map without sub-orchestrations calls the user's activity
// directly, which only the shape of the history tells.
const fanOutMin = 50

// histogramView is the duration histogram of one activity's attempts.
type histogramView struct {
	SVG      template.HTML
	Activity string
	Role     string // "map", "reduce"
	Count    int
	P50, P95 time.Duration
	Max      time.Duration
}

// mapJob tells whether the instance is a Map/MapReduce job and names the
// activities to draw histograms of, map first, with why it is one.
func mapJob(name string, children []childLink, attempts []attempt) (acts []string, roles []string, why string) {
	counts := map[string]int{}
	for i := range attempts {
		counts[attempts[i].Name]++
	}
	present := func(n string) bool { return counts[n] > 0 }
	addPair := func(rest string) {
		// "<map>:<reduce>", where either name may hold a colon: take the
		// split whose names the attempts use, else the first colon.
		parts := strings.Split(rest, ":")
		for i := 1; i < len(parts); i++ {
			m, r := strings.Join(parts[:i], ":"), strings.Join(parts[i:], ":")
			if present(m) || present(r) || i == len(parts)-1 {
				acts, roles = append(acts, m, r), append(roles, "map", "reduce")
				return
			}
		}
	}
	switch {
	case strings.HasPrefix(name, analyticsMap):
		acts, roles, why = []string{strings.TrimPrefix(name, analyticsMap)}, []string{"map"}, "A sub-orchestration of analytics.Map"
	case strings.HasPrefix(name, analyticsMapReduceBy):
		addPair(strings.TrimPrefix(name, analyticsMapReduceBy))
		why = "A sub-orchestration of analytics.MapReduceByKey"
	case strings.HasPrefix(name, analyticsMapReduce):
		addPair(strings.TrimPrefix(name, analyticsMapReduce))
		why = "A sub-orchestration of analytics.MapReduce"
	}
	if why == "" {
		for _, c := range children {
			switch {
			case strings.HasPrefix(c.Name, analyticsMap):
				acts, roles = []string{strings.TrimPrefix(c.Name, analyticsMap)}, []string{"map"}
			case strings.HasPrefix(c.Name, analyticsMapReduceBy):
				addPair(strings.TrimPrefix(c.Name, analyticsMapReduceBy))
			case strings.HasPrefix(c.Name, analyticsMapReduce):
				addPair(strings.TrimPrefix(c.Name, analyticsMapReduce))
			default:
				continue
			}
			why = "A Map/MapReduce job: it runs analytics sub-orchestrations (" + c.Name + ")"
			break
		}
	}
	// the most frequent activity is the map when nothing else names it
	var top string
	for n, c := range counts {
		if n != analyticsPartition && (c > counts[top] || c == counts[top] && n < top) {
			top = n
		}
	}
	if why == "" && top != "" {
		switch {
		case present(analyticsPartition):
			why = "A Map/MapReduce job: it partitions its input with " + analyticsPartition
		case counts[top] >= fanOutMin:
			why = fmt.Sprintf("A fan-out: %d attempts of %q", counts[top], top)
		default:
			return nil, nil, ""
		}
		acts, roles = []string{top}, []string{"map"}
	}
	return acts, roles, why
}

// buildHistogram draws the durations of name's completed attempts
// (start, or scheduling, to finish) in bins; nil with fewer than two.
func buildHistogram(attempts []attempt, name, role string) *histogramView {
	var durs []time.Duration
	for i := range attempts {
		a := &attempts[i]
		if a.Name == name && a.State == stateCompleted && a.timed() && !a.Finished.IsZero() {
			durs = append(durs, a.Finished.Sub(a.begin()))
		}
	}
	if len(durs) < 2 {
		return nil
	}
	slices.Sort(durs)
	h := &histogramView{Activity: name, Role: role, Count: len(durs), P50: quantile(durs, 0.5), P95: quantile(durs, 0.95), Max: durs[len(durs)-1]}
	const (
		bins         = 30
		w, ht        = 360.0, 170.0
		left, bottom = 34.0, 22.0
	)
	lo, hi := durs[0], durs[len(durs)-1]
	if hi <= lo {
		hi = lo + time.Millisecond
	}
	width := float64(hi-lo) / bins
	counts := make([]int, bins)
	for _, d := range durs {
		counts[min(bins-1, int(float64(d-lo)/width))]++
	}
	peak := slices.Max(counts)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="histogram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" data-activity="%s" role="img" aria-label="Durations of %s">`,
		w, ht, template.HTMLEscapeString(name), template.HTMLEscapeString(name))
	plotW, plotH := w-left-6, ht-bottom-14
	bw := plotW / bins
	for i, c := range counts {
		if c == 0 {
			continue
		}
		bh := float64(c) / float64(peak) * plotH
		from := lo + time.Duration(float64(i)*width)
		to := lo + time.Duration(float64(i+1)*width)
		fmt.Fprintf(&b, `<rect class="hbin" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%d attempts of %s–%s</title></rect>`,
			left+float64(i)*bw+0.5, 14+plotH-bh, math.Max(0.5, bw-1), bh, c, fmtDuration(from), fmtDuration(to))
	}
	xOf := func(d time.Duration) float64 { return left + float64(d-lo)/float64(hi-lo)*plotW }
	for _, q := range []struct {
		label string
		d     time.Duration
	}{{"p50", h.P50}, {"p95", h.P95}} {
		x := xOf(q.d)
		fmt.Fprintf(&b, `<line class="quantile" x1="%.1f" x2="%.1f" y1="12" y2="%.1f"/><text class="qlabel" x="%.1f" y="10">%s</text>`,
			x, x, 14+plotH, x+2, q.label)
	}
	fmt.Fprintf(&b, `<line class="base" x1="%g" x2="%g" y1="%.1f" y2="%.1f"/>`, left, left+plotW, 14+plotH, 14+plotH)
	fmt.Fprintf(&b, `<text x="%g" y="%g">%s</text><text x="%g" y="%g" text-anchor="end">%s</text>`,
		left, ht-6, fmtDuration(lo), left+plotW, ht-6, fmtDuration(hi))
	fmt.Fprintf(&b, `<text x="%g" y="%.1f" text-anchor="end">%d</text><text x="%g" y="%.1f" text-anchor="end">0</text>`,
		left-4, 14+8.0, peak, left-4, 14+plotH)
	b.WriteString(`</svg>`)
	h.SVG = template.HTML(b.String()) // names escaped above; the rest are numbers
	return h
}

// histograms builds the histograms of a Map/MapReduce job, if it is one.
func histograms(name string, children []childLink, attempts []attempt) ([]*histogramView, string) {
	acts, roles, why := mapJob(name, children, attempts)
	var out []*histogramView
	for i, a := range acts {
		if h := buildHistogram(attempts, a, roles[i]); h != nil {
			out = append(out, h)
		}
	}
	slices.SortStableFunc(out, func(a, b *histogramView) int { return cmp.Compare(a.Role, b.Role) }) // map, then reduce
	return out, why
}
