//go:build !linux

package lambdatest

// descendantGroups is not implemented here: only RIE's own process group
// is stopped (RIE itself kills its runtime on SIGTERM when it can).
func descendantGroups(int) []int { return nil }
