package functionhost

import (
	"fmt"
	"maps"
	"net/http"
	"sort"
	"time"

	"github.com/google/uuid"
)

// The control plane's versions and aliases.

func (h *Host) listVersions(r *http.Request, _ []byte) (int, any, error) {
	fn, _, err := h.lookup(r)
	if err != nil {
		return 0, nil, err
	}
	vs := fn.allVersions()
	from, to, next, err := page(r, len(vs))
	if err != nil {
		return 0, nil, err
	}
	list := []functionConfiguration{}
	for _, v := range vs[from:to] {
		list = append(list, h.configuration(fn, v))
	}
	out := map[string]any{"Versions": list}
	if next != "" {
		out["NextMarker"] = next
	}
	return http.StatusOK, out, nil
}

type publishVersionInput struct {
	CodeSha256  string `json:"CodeSha256"`
	Description string `json:"Description"`
	RevisionID  string `json:"RevisionId"`
}

func (h *Host) publishVersion(r *http.Request, body []byte) (int, any, error) {
	fn, _, err := h.lookup(r)
	if err != nil {
		return 0, nil, err
	}
	var in publishVersionInput
	if err := decodeBody(body, &in); err != nil {
		return 0, nil, err
	}
	m := h.metaOf(fn.latestVersion())
	if err := checkRevision(in.RevisionID, m.revision, "GetFunction"); err != nil {
		return 0, nil, err
	}
	if in.CodeSha256 != "" && in.CodeSha256 != m.sha256 {
		return 0, nil, invalidParameter(fmt.Sprintf("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.", in.CodeSha256, m.sha256))
	}
	return http.StatusCreated, h.configuration(fn, h.publish(fn, in.Description)), nil
}

// publish freezes $LATEST as a new version, or returns the last one when
// neither code nor configuration changed since (as Lambda does).
func (h *Host) publish(fn *function, description string) *version {
	latest := fn.latestVersion()
	m := h.metaOf(latest)
	vs := fn.allVersions()
	if last := vs[len(vs)-1]; last != latest && h.sameCode(last, latest) {
		return last
	}
	v := fn.publish(latest.cfg, latest.handler)
	pm := *m
	if description != "" { // else the function's, as on Lambda
		pm.description = description
	}
	pm.revision, pm.modified = uuid.NewString(), time.Now()
	h.ctl.meta[v] = &pm
	h.log.Info("functionhost: version published", "function", fn.name, "version", v.name, "sha256", m.sha256)
	return v
}

// sameCode reports whether two versions run the same code with the same
// configuration.
func (h *Host) sameCode(a, b *version) bool {
	ma, mb := h.metaOf(a), h.metaOf(b)
	return ma.sha256 == mb.sha256 && ma.arch == mb.arch && ma.role == mb.role && ma.runtime == mb.runtime &&
		ma.handler == mb.handler && a.cfg.MemoryMB == b.cfg.MemoryMB && a.cfg.Timeout == b.cfg.Timeout &&
		maps.Equal(a.cfg.Environment, b.cfg.Environment) && a.handler == b.handler && a.cfg.Bootstrap == b.cfg.Bootstrap
}

// aliasConfiguration is Lambda's AliasConfiguration.
type aliasConfiguration struct {
	AliasArn        string `json:"AliasArn"`
	Name            string `json:"Name"`
	FunctionVersion string `json:"FunctionVersion"`
	Description     string `json:"Description"`
	RevisionID      string `json:"RevisionId"`
}

type aliasInput struct {
	Name            string  `json:"Name"`
	FunctionVersion string  `json:"FunctionVersion"`
	Description     *string `json:"Description"`
	RevisionID      string  `json:"RevisionId"`
	RoutingConfig   *struct {
		AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights"`
	} `json:"RoutingConfig"`
}

func (h *Host) aliasConfig(fn *function, alias, target string) aliasConfiguration {
	m := h.ctl.aliases[fn][alias]
	if m == nil { // set by other means than the API
		m = &aliasMeta{revision: uuid.NewString()}
		h.aliasMetas(fn)[alias] = m
	}
	return aliasConfiguration{AliasArn: h.functionARN(fn.name, alias), Name: alias, FunctionVersion: target,
		Description: m.description, RevisionID: m.revision}
}

func (h *Host) aliasMetas(fn *function) map[string]*aliasMeta {
	ms := h.ctl.aliases[fn]
	if ms == nil {
		ms = map[string]*aliasMeta{}
		h.ctl.aliases[fn] = ms
	}
	return ms
}

// checkAliasInput validates an alias's name and version, which must exist.
func (h *Host) checkAliasInput(fn *function, in *aliasInput) error {
	if in.Name != "" && (!aliasNameRE.MatchString(in.Name) || digitsRE.MatchString(in.Name)) {
		return validation(in.Name, "name", "Member must satisfy regular expression pattern: "+aliasNamePattern)
	}
	if in.FunctionVersion != "" {
		if !versionRE.MatchString(in.FunctionVersion) {
			return validation(in.FunctionVersion, "functionVersion", "Member must satisfy regular expression pattern: "+versionPattern)
		}
		if _, err := fn.resolve(in.FunctionVersion); err != nil {
			return h.notFound(fn.name, in.FunctionVersion)
		}
	}
	if in.RoutingConfig != nil && len(in.RoutingConfig.AdditionalVersionWeights) > 0 {
		return invalidParameter("The local host does not route an alias's invocations by weight (RoutingConfig.AdditionalVersionWeights).")
	}
	return nil
}

