package lambdatest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// descendantGroups returns the process groups of pid's descendants, read
// from /proc.
func descendantGroups(pid int) []int {
	type stat struct{ ppid, pgid int }
	procs := map[int]stat{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 {
			continue
		}
		ppid, err1 := strconv.Atoi(f[1])
		pgid, err2 := strconv.Atoi(f[2])
		if err1 == nil && err2 == nil {
			procs[p] = stat{ppid, pgid}
		}
	}
	children := map[int][]int{}
	for p, st := range procs {
		children[st.ppid] = append(children[st.ppid], p)
	}
	var groups []int
	seen := map[int]bool{}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			queue = append(queue, c)
			if g := procs[c].pgid; !seen[g] {
				seen[g] = true
				groups = append(groups, g)
			}
		}
	}
	return groups
}
