//go:build !unix

package functionhost

import "os/exec"

// setProcessGroup does nothing: there are no process groups here.
func setProcessGroup(cmd *exec.Cmd) {}

// killProcessGroup does nothing: the sandbox kills the bootstrap itself.
func killProcessGroup(pgid int) {}
