//go:build !unix

package functionhost

import "os/exec"

// setProcessGroup does nothing: there are no process groups here.
func setProcessGroup(cmd *exec.Cmd) {}

func killProcess(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}

// killProcessGroup does nothing: the sandbox kills the bootstrap itself.
func killProcessGroup(pgid int) {}
