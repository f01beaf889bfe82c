//go:build unix

package sqlite

import (
	"io/fs"
	"syscall"
)

// hardLinks returns the number of names of the file.
func hardLinks(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
