package functionhost

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/cloudbutton/cloudbutton/faas/internal/lambdawire"
)

// An execution environment's sandbox (sandbox_linux.go, sandbox_other.go)
// holds every process of one bootstrap environment: it is created before
// the bootstrap starts (newSandbox), readies its command (prepare), learns
// its process (started), kills every process of the environment (kill),
// measures its memory (maxMemoryMB, outOfMemory) and frees what it holds
// once the environment is gone (release). doc.go says which mechanism is
// used where.

// sandboxEnvVar is the environment variable, holding a random token per
// environment, that marks the processes of an environment that has no
// cgroup, so that those that left the bootstrap's process group (setsid)
// are found in /proc.
const sandboxEnvVar = "_CLOUDBUTTON_SANDBOX"

// cgroupPrefix starts the name of every cgroup the host creates, followed
// by the host's pid and the sandbox's token.
const cgroupPrefix = "cloudbutton-fh-"

// sandboxCgroupPrefix starts the names of the cgroups this process creates.
func sandboxCgroupPrefix() string { return cgroupPrefix + strconv.Itoa(os.Getpid()) + "-" }

// forceNoCgroup makes new sandboxes do without a cgroup (a test hook: see
// export_test.go).
var forceNoCgroup atomic.Bool

// bytesToMB rounds a byte count up to whole megabytes (MiB, as Lambda
// counts them), capped at limitMB: an environment is killed once it is
// over its memory size, so Lambda never reports more.
func bytesToMB(n uint64, limitMB int) int {
	mb := int((n + 1<<20 - 1) >> 20)
	if limitMB > 0 && mb > limitMB {
		mb = limitMB
	}
	return mb
}

// outOfMemoryError is what an invocation fails with when its environment
// was killed for going over its memory size, as Lambda reports it: errorType
// Runtime.OutOfMemory and the runtime's exit in the message.
func outOfMemoryError(requestID string, exitErr error) lambdawire.ErrorResponse {
	return lambdawire.ErrorResponse{Type: lambdawire.TypeOutOfMemory,
		Message: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %v", requestID, exitErr)}
}