func (h *Host) createAlias(r *http.Request, body []byte) (int, any, error) {
	fn, _, err := h.lookup(r)
	if err != nil {
		return 0, nil, err
	}
	var in aliasInput
	if err := decodeBody(body, &in); err != nil {
		return 0, nil, err
	}
	if in.Name == "" {
		return 0, nil, validation("null", "name", "Member must not be null")
	}
	if in.FunctionVersion == "" {
		return 0, nil, validation("null", "functionVersion", "Member must not be null")
	}
	if err := h.checkAliasInput(fn, &in); err != nil {
		return 0, nil, err
	}
	if _, ok := fn.aliasTargets()[in.Name]; ok {
		return 0, nil, &serviceError{http.StatusConflict, "ResourceConflictException", "Alias already exists: " + h.functionARN(fn.name, in.Name)}
	}
	if err := fn.setAlias(in.Name, in.FunctionVersion); err != nil {
		return 0, nil, h.notFound(fn.name, in.FunctionVersion)
	}
	m := &aliasMeta{revision: uuid.NewString()}
	if in.Description != nil {
		m.description = *in.Description
	}
	h.aliasMetas(fn)[in.Name] = m
	h.log.Info("functionhost: alias created", "function", fn.name, "alias", in.Name, "version", in.FunctionVersion)
	return http.StatusCreated, h.aliasConfig(fn, in.Name, in.FunctionVersion), nil
}

// aliasOf returns the alias a request's path names and its target.
func (h *Host) aliasOf(r *http.Request) (*function, string, string, error) {
	fn, _, err := h.lookup(r)
	if err != nil {
		return nil, "", "", err
	}
	alias := r.PathValue("alias")
	target, ok := fn.aliasTargets()[alias]
	if !ok {
		return nil, "", "", &serviceError{http.StatusNotFound, "ResourceNotFoundException", "Alias not found: " + h.functionARN(fn.name, alias)}
	}
	return fn, alias, target, nil
}

func (h *Host) getAlias(r *http.Request, _ []byte) (int, any, error) {
	fn, alias, target, err := h.aliasOf(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, h.aliasConfig(fn, alias, target), nil
}

func (h *Host) updateAlias(r *http.Request, body []byte) (int, any, error) {
	fn, alias, target, err := h.aliasOf(r)
	if err != nil {
		return 0, nil, err
	}
	var in aliasInput
	if err := decodeBody(body, &in); err != nil {
		return 0, nil, err
	}
	in.Name = ""
	if err := h.checkAliasInput(fn, &in); err != nil {
		return 0, nil, err
	}
	cur := h.aliasConfig(fn, alias, target)
	if err := checkRevision(in.RevisionID, cur.RevisionID, "GetAlias"); err != nil {
		return 0, nil, err
	}
	if in.FunctionVersion != "" {
		if err := fn.setAlias(alias, in.FunctionVersion); err != nil {
			return 0, nil, h.notFound(fn.name, in.FunctionVersion)
		}
		target = in.FunctionVersion
	}
	m := h.aliasMetas(fn)[alias]
	if in.Description != nil {
		m.description = *in.Description
	}
	m.revision = uuid.NewString()
	h.log.Info("functionhost: alias updated", "function", fn.name, "alias", alias, "version", target)
	return http.StatusOK, h.aliasConfig(fn, alias, target), nil
}

func (h *Host) deleteAlias(r *http.Request, _ []byte) (int, any, error) {
	fn, _, err := h.lookup(r)
	if err != nil {
		return 0, nil, err
	}
	alias := r.PathValue("alias")
	fn.removeAlias(alias) // Lambda answers 204 for an alias that is not there
	delete(h.aliasMetas(fn), alias)
	return http.StatusNoContent, nil, nil
}

func (h *Host) listAliases(r *http.Request, _ []byte) (int, any, error) {
	fn, _, err := h.lookup(r)
	if err != nil {
		return 0, nil, err
	}
	want := r.URL.Query().Get("FunctionVersion")
	targets := fn.aliasTargets()
	names := make([]string, 0, len(targets))
	for a, t := range targets {
		if want == "" || t == want {
			names = append(names, a)
		}
	}
	sort.Strings(names)
	from, to, next, err := page(r, len(names))
	if err != nil {
		return 0, nil, err
	}
	list := []aliasConfiguration{}
	for _, a := range names[from:to] {
		list = append(list, h.aliasConfig(fn, a, targets[a]))
	}
	out := map[string]any{"Aliases": list}
	if next != "" {
		out["NextMarker"] = next
	}
	return http.StatusOK, out, nil
}
