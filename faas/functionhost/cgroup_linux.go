//go:build linux

package functionhost

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cgroupBase is what discovery found out about cgroup v2, once per process.
type cgroupBase struct {
	dir    string // this process's cgroup directory, where children go ("" when unusable)
	reason string // why dir is "" (for the debug log)
}

var (
	cgroupOnce sync.Once
	cgroupDisc cgroupBase
)

// discoverCgroup finds this process's cgroup v2 directory and checks, with
// a probe child, that the host can create children there, that they have
// cgroup.kill, and that a process can be started straight into one
// (clone3 with CLONE_INTO_CGROUP). Any failure leaves dir empty.
func discoverCgroup() cgroupBase {
	cgroupOnce.Do(func() {
		dir, err := ownCgroupDir("/proc/self/mountinfo", "/proc/self/cgroup")
		if err == nil {
			err = probeCgroup(dir)
		}
		if err != nil {
			cgroupDisc = cgroupBase{reason: err.Error()}
			return
		}
		cgroupDisc = cgroupBase{dir: dir}
	})
	return cgroupDisc
}

// ownCgroupDir returns the directory of this process's cgroup v2: the
// cgroup2 mount (from mountinfo; /sys/fs/cgroup on a unified system,
// /sys/fs/cgroup/unified on a hybrid one) joined with the path of the
// "0::" line of /proc/self/cgroup, relative to the mount's root.
func ownCgroupDir(mountinfo, selfCgroup string) (string, error) {
	cg, err := os.ReadFile(selfCgroup)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", selfCgroup, err)
	}
	var path string
	found := false
	for _, line := range strings.Split(string(cg), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			path, found = p, true
			break
		}
	}
	if !found {
		return "", errors.New("no cgroup v2 membership (no 0:: line in /proc/self/cgroup)")
	}
	mounts, err := cgroup2Mounts(mountinfo)
	if err != nil {
		return "", err
	}
	for _, m := range mounts {
		rel := path
		if m.root != "/" {
			r, ok := strings.CutPrefix(path, m.root)
			if !ok || (r != "" && r[0] != '/') {
				continue
			}
			rel = r
		}
		dir := filepath.Join(m.point, rel)
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir, nil
		}
	}
	return "", fmt.Errorf("cgroup %q is not under any cgroup2 mount", path)
}

type cgroupMount struct{ root, point string }

// cgroup2Mounts lists the cgroup2 mounts of a mountinfo file.
func cgroup2Mounts(mountinfo string) ([]cgroupMount, error) {
	data, err := os.ReadFile(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", mountinfo, err)
	}
	var out []cgroupMount
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+1 >= len(fields) || fields[sep+1] != "cgroup2" {
			continue
		}
		out = append(out, cgroupMount{root: unescapeMount(fields[3]), point: unescapeMount(fields[4])})
	}
	if len(out) == 0 {
		return nil, errors.New("no cgroup2 file system is mounted")
	}
	return out, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// probeCgroup creates and removes a child of dir, checking that it has
// cgroup.kill and that clone3 can start a process into it: it "starts" a
// path that does not exist, so the child is created in the cgroup and
// fails at exec (ENOENT); any other error means clone3 into a cgroup is
// not available (ENOSYS under some seccomp profiles, EPERM, ...).
func probeCgroup(dir string) error {
	cg, err := newCgroup(dir, "probe")
	if err != nil {
		return err
	}
	defer cg.remove()
	if _, err := os.Stat(filepath.Join(cg.dir, "cgroup.kill")); err != nil {
		return fmt.Errorf("cgroup %s has no cgroup.kill (kernel before 5.14?): %w", cg.dir, err)
	}
	f, err := os.Open(cg.dir)
	if err != nil {
		return fmt.Errorf("opening cgroup %s: %w", cg.dir, err)
	}
	defer f.Close()
	missing := filepath.Join(cg.dir, "no-such-executable")
	_, err = syscall.ForkExec(missing, []string{missing}, &syscall.ProcAttr{
		Env: []string{}, Sys: &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())},
	})
	if !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("starting a process into cgroup %s (clone3 CLONE_INTO_CGROUP): %v", cg.dir, err)
	}
	return nil
}

// cgroup is one cgroup v2 directory the host created.
type cgroup struct {
	dir string
}

// newCgroup creates a child of parent named for this process and token.
func newCgroup(parent, token string) (*cgroup, error) {
	dir := filepath.Join(parent, sandboxCgroupPrefix()+token)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating cgroup %s: %w", dir, err)
	}
	return &cgroup{dir: dir}, nil
}

// write writes a value to one of the cgroup's control files.
func (c *cgroup) write(file, value string) error {
	p := filepath.Join(c.dir, file)
	if err := os.WriteFile(p, []byte(value), 0); err != nil {
		return fmt.Errorf("writing %q to %s: %w", value, p, err)
	}
	return nil
}

// has reports whether the cgroup has a control file (its controller is
// enabled).
func (c *cgroup) has(file string) bool {
	_, err := os.Stat(filepath.Join(c.dir, file))
	return err == nil
}

// readUint reads a control file holding one number.
func (c *cgroup) readUint(file string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, file))
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// keyed reads one "key value" line of a flat-keyed file (memory.events,
// cgroup.events); -1 when it is not there.
func (c *cgroup) keyed(file, key string) int64 {
	b, err := os.ReadFile(filepath.Join(c.dir, file))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

// pids lists the processes in the cgroup.
func (c *cgroup) pids() []int {
	b, err := os.ReadFile(filepath.Join(c.dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// populated reports whether a process is still in the cgroup (a removed
// cgroup has none).
func (c *cgroup) populated() bool {
	if _, err := os.Stat(c.dir); errors.Is(err, os.ErrNotExist) {
		return false
	}
	return c.keyed("cgroup.events", "populated") != 0
}

// kill kills every process in the cgroup (cgroup.kill) and waits, up to
// wait, for it to be empty.
func (c *cgroup) kill(wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		if err := c.write("cgroup.kill", "1"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if !c.populated() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s still has processes %v after cgroup.kill", c.dir, c.pids())
		}
		time.Sleep(time.Millisecond)
	}
}

// remove kills what is left in the cgroup and removes its directory.
func (c *cgroup) remove() error {
	deadline := time.Now().Add(killWait)
	for {
		err := os.Remove(c.dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("removing cgroup %s: %w", c.dir, err)
		}
		_ = c.kill(10 * time.Millisecond)
	}
}
