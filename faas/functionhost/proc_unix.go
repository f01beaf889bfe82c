//go:build unix && !linux

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

// killProcessGroup kills the process group pgid.
func killProcessGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }
