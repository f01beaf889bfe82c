//go:build unix

package functionhost

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the bootstrap in its own process group, so a kill
// reaches the processes it started too.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcess kills the bootstrap's process group.
func killProcess(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		_ = cmd.Process.Kill()
	}
}

// killProcessGroup kills the process group pgid.
func killProcessGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }
