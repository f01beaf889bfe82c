//go:build race

package embedded_test

// slowdown scales the crash test's kill intervals: the race detector makes
// the worker several times slower.
const slowdown = 3
