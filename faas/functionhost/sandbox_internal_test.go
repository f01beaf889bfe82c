//go:build linux

package functionhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOwnCgroupDir(t *testing.T) {
	tmp := t.TempDir()
	mk := func(parts ...string) string {
		p := filepath.Join(append([]string{tmp}, parts...)...)
		require.NoError(t, os.MkdirAll(p, 0o755))
		return p
	}
	write := func(name, text string) string {
		p := filepath.Join(tmp, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	unified := mk("unified-fs", "user.slice", "session-1.scope")
	hybrid := mk("hybrid", "unified")
	bind := mk("bind", "sub")
	spaced := mk("with space", "x")
	v1 := "35 31 0:32 / " + tmp + "/memory rw,relatime - cgroup cgroup rw,memory\n"
	tests := []struct {
		name, mountinfo, cgroup, want, err string
	}{
		{name: "unified", mountinfo: "29 23 0:26 / " + tmp + "/unified-fs rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
			cgroup: "0::/user.slice/session-1.scope\n", want: unified},
		{name: "hybrid", mountinfo: v1 + "41 31 0:38 / " + tmp + "/hybrid/unified rw,relatime - cgroup2 cgroup2 rw\n",
			cgroup: "4:memory:/x\n0::/\n", want: hybrid},
		{name: "bind-mounted subtree", mountinfo: "50 40 0:26 /docker/abc " + tmp + "/bind rw - cgroup2 cgroup2 rw\n",
			cgroup: "0::/docker/abc/sub\n", want: bind},
		{name: "escaped mount point", mountinfo: "50 40 0:26 / " + strings.ReplaceAll(tmp, " ", `\040`) + `/with\040space rw - cgroup2 cgroup2 rw` + "\n",
			cgroup: "0::/x\n", want: spaced},
		{name: "outside the mount's root", mountinfo: "50 40 0:26 /docker/abc " + tmp + "/bind rw - cgroup2 cgroup2 rw\n",
			cgroup: "0::/docker/abcd\n", err: "not under any cgroup2 mount"},
		{name: "cgroup v1 only", mountinfo: v1, cgroup: "4:memory:/x\n", err: "no cgroup v2 membership"},
		{name: "no cgroup2 mount", mountinfo: v1, cgroup: "0::/\n", err: "no cgroup2 file system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ownCgroupDir(write("mountinfo", tt.mountinfo), write("cgroup", tt.cgroup))
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseStat(t *testing.T) {
	// A command name may hold spaces and parentheses.
	line := "4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 120 0 0 0 1 2 0 0 20 0 1 0 987654 8192000 200 18446744073709551615\n"
	st, err := parseStat(4242, []byte(line))
	require.NoError(t, err)
	assert.Equal(t, procStat{pid: 4242, ppid: 17, pgrp: 4242, state: 'S', start: 987654}, st)
	assert.False(t, st.gone())
	st, err = parseStat(1, []byte("1 (z) Z 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0\n"))
	require.NoError(t, err)
	assert.True(t, st.gone(), "a zombie")
	_, err = parseStat(1, []byte("1 (truncated) S 0"))
	assert.Error(t, err)
}

func TestReadStatOfSelf(t *testing.T) {
	st, err := readStat(os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, os.Getppid(), st.ppid)
	assert.NotZero(t, st.start)
	m, ok := readMemory(os.Getpid())
	require.True(t, ok)
	assert.Positive(t, m.used)
	assert.GreaterOrEqual(t, m.peak, m.used-m.used/2, "VmHWM is at least about the resident size")
}

func TestBytesToMB(t *testing.T) {
	assert.Equal(t, 0, bytesToMB(0, 128))
	assert.Equal(t, 1, bytesToMB(1, 128), "rounded up")
	assert.Equal(t, 1, bytesToMB(1<<20, 128))
	assert.Equal(t, 2, bytesToMB(1<<20+1, 128))
	assert.Equal(t, 128, bytesToMB(300<<20, 128), "never over the memory size")
}

func TestHasEnv(t *testing.T) {
	t.Setenv("_CLOUDBUTTON_TEST_VAR", "x")
	// /proc/self/environ is the environment the process started with, not
	// what Setenv changed: look for a variable it surely started with.
	data, err := os.ReadFile("/proc/self/environ")
	require.NoError(t, err)
	first, _, _ := strings.Cut(string(data), "\x00")
	require.NotEmpty(t, first)
	assert.True(t, hasEnv(os.Getpid(), []byte(first)))
	assert.False(t, hasEnv(os.Getpid(), []byte(first[:len(first)-1])), "a whole entry, not a prefix")
	assert.False(t, hasEnv(os.Getpid(), []byte("_CLOUDBUTTON_TEST_VAR=x")))
}
