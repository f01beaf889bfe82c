//go:build linux

package functionhost

import (
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// watchInterval is how often the memory watchdog samples an
	// environment's processes while their memory moves or is over half the
	// limit; a steady environment is sampled less often, down to
	// watchIdleInterval.
	watchInterval     = 5 * time.Millisecond
	watchIdleInterval = 50 * time.Millisecond
	// killWait bounds how long a kill waits for the environment to be empty.
	killWait = 5 * time.Second
)

// Sandbox mechanisms, as the debug log and doc.go name them.
const (
	mechCgroupMemory = "cgroup v2 with memory.max"
	mechCgroupWatch  = "cgroup v2 with a memory watchdog"
	mechProcWatch    = "process group and /proc marker with a memory watchdog"
)

var logMechanismOnce sync.Once

// sandbox holds the processes of one execution environment (see
// sandbox.go). On Linux, when the host can create cgroup v2 children of its
// own cgroup, each environment gets one: the bootstrap starts inside it
// (clone3 CLONE_INTO_CGROUP, so nothing it forks is ever outside), kill is
// cgroup.kill, and, when the memory controller is enabled there,
// memory.max enforces the memory size and memory.peak measures it.
// Without a cgroup, the processes are the bootstrap's process group plus
// every process whose environment holds the sandbox's marker (see
// tracker). Without the memory controller, a watchdog samples the
// resident memory of the environment's processes and kills the
// environment when their sum is over the memory size.
type sandbox struct {
	log     *slog.Logger
	limit   uint64 // memory size in bytes
	limitMB int
	token   string
	mech    string
	cg      *cgroup  // nil without a cgroup
	memcg   bool     // cg enforces and measures memory itself
	dirFD   *os.File // cg's directory, for clone3, until started

	leader procStat // the bootstrap process; pid 0 until started

	mu        sync.Mutex
	tr        *tracker // without a cgroup, once started
	released  bool
	finalPeak uint64 // memcg: memory.peak as last read

	oom     atomic.Bool   // killed for memory
	peak    atomic.Uint64 // watchdog: the highest memory seen, bytes
	sampled atomic.Int64  // when peak was last sampled (UnixNano)
	stop    chan struct{} // closes the watchdog
	stopped chan struct{} // closed when the watchdog has returned
	killMu  sync.Mutex
	once    sync.Once // release
}

// newSandbox prepares a sandbox for an environment of memoryMB megabytes.
// It never fails: without a usable cgroup it falls back (see sandbox).
func newSandbox(log *slog.Logger, memoryMB int) *sandbox {
	s := &sandbox{log: log, limit: uint64(memoryMB) << 20, limitMB: memoryMB, token: newToken(), mech: mechProcWatch}
	reason := "forced off (test hook)"
	if !forceNoCgroup.Load() {
		base := discoverCgroup()
		reason = base.reason
		if base.dir != "" {
			reason = s.useCgroup(base.dir)
		}
	}
	logMechanismOnce.Do(func() {
		log.Debug("functionhost: execution environment sandbox", "mechanism", s.mech, "cgroup", discoverCgroup().dir, "fallback", reason)
	})
	return s
}

// useCgroup gives the sandbox a cgroup under parent, with memory limits
// when the memory controller is there; it returns why it fell back, if it
// did.
func (s *sandbox) useCgroup(parent string) (fallback string) {
	cg, err := newCgroup(parent, s.token)
	if err != nil {
		return err.Error()
	}
	f, err := os.Open(cg.dir)
	if err != nil {
		_ = cg.remove()
		return err.Error()
	}
	s.cg, s.dirFD, s.mech = cg, f, mechCgroupWatch
	if !cg.has("memory.max") || !cg.has("memory.peak") || !cg.has("memory.oom.group") {
		return "no memory controller in cgroup v2 (not in the parent's cgroup.subtree_control)"
	}
	if err := cg.write("memory.max", strconv.FormatUint(s.limit, 10)); err != nil {
		return err.Error()
	}
	if err := cg.write("memory.oom.group", "1"); err != nil {
		_ = cg.write("memory.max", "max")
		return err.Error()
	}
	if cg.has("memory.swap.max") {
		_ = cg.write("memory.swap.max", "0") // Lambda has no swap
	}
	s.memcg, s.mech = true, mechCgroupMemory
	return ""
}

