package functionhost

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudbutton/cloudbutton/faas/lambdahandler"
)

// FunctionStats counts what happened to a function since the host started.
type FunctionStats struct {
	Invocations  int64 // invocations run (not throttled), async retries included
	ColdStarts   int64 // bootstrap processes started
	Throttles    int64 // invocations refused with 429
	Timeouts     int64 // invocations past the function timeout
	Crashes      int64 // processes that exited unexpectedly
	Errors       int64 // invocations that ended in a function error (any kind)
	Environments int   // bootstrap processes alive now
	// Async counts the Event (asynchronous) invocations: accepted,
	// queued now, retried after a function error, and given up on.
	AsyncAccepted, AsyncQueued, AsyncRetries, AsyncFailed int64
}

type counters struct {
	invocations, coldStarts, throttles, timeouts, crashes, errors atomic.Int64
	asyncAccepted, asyncRetries, asyncFailed                      atomic.Int64
}

// Latest is the qualifier of a function's unpublished code.
const Latest = "$LATEST"

// function is one function: its concurrency slots (shared by all its
// versions, as Lambda's reserved concurrency is), its versions and
// aliases, and its queue of asynchronous invocations.
type function struct {
	host        *Host
	name        string
	arn         string
	concurrency int
	onLimit     OnLimit
	slots       chan struct{}
	stats       counters
	async       *asyncQueue

	mu          sync.Mutex
	latest      *version
	versions    map[string]*version // published versions, by number
	aliases     map[string]string   // alias name -> version number (or $LATEST)
	lastVersion int
}

// version is one version's code and configuration, with its own pool of
// execution environments: $LATEST, or a published version, which is
// immutable.
type version struct {
	fn      *function
	name    string // "$LATEST" or "1", "2", ...
	cfg     FunctionConfig
	handler *lambdahandler.Handler // in-process functions only
	pool    pool
}

func newFunction(h *Host, name string, fc FunctionConfig, handler *lambdahandler.Handler) *function {
	fn := &function{
		host: h, name: name, concurrency: fc.Concurrency, onLimit: fc.OnLimit,
		slots:    make(chan struct{}, fc.Concurrency),
		arn:      fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", h.opts.Region, h.opts.AccountID, name),
		versions: map[string]*version{}, aliases: map[string]string{},
	}
	fn.latest = fn.newVersion(Latest, fc, handler)
	fn.async = newAsyncQueue(fn)
	return fn
}

func (f *function) newVersion(name string, fc FunctionConfig, handler *lambdahandler.Handler) *version {
	v := &version{fn: f, name: name, cfg: fc, handler: handler}
	v.pool.live = map[*environment]struct{}{}
	return v
}

// errUnknownQualifier is returned by resolve for a version or alias the
// function does not have.
var errUnknownQualifier = errors.New("functionhost: unknown qualifier")

// resolve returns the version a qualifier names: "" or $LATEST, a version
// number, or an alias.
func (f *function) resolve(qualifier string) (*version, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if qualifier == "" || qualifier == Latest {
		return f.latest, nil
	}
	if target, ok := f.aliases[qualifier]; ok {
		qualifier = target
		if qualifier == Latest {
			return f.latest, nil
		}
	}
	if v, ok := f.versions[qualifier]; ok {
		return v, nil
	}
	return nil, errUnknownQualifier
}

// publish freezes $LATEST's configuration (and code, which the caller has
// made immutable) as the next version number.
func (f *function) publish(fc FunctionConfig, handler *lambdahandler.Handler) *version {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastVersion++
	v := f.newVersion(strconv.Itoa(f.lastVersion), fc, handler)
	f.versions[v.name] = v
	return v
}

// setAlias points an alias at a version number or $LATEST.
func (f *function) setAlias(alias, target string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.versions[target]; !ok && target != Latest {
		return fmt.Errorf("%w: version %q of %s", errUnknownQualifier, target, f.name)
	}
	f.aliases[alias] = target
	return nil
}

// allVersions returns $LATEST and the published versions, in order.
func (f *function) allVersions() []*version {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := []*version{f.latest}
	nums := make([]int, 0, len(f.versions))
	for n := range f.versions {
		i, _ := strconv.Atoi(n)
		nums = append(nums, i)
	}
	sort.Ints(nums)
	for _, n := range nums {
		vs = append(vs, f.versions[strconv.Itoa(n)])
	}
	return vs
}

// acquire takes a concurrency slot: at once or errThrottled (Throttle), or
// waiting until ctx ends (Queue).
func (f *function) acquire(ctx context.Context) error {
	if f.onLimit == Queue {
		select {
		case f.slots <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case f.slots <- struct{}{}:
		return nil
	default:
		f.stats.throttles.Add(1)
		return errThrottled
	}
}

func (f *function) release() { <-f.slots }

// close stops the async queue and kills every environment of every
// version, busy ones included.
func (f *function) close() {
	f.async.close()
	for _, v := range f.allVersions() {
		v.pool.close()
	}
}

func (f *function) reap(now time.Time) {
	for _, v := range f.allVersions() {
		v.reap(now)
	}
}

func (f *function) snapshot() FunctionStats {
	n := 0
	for _, v := range f.allVersions() {
		n += v.pool.size()
	}
	return FunctionStats{
		Invocations: f.stats.invocations.Load(), ColdStarts: f.stats.coldStarts.Load(), Throttles: f.stats.throttles.Load(),
		Timeouts: f.stats.timeouts.Load(), Crashes: f.stats.crashes.Load(), Errors: f.stats.errors.Load(), Environments: n,
		AsyncAccepted: f.stats.asyncAccepted.Load(), AsyncQueued: int64(f.async.len()),
		AsyncRetries: f.stats.asyncRetries.Load(), AsyncFailed: f.stats.asyncFailed.Load(),
	}
}

var errThrottled = errors.New("functionhost: concurrency limit reached")
