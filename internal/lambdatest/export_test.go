package lambdatest

import "testing"

// RIEProcessForTest returns the pid of the RIE serving url and the
// process groups of its descendants.
func RIEProcessForTest(t *testing.T, url string) (pid int, groups []int) {
	t.Helper()
	v, ok := running.Load(url)
	if !ok {
		t.Fatalf("no RIE on %s", url)
	}
	p := v.(*process)
	return p.cmd.Process.Pid, descendantGroups(p.cmd.Process.Pid)
}

// RIEExitedForTest reports whether the RIE serving url has exited.
func RIEExitedForTest(url string) bool {
	v, ok := running.Load(url)
	if !ok {
		return true
	}
	select {
	case <-v.(*process).done:
		return true
	default:
		return false
	}
}