// prepare readies the bootstrap's command, before Start: its own process
// group, its cgroup or its marker.
func (s *sandbox) prepare(cmd *exec.Cmd) {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if s.dirFD != nil {
		attr.UseCgroupFD, attr.CgroupFD = true, int(s.dirFD.Fd())
	}
	cmd.SysProcAttr = attr
	if s.cg == nil {
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(cmd.Env, sandboxEnvVar+"="+s.token)
	}
}

// started tells the sandbox the bootstrap runs, after a successful Start.
func (s *sandbox) started(cmd *exec.Cmd) {
	if s.dirFD != nil {
		_ = s.dirFD.Close()
		s.dirFD = nil
	}
	pid := cmd.Process.Pid
	s.leader = procStat{pid: pid}
	if st, err := readStat(pid); err == nil {
		s.leader = st
	}
	if s.cg == nil {
		s.mu.Lock()
		s.tr = newTracker(sandboxEnvVar+"="+s.token, s.leader)
		s.mu.Unlock()
	}
	if !s.memcg {
		s.stop, s.stopped = make(chan struct{}), make(chan struct{})
		go s.watch()
	}
}

// members lists the environment's live processes: with a cgroup, its
// cgroup.procs (pids only); without, a scan of /proc for them.
func (s *sandbox) members() []procStat {
	if s.cg != nil {
		pids := s.cg.pids() // zombies are not listed
		out := make([]procStat, len(pids))
		for i, pid := range pids {
			out[i] = procStat{pid: pid}
		}
		return out
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tr == nil || s.released {
		return nil
	}
	live, err := s.tr.scan()
	if err != nil {
		s.log.Debug("functionhost: sandbox scan", "err", err)
	}
	return live
}

// knownPIDs lists the environment's processes without scanning /proc: the
// cgroup's, or those the last scan found.
func (s *sandbox) knownPIDs() []int {
	if s.cg != nil {
		return s.cg.pids()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tr == nil || s.released {
		return nil
	}
	pids := make([]int, 0, len(s.tr.members))
	for pid := range s.tr.members {
		pids = append(pids, pid)
	}
	return pids
}

// sample adds up the memory of the environment's processes (all of them,
// or with quick only those already known), records the peak, and returns
// the sum.
func (s *sandbox) sample(quick bool) uint64 {
	var pids []int
	if quick {
		pids = s.knownPIDs()
	} else {
		for _, st := range s.members() {
			pids = append(pids, st.pid)
		}
	}
	var sum uint64
	for _, pid := range pids {
		m, ok := readMemory(pid)
		if !ok {
			continue
		}
		sum += m.used
		raise(&s.peak, m.peak) // one process's own peak is a floor for the environment's
	}
	raise(&s.peak, sum)
	s.sampled.Store(time.Now().UnixNano())
	return sum
}

func raise(a *atomic.Uint64, v uint64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

// watch is the memory watchdog: it samples the environment's memory and
// kills the environment when it is over the memory size.
func (s *sandbox) watch() {
	defer close(s.stopped)
	interval := watchInterval
	t := time.NewTimer(interval)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		used := s.sample(false)
		if used > s.limit {
			s.oom.Store(true)
			s.log.Debug("functionhost: execution environment over its memory size; killing it",
				"used_mb", used>>20, "memory_mb", s.limitMB, "mechanism", s.mech)
			s.kill()
			return
		}
		// Sample often while memory moves or is high, less while it is steady.
		if used > s.limit/2 || used > last+s.limit/16 || used+s.limit/16 < last {
			interval = watchInterval
		} else if interval < watchIdleInterval {
			interval *= 2
		}
		last = used
		t.Reset(interval)
	}
}

// kill kills every process of the environment and waits, bounded, until
// none is left. It is safe to call at any time, more than once.
func (s *sandbox) kill() {
	s.killMu.Lock()
	defer s.killMu.Unlock()
	s.mu.Lock()
	released := s.released
	s.mu.Unlock()
	if released {
		return // its processes were gone before it was released
	}
	if s.cg != nil {
		if err := s.cg.kill(killWait); err != nil {
			s.log.Warn("functionhost: killing an execution environment", "err", err)
		}
		return
	}
	if s.leader.pid == 0 {
		return // never started
	}
	// The process group first, while the bootstrap is still there (then
	// its pid, and so the group id, cannot have been reused).
	if st, err := readStat(s.leader.pid); err == nil && st.start == s.leader.start {
		_ = syscall.Kill(-s.leader.pid, syscall.SIGKILL)
	}
	// Then whatever left the group, until none is left: a process may fork
	// between a scan and its kill.
	deadline := time.Now().Add(killWait)
	for {
		live := s.members()
		if len(live) == 0 {
			return
		}
		for _, st := range live {
			_ = killProc(st)
		}
		if time.Now().After(deadline) {
			s.log.Warn("functionhost: execution environment processes survived kill", "count", len(live))
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// outOfMemory reports whether the environment was killed for memory.
func (s *sandbox) outOfMemory() bool {
	if s.oom.Load() {
		return true
	}
	if s.memcg {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.released {
			s.readMemoryEvents()
		}
	}
	return s.oom.Load()
}

// readMemoryEvents records an OOM of the cgroup ("oom" counts before the
// kernel's OOM killer acts, "oom_kill" after). Callers hold s.mu.
func (s *sandbox) readMemoryEvents() {
	if s.cg.keyed("memory.events", "oom") > 0 || s.cg.keyed("memory.events", "oom_kill") > 0 {
		s.oom.Store(true)
	}
}

// maxMemoryMB is the most memory the environment has used so far, in MB,
// for the REPORT line: the memory size when it was killed for memory.
func (s *sandbox) maxMemoryMB() int {
	if s.outOfMemory() {
		return s.limitMB
	}
	if s.memcg {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.released {
			if p, err := s.cg.readUint("memory.peak"); err == nil && p > s.finalPeak {
				s.finalPeak = p
			}
		}
		return bytesToMB(s.finalPeak, s.limitMB)
	}
	s.mu.Lock()
	live := !s.released && s.leader.pid != 0
	s.mu.Unlock()
	// What happened since the watchdog's last sample, unless the watchdog
	// is sampling (it does at least every watchIdleInterval): a process's
	// VmHWM keeps its own peak between samples, and reading /proc on every
	// warm invocation cost 3-7% of the host's CPU.
	if live && (s.peak.Load() == 0 || time.Since(time.Unix(0, s.sampled.Load())) > 2*watchIdleInterval) {
		s.sample(true)
	}
	return bytesToMB(s.peak.Load(), s.limitMB)
}

// mechanism names how the sandbox holds its processes and memory.
func (s *sandbox) mechanism() string { return s.mech }

// release frees what the sandbox holds once its processes are gone: the
// watchdog and the cgroup directory. Memory figures stay readable.
func (s *sandbox) release() {
	s.once.Do(func() {
		if s.stop != nil {
			close(s.stop)
			<-s.stopped
		}
		if s.dirFD != nil {
			_ = s.dirFD.Close()
			s.dirFD = nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.cg != nil {
			if s.memcg {
				if p, err := s.cg.readUint("memory.peak"); err == nil && p > s.finalPeak {
					s.finalPeak = p
				}
				s.readMemoryEvents()
			}
			if err := s.cg.remove(); err != nil {
				s.log.Warn("functionhost: removing an execution environment's cgroup", "err", err)
			}
		}
		s.released = true
		s.tr = nil
	})
}

// sandboxCgroupDir is the cgroup v2 directory under which sandboxes get
// their cgroups, "" when they get none.
func sandboxCgroupDir() string { return discoverCgroup().dir }
