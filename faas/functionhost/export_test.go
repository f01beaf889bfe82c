package functionhost

import "testing"

// ForceNoCgroup makes the sandboxes of the environments started until tb
// ends do without a cgroup (process group, /proc marker and memory
// watchdog), so that path is tested on a machine that has cgroup v2 too.
// Tests that call it must not run in parallel with other host tests.
func ForceNoCgroup(tb testing.TB) {
	prev := forceNoCgroup.Swap(true)
	tb.Cleanup(func() { forceNoCgroup.Store(prev) })
}

// SandboxCgroupDir is the cgroup v2 directory under which environments get
// their own cgroups ("" when they get none).
func SandboxCgroupDir() string { return sandboxCgroupDir() }

// SandboxCgroupPrefix starts the names of the cgroups this process creates.
func SandboxCgroupPrefix() string { return sandboxCgroupPrefix() }
