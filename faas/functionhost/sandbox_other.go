//go:build !linux

package functionhost

import (
	"log/slog"
	"os"
	"os/exec"
)

// sandbox holds the processes of one execution environment (see
// sandbox.go). Outside Linux it is the bootstrap's process group (on Unix;
// the bootstrap alone elsewhere): a process that leaves the group (setsid)
// survives a kill, and the memory size is not enforced nor measured.
type sandbox struct {
	cmd *exec.Cmd
}

const mechProcessGroup = "process group (no memory enforcement)"

func newSandbox(_ *slog.Logger, _ int) *sandbox { return &sandbox{} }

// prepare puts the bootstrap in its own process group, before Start.
func (s *sandbox) prepare(cmd *exec.Cmd) { setProcessGroup(cmd) }

// started tells the sandbox the bootstrap runs, after a successful Start.
func (s *sandbox) started(cmd *exec.Cmd) { s.cmd = cmd }

// kill kills the bootstrap's process group, while the bootstrap has not
// been waited for (after that its pid, the group's id, may be reused).
func (s *sandbox) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	if err := s.cmd.Process.Signal(os.Kill); err == nil {
		killProcessGroup(s.cmd.Process.Pid)
	}
}

// outOfMemory is always false: the memory size is not enforced here.
func (s *sandbox) outOfMemory() bool { return false }

// maxMemoryMB is 0: memory is not measured here (the REPORT line leaves
// Max Memory Used out).
func (s *sandbox) maxMemoryMB() int { return 0 }

// mechanism names how the sandbox holds its processes and memory.
func (s *sandbox) mechanism() string { return mechProcessGroup }

// release has nothing to free here.
func (s *sandbox) release() {}

// sandboxCgroupDir is "": cgroups are Linux's.
func sandboxCgroupDir() string { return "" }
