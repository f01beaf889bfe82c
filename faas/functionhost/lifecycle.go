package functionhost

import (
	"fmt"
	"net/http"
	"runtime"
)

// What the control plane changes in functions and versions at run time.

// latestVersion returns the version $LATEST runs now.
func (f *function) latestVersion() *version {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latest
}

// aliasTargets returns a copy of the aliases and the versions they name.
func (f *function) aliasTargets() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]string, len(f.aliases))
	for a, t := range f.aliases {
		m[a] = t
	}
	return m
}

func (f *function) removeAlias(alias string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.aliases, alias)
}

// removeVersion drops a published version (nil if there is none such);
// its environments stop once their invocations are done.
func (f *function) removeVersion(num string) *version {
	f.mu.Lock()
	v := f.versions[num]
	delete(f.versions, num)
	f.mu.Unlock()
	return v
}

// replaceLatest makes $LATEST run fc (new code or configuration) with
// meta: invocations from now on run the new version, in new environments;
// those of the old one stop once their invocations are done.
func (h *Host) replaceLatest(f *function, fc FunctionConfig, meta *versionMeta) *version {
	f.mu.Lock()
	old := f.latest
	v := f.newVersion(Latest, fc, old.handler)
	f.latest = v
	f.mu.Unlock()
	delete(h.ctl.meta, old)
	h.ctl.meta[v] = meta
	h.retire(old)
	return v
}

// retire stops a version that no longer serves invocations: its idle
// environments now, its busy ones when their invocation is done; Close
// kills what is left (c.mu held).
func (h *Host) retire(v *version) {
	v.pool.retire()
	keep := h.ctl.retired[:0]
	for _, r := range h.ctl.retired {
		if r.pool.size() > 0 {
			keep = append(keep, r)
		}
	}
	h.ctl.retired = append(keep, v)
}

// retire marks the pool retired and stops its idle environments;
// putEnvironment stops the others as they come back.
func (p *pool) retire() {
	p.mu.Lock()
	p.retired = true
	idle := p.idle
	p.idle = nil
	for _, env := range idle {
		delete(p.live, env)
	}
	p.mu.Unlock()
	for _, env := range idle {
		env.kill()
	}
}

// closeControl kills the environments of retired versions and removes the
// temporary code directory. Close calls it once no invocation runs.
func (h *Host) closeControl() {
	h.ctl.mu.Lock()
	retired := h.ctl.retired
	h.ctl.retired = nil
	h.ctl.mu.Unlock()
	for _, v := range retired {
		v.pool.close()
	}
	h.ctl.code.close()
}

// addFunction registers a new bootstrap function.
func (h *Host) addFunction(name string, fc FunctionConfig) (*function, error) {
	fn := newFunction(h, name, fc, nil)
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, &serviceError{http.StatusServiceUnavailable, "ServiceException", "the host is closing"}
	}
	h.fnMu.Lock()
	if h.fns[name] != nil {
		h.fnMu.Unlock()
		return nil, &serviceError{http.StatusConflict, "ResourceConflictException", "Function already exist: " + name}
	}
	h.fns[name] = fn
	h.fnMu.Unlock()
	if err := fn.async.start(); err != nil {
		h.removeFunction(fn)
		return nil, fmt.Errorf("functionhost: function %s: %w", name, err)
	}
	return fn, nil
}

// removeFunction unregisters a function and stops all its environments.
func (h *Host) removeFunction(fn *function) {
	h.fnMu.Lock()
	if h.fns[fn.name] == fn {
		delete(h.fns, fn.name)
	}
	h.fnMu.Unlock()
	fn.close()
}

// hostArchitecture is Lambda's name for this machine's architecture.
func hostArchitecture() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x86_64"
}
