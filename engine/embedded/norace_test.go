//go:build !race

package embedded_test

const slowdown = 1
