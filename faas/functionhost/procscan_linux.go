//go:build linux

package functionhost

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
)

// procStat is what the host reads of /proc/PID/stat.
type procStat struct {
	pid, ppid, pgrp int
	state           byte   // R, S, D, Z (zombie), X (dead), ...
	start           uint64 // start time in clock ticks since boot: with pid, names one process
}

// gone reports whether the process has exited (a zombie waiting for its
// parent, or dead): it holds no memory and cannot be signalled.
func (s procStat) gone() bool { return s.state == 'Z' || s.state == 'X' }

// readStat reads /proc/PID/stat. The command name is in parentheses and
// may hold spaces and parentheses, so fields are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(pid, b)
}

// parseStat parses the text of /proc/PID/stat.
func parseStat(pid int, b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// After ") ": state(3) ppid(4) pgrp(5) session(6) tty(7) tpgid(8)
	// flags(9) minflt(10) cminflt(11) majflt(12) cmajflt(13) utime(14)
	// stime(15) cutime(16) cstime(17) priority(18) nice(19) threads(20)
	// itrealvalue(21) starttime(22).
	f := bytes.Fields(b[i+2:])
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	st := procStat{pid: pid, state: f[0][0]}
	st.ppid, _ = strconv.Atoi(string(f[1]))
	st.pgrp, _ = strconv.Atoi(string(f[2]))
	var err error
	st.start, err = strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: start time: %w", pid, err)
	}
	return st, nil
}

// hasEnv reports whether the process's initial environment
// (/proc/PID/environ) holds the exact entry kv ("NAME=value").
func hasEnv(pid int, kv []byte) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for len(b) > 0 {
		entry := b
		if i := bytes.IndexByte(b, 0); i >= 0 {
			entry, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if bytes.Equal(entry, kv) {
			return true
		}
	}
	return false
}

// procMemory is a process's memory from /proc/PID/status, in bytes.
type procMemory struct {
	used uint64 // resident (VmRSS) plus swapped out (VmSwap)
	peak uint64 // peak resident (VmHWM)
}

// readMemory reads a process's memory; ok is false when the process is
// gone (or is a kernel thread, which has no Vm lines).
func readMemory(pid int) (m procMemory, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procMemory{}, false
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			m.used += kbField(line)
			ok = true
		case bytes.HasPrefix(line, []byte("VmSwap:")):
			m.used += kbField(line)
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			m.peak = kbField(line)
		}
	}
	return m, ok
}

// kbField parses "Name:   1234 kB" into bytes.
func kbField(line []byte) uint64 {
	f := bytes.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseUint(string(f[1]), 10, 64)
	return n << 10
}

// listPIDs lists the processes in /proc, in ascending order.
func listPIDs() ([]int, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// tracker finds an environment's processes without a cgroup. A process
// belongs to the environment when its environment holds the sandbox's
// marker entry (every process the bootstrap starts inherits it, setsid or
// not), when its parent belongs (a child that replaced its environment,
// seen while its parent was still alive), or when it is in the
// bootstrap's process group while the bootstrap runs. A process that
// clears its environment and leaves its parent before a scan sees it
// escapes; a cgroup has no such gap.
//
// A tracker is not safe for concurrent use.
type tracker struct {
	marker []byte
	leader procStat
	// members and strangers remember classified processes by pid, with
	// their start time; a pid no longer in /proc is forgotten.
	members   map[int]uint64
	strangers map[int]uint64
}

func newTracker(marker string, leader procStat) *tracker {
	return &tracker{
		marker: []byte(marker), leader: leader,
		members:   map[int]uint64{leader.pid: leader.start},
		strangers: map[int]uint64{},
	}
}

// scan lists the environment's live processes (zombies left out) and
// updates what the tracker remembers.
func (t *tracker) scan() ([]procStat, error) {
	pids, err := listPIDs()
	if err != nil {
		return nil, fmt.Errorf("listing /proc: %w", err)
	}
	present := make(map[int]bool, len(pids))
	var live []procStat
	var unclassified []procStat
	for _, pid := range pids {
		present[pid] = true
		if _, ok := t.strangers[pid]; ok {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue // exited since the listing
		}
		if start, ok := t.members[pid]; ok {
			if start != st.start { // the pid was reused: a new process
				delete(t.members, pid)
			} else {
				if !st.gone() {
					live = append(live, st)
				}
				continue
			}
		}
		unclassified = append(unclassified, st)
	}
	_, leaderKnown := t.members[t.leader.pid]
	// Classify new processes; repeat while a pass adds members, for a child
	// listed before its parent (pids wrap).
	for changed := true; changed; {
		changed = false
		rest := unclassified[:0]
		for _, st := range unclassified {
			switch {
			case st.gone():
				// A zombie holds nothing; it is classified when it is reused.
			case t.belongs(st, leaderKnown):
				t.members[st.pid] = st.start
				live = append(live, st)
				changed = true
			default:
				rest = append(rest, st)
				continue
			}
		}
		unclassified = rest
	}
	for _, st := range unclassified {
		if !st.gone() {
			t.strangers[st.pid] = st.start
		}
	}
	for pid := range t.members {
		if !present[pid] {
			delete(t.members, pid)
		}
	}
	for pid := range t.strangers {
		if !present[pid] {
			delete(t.strangers, pid)
		}
	}
	return live, nil
}

func (t *tracker) belongs(st procStat, leaderAlive bool) bool {
	if _, ok := t.members[st.ppid]; ok && st.ppid != 0 {
		return true
	}
	if leaderAlive && st.pgrp == t.leader.pid {
		return true
	}
	return hasEnv(st.pid, t.marker)
}

// killProc sends SIGKILL to the process st names, through a pidfd, so
// that a pid reused since st was read is never signalled: the pidfd is
// opened first, then the start time is checked again.
func killProc(st procStat) error {
	p, err := os.FindProcess(st.pid)
	if err != nil {
		return err
	}
	defer p.Release()
	now, err := readStat(st.pid)
	if err != nil || now.start != st.start {
		return os.ErrProcessDone
	}
	if err := p.Signal(os.Kill); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}
