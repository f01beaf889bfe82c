package functionhost

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// The control plane: the subset of Lambda's management API that deploying
// a function needs (faas/deploy, the AWS CLI, any SDK), on the same
// address as the Invoke API. Functions of the config file are there too,
// as $LATEST, and can be updated and published through it.

// Runtimes the host can run: the OS-only ones, whose bootstrap it starts.
var providedRuntimes = map[string]bool{"provided.al2023": true, "provided.al2": true, "provided": true}

// AWS's patterns, quoted in its ValidationException messages.
const (
	functionNamePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`
	aliasNamePattern    = `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`
	versionPattern      = `(\$LATEST|[0-9]+)`
)

var (
	functionNameRE = regexp.MustCompile(`^` + functionNamePattern + `$`)
	aliasNameRE    = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
	versionRE      = regexp.MustCompile(`^` + versionPattern + `$`)
	digitsRE       = regexp.MustCompile(`^[0-9]+$`)
)

// control is the control plane's state beside the functions: what Lambda
// reports about versions and aliases that invocations do not need. Its
// mutex serializes every control-plane request.
type control struct {
	mu      sync.Mutex
	code    codeStore
	meta    map[*version]*versionMeta
	aliases map[*function]map[string]*aliasMeta
	retired []*version // replaced or deleted, maybe still running
}

// versionMeta is what GetFunction reports of a version beyond its
// FunctionConfig.
type versionMeta struct {
	role, description, runtime, handler, arch string
	sha256                                    string
	size                                      int64
	modified                                  time.Time
	revision                                  string
}

type aliasMeta struct {
	description, revision string
}

func (c *control) init(codeDir string) {
	c.code.base = codeDir
	c.meta = map[*version]*versionMeta{}
	c.aliases = map[*function]map[string]*aliasMeta{}
}

// metaOf returns v's metadata, making it up for a function of the config
// file (c.mu held).
func (h *Host) metaOf(v *version) *versionMeta {
	if m := h.ctl.meta[v]; m != nil {
		return m
	}
	m := &versionMeta{
		role: "arn:aws:iam::" + h.opts.AccountID + ":role/functionhost", runtime: "provided.al2023", handler: "bootstrap",
		arch: hostArchitecture(), modified: time.Now(), revision: uuid.NewString(),
	}
	if v.handler != nil {
		m.handler, m.description = "in-process", "in-process: activities of the host"
	} else if b, err := os.ReadFile(v.cfg.Bootstrap); err == nil {
		// Not a package's hash, but one that changes with the code.
		sum := sha256.Sum256(b)
		m.sha256, m.size = base64.StdEncoding.EncodeToString(sum[:]), int64(len(b))
	}
	h.ctl.meta[v] = m
	return m
}

func (h *Host) controlRoutes(mux *http.ServeMux) {
	const fns = "/2015-03-31/functions"
	mux.HandleFunc("POST "+fns, h.serveControl(h.createFunction))
	mux.HandleFunc("GET "+fns, h.serveControl(h.listFunctions))
	mux.HandleFunc("GET "+fns+"/{$}", h.serveControl(h.listFunctions))
	mux.HandleFunc("GET "+fns+"/{name}", h.serveControl(h.getFunction))
	mux.HandleFunc("DELETE "+fns+"/{name}", h.serveControl(h.deleteFunction))
	mux.HandleFunc("GET "+fns+"/{name}/configuration", h.serveControl(h.getFunctionConfiguration))
	mux.HandleFunc("PUT "+fns+"/{name}/configuration", h.serveControl(h.updateFunctionConfiguration))
	mux.HandleFunc("PUT "+fns+"/{name}/code", h.serveControl(h.updateFunctionCode))
	mux.HandleFunc("POST "+fns+"/{name}/versions", h.serveControl(h.publishVersion))
	mux.HandleFunc("GET "+fns+"/{name}/versions", h.serveControl(h.listVersions))
	mux.HandleFunc("POST "+fns+"/{name}/aliases", h.serveControl(h.createAlias))
	mux.HandleFunc("GET "+fns+"/{name}/aliases", h.serveControl(h.listAliases))
	mux.HandleFunc("GET "+fns+"/{name}/aliases/{alias}", h.serveControl(h.getAlias))
	mux.HandleFunc("PUT "+fns+"/{name}/aliases/{alias}", h.serveControl(h.updateAlias))
	mux.HandleFunc("DELETE "+fns+"/{name}/aliases/{alias}", h.serveControl(h.deleteAlias))
}

// controlOp is one control-plane operation: it returns the status and
// value to answer with (JSON; nil for none), or an error.
type controlOp func(r *http.Request, body []byte) (int, any, error)

// serveControl serves op under the control-plane lock: reads the body (at
// most MaxCodeRequest bytes), answers with its JSON or its error in AWS's
// form.
func (h *Host) serveControl(op controlOp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-RequestId", uuid.NewString())
		body, tooLarge, err := readLimited(r.Body, MaxCodeRequest)
		if err != nil {
			awsError(w, http.StatusBadRequest, "InvalidRequestContentException", "reading the request body: "+err.Error())
			return
		}
		if tooLarge {
			awsError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
				fmt.Sprintf("Request must be smaller than %d bytes for the %s operation", MaxCodeRequest, operationName(r)))
			return
		}
		h.ctl.mu.Lock()
		status, out, err := op(r, body)
		h.ctl.mu.Unlock()
		if err != nil {
			var se *serviceError
			if !errors.As(err, &se) {
				h.log.Error("functionhost: control plane", "method", r.Method, "path", r.URL.Path, "err", err)
				se = &serviceError{http.StatusInternalServerError, "ServiceException", err.Error()}
			}
			awsError(w, se.status, se.code, se.message)
			return
		}
		if out == nil {
			w.WriteHeader(status)
			return
		}
		b, err := json.Marshal(out)
		if err != nil {
			awsError(w, http.StatusInternalServerError, "ServiceException", err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
}

// operationName names the operation of a request with a body, for
// Lambda's messages.
func operationName(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/code"):
		return "UpdateFunctionCode"
	case strings.HasSuffix(p, "/configuration"):
		return "UpdateFunctionConfiguration"
	case strings.HasSuffix(p, "/versions"):
		return "PublishVersion"
	case strings.HasSuffix(p, "/aliases"):
		return "CreateAlias"
	case strings.Contains(p, "/aliases/"):
		return "UpdateAlias"
	case r.Method == http.MethodPost:
		return "CreateFunction"
	}
	return r.Method + " " + p
}

// dotSegments answers a path with a "." or ".." segment under
// /2015-03-31/functions/ as Lambda does, with a ValidationException for
// the name: ServeMux would redirect it to another operation.
func dotSegments(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/2015-03-31/functions/"); ok {
			for i, seg := range strings.Split(rest, "/") {
				if seg != "." && seg != ".." { // escaped, they reach the handlers' checks

					continue
				}
				field, pattern := "functionName", functionNamePattern
				if i > 0 {
					field, pattern = "name", aliasNamePattern
				}
				w.Header().Set("X-Amzn-RequestId", uuid.NewString())
				var se *serviceError
				errors.As(validation(seg, field, "Member must satisfy regular expression pattern: "+pattern), &se)
				awsError(w, se.status, se.code, se.message)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// decodeBody decodes a JSON request body; fields the host does not
// implement are ignored, as a newer SDK's would be.
func decodeBody(body []byte, v any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &serviceError{http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: " + err.Error()}
	}
	return nil
}

func validation(value, field, constraint string) error {
	return &serviceError{http.StatusBadRequest, "ValidationException",
		fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)}
}

func invalidParameter(msg string) error {
	return &serviceError{http.StatusBadRequest, "InvalidParameterValueException", msg}
}

func (h *Host) functionARN(name, qualifier string) string {
	arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", h.opts.Region, h.opts.AccountID, name)
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}

func (h *Host) notFound(name, qualifier string) error {
	return &serviceError{http.StatusNotFound, "ResourceNotFoundException", "Function not found: " + h.functionARN(name, qualifier)}
}

// functionRef parses a FunctionName (a name, name:qualifier, or an ARN)
// as Lambda validates it, and a Qualifier query parameter.
func functionRef(raw, queryQualifier string) (name, qualifier string, err error) {
	if len(raw) > 140 {
		return "", "", validation(raw, "functionName", "Member must have length less than or equal to 140")
	}
	if !functionNameRE.MatchString(raw) {
		return "", "", validation(raw, "functionName", "Member must satisfy regular expression pattern: "+functionNamePattern)
	}
	name, qualifier = parseFunctionName(raw)
	if len(name) > 64 {
		return "", "", validation(name, "functionName", "Member must have length less than or equal to 64")
	}
	if queryQualifier != "" {
		if qualifier != "" && qualifier != queryQualifier {
			return "", "", invalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		qualifier = queryQualifier
		if !aliasNameRE.MatchString(qualifier) && qualifier != Latest {
			return "", "", validation(qualifier, "qualifier", `Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`)
		}
	}
	return name, qualifier, nil
}

// lookup finds the function a request's path names (its qualifier, if
// any, is checked to exist).
func (h *Host) lookup(r *http.Request) (*function, string, error) {
	name, qualifier, err := functionRef(r.PathValue("name"), r.URL.Query().Get("Qualifier"))
	if err != nil {
		return nil, "", err
	}
	fn := h.function(name)
	if fn == nil {
		return nil, "", h.notFound(name, qualifier)
	}
	return fn, qualifier, nil
}

// resolveQualifier returns the version a qualifier names; for an alias,
// also the alias name.
func (h *Host) resolveQualifier(fn *function, qualifier string) (*version, error) {
	v, err := fn.resolve(qualifier)
	if err != nil {
		return nil, h.notFound(fn.name, qualifier)
	}
	return v, nil
}

// functionConfiguration is Lambda's FunctionConfiguration.
type functionConfiguration struct {
	FunctionName     string            `json:"FunctionName"`
	FunctionArn      string            `json:"FunctionArn"`
	Runtime          string            `json:"Runtime,omitempty"`
	Role             string            `json:"Role,omitempty"`
	Handler          string            `json:"Handler,omitempty"`
	CodeSize         int64             `json:"CodeSize"`
	Description      string            `json:"Description"`
	Timeout          int               `json:"Timeout"`
	MemorySize       int               `json:"MemorySize"`
	LastModified     string            `json:"LastModified"`
	CodeSha256       string            `json:"CodeSha256"`
	Version          string            `json:"Version"`
	Environment      *environmentVars  `json:"Environment,omitempty"`
	RevisionID       string            `json:"RevisionId"`
	State            string            `json:"State"`
	LastUpdateStatus string            `json:"LastUpdateStatus"`
	PackageType      string            `json:"PackageType"`
	Architectures    []string          `json:"Architectures"`
	EphemeralStorage map[string]int    `json:"EphemeralStorage"`
	LoggingConfig    map[string]string `json:"LoggingConfig"`
}

type environmentVars struct {
	Variables map[string]string `json:"Variables"`
}

// lambdaTime is Lambda's format of LastModified.
const lambdaTime = "2006-01-02T15:04:05.000-0700"

func (h *Host) configuration(fn *function, v *version) functionConfiguration {
	m := h.metaOf(v)
	arn := fn.arn
	if v.name != Latest {
		arn += ":" + v.name
	}
	fc := functionConfiguration{
		FunctionName: fn.name, FunctionArn: arn, Runtime: m.runtime, Role: m.role, Handler: m.handler,
		CodeSize: m.size, Description: m.description, Timeout: int(v.cfg.Timeout / time.Second), MemorySize: v.cfg.MemoryMB,
		LastModified: m.modified.UTC().Format(lambdaTime), CodeSha256: m.sha256, Version: v.name, RevisionID: m.revision,
		State: "Active", LastUpdateStatus: "Successful", PackageType: "Zip", Architectures: []string{m.arch},
		EphemeralStorage: map[string]int{"Size": 512},
		LoggingConfig:    map[string]string{"LogFormat": "Text", "LogGroup": "/aws/lambda/" + fn.name},
	}
	if len(v.cfg.Environment) > 0 {
		fc.Environment = &environmentVars{Variables: v.cfg.Environment}
	}
	return fc
}

// functionCode is CreateFunction's Code.
type functionCode struct {
	ZipFile  []byte `json:"ZipFile"`
	S3Bucket string `json:"S3Bucket"`
	ImageURI string `json:"ImageUri"`
}

type createFunctionInput struct {
	FunctionName  string           `json:"FunctionName"`
	Runtime       string           `json:"Runtime"`
	Role          string           `json:"Role"`
	Handler       string           `json:"Handler"`
	Code          *functionCode    `json:"Code"`
	Description   string           `json:"Description"`
	Timeout       *int             `json:"Timeout"`
	MemorySize    *int             `json:"MemorySize"`
	Publish       bool             `json:"Publish"`
	PackageType   string           `json:"PackageType"`
	Environment   *environmentVars `json:"Environment"`
	Architectures []string         `json:"Architectures"`
}

// checkLimits validates memory and timeout as Lambda does.
func checkLimits(memory, timeout *int) error {
	if memory != nil {
		switch {
		case *memory < 128:
			return validation(strconv.Itoa(*memory), "memorySize", "Member must have value greater than or equal to 128")
		case *memory > 10240:
			return validation(strconv.Itoa(*memory), "memorySize", "Member must have value less than or equal to 10240")
		}
	}
	if timeout != nil {
		switch {
		case *timeout < 1:
			return validation(strconv.Itoa(*timeout), "timeout", "Member must have value greater than or equal to 1")
		case *timeout > 900:
			return validation(strconv.Itoa(*timeout), "timeout", "Member must have value less than or equal to 900")
		}
	}
	return nil
}

func checkArchitectures(archs []string) (string, error) {
	switch {
	case len(archs) == 0:
		return "x86_64", nil
	case len(archs) > 1:
		return "", validation("["+strings.Join(archs, ", ")+"]", "architectures", "Member must have length less than or equal to 1")
	case archs[0] != "x86_64" && archs[0] != "arm64":
		return "", validation("["+archs[0]+"]", "architectures", "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]")
	}
	return archs[0], nil
}

func (h *Host) createFunction(r *http.Request, body []byte) (int, any, error) {
	var in createFunctionInput
	if err := decodeBody(body, &in); err != nil {
		return 0, nil, err
	}
	name, qualifier, err := functionRef(in.FunctionName, "")
	if err != nil {
		return 0, nil, err
	}
	if qualifier != "" {
		return 0, nil, validation(in.FunctionName, "functionName", "Member must satisfy regular expression pattern: "+functionNamePattern)
	}
	if in.Role == "" {
		return 0, nil, validation("null", "role", "Member must not be null")
	}
	if in.PackageType == "Image" || (in.Code != nil && in.Code.ImageURI != "") {
		return 0, nil, invalidParameter("The local host runs .zip packages only, not container images.")
	}
	if in.Runtime == "" || in.Handler == "" {
		return 0, nil, invalidParameter("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if !providedRuntimes[in.Runtime] {
		return 0, nil, invalidParameter(fmt.Sprintf("The runtime parameter of %s is not supported by the local host, which runs OS-only runtimes: provided.al2023, provided.al2.", in.Runtime))
	}
	if err := checkLimits(in.MemorySize, in.Timeout); err != nil {
		return 0, nil, err
	}
	arch, err := checkArchitectures(in.Architectures)
	if err != nil {
		return 0, nil, err
	}
	if in.Code == nil || len(in.Code.ZipFile) == 0 {
		if in.Code != nil && in.Code.S3Bucket != "" {
			return 0, nil, invalidParameter("The local host takes code as Code.ZipFile, not from S3.")
		}
		return 0, nil, invalidParameter(msgEmptyZip)
	}
	if h.function(name) != nil {
		return 0, nil, &serviceError{http.StatusConflict, "ResourceConflictException", "Function already exist: " + name}
	}
	c, err := h.ctl.code.extract(name, in.Code.ZipFile)
	if err != nil {
		return 0, nil, err
	}
	fc := FunctionConfig{Bootstrap: c.bootstrap}
	applySettings(&fc, in.MemorySize, in.Timeout, in.Environment)
	if fc, err = normalizeOne(name, fc); err != nil {
		return 0, nil, err
	}
	fn, err := h.addFunction(name, fc)
	if err != nil {
		return 0, nil, err
	}
	v := fn.latestVersion()
	h.ctl.meta[v] = &versionMeta{
		role: in.Role, description: in.Description, runtime: in.Runtime, handler: in.Handler, arch: arch,
		sha256: c.sha256, size: c.size, modified: time.Now(), revision: uuid.NewString(),
	}
	h.log.Info("functionhost: function created", "function", name, "sha256", c.sha256, "dir", c.dir)
	if in.Publish {
		v = h.publish(fn, "")
	}
	return http.StatusCreated, h.configuration(fn, v), nil
}

// normalizeOne applies the config file's defaults and checks to one
// function.
func normalizeOne(name string, fc FunctionConfig) (FunctionConfig, error) {
	cfg := Config{Functions: map[string]FunctionConfig{name: fc}}
	if err := cfg.normalize(); err != nil {
		return FunctionConfig{}, invalidParameter(err.Error())
	}
	return cfg.Functions[name], nil
}

func (h *Host) getFunction(r *http.Request, _ []byte) (int, any, error) {
	fn, qualifier, err := h.lookup(r)
	if err != nil {
		return 0, nil, err
	}
	v, err := h.resolveQualifier(fn, qualifier)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{
		"Configuration": h.configuration(fn, v),
		"Code":          map[string]string{"RepositoryType": "S3"},
		"Concurrency":   map[string]int{"ReservedConcurrentExecutions": fn.concurrency},
	}, nil
}

func (h *Host) getFunctionConfiguration(r *http.Request, _ []byte) (int, any, error) {
	fn, qualifier, err := h.lookup(r)
	if err != nil {
		return 0, nil, err
	}
	v, err := h.resolveQualifier(fn, qualifier)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, h.configuration(fn, v), nil
}

// page applies MaxItems and Marker (the index to start at) to n items.
func page(r *http.Request, n int) (from, to int, next string, err error) {
	q := r.URL.Query()
	max := 50
	if s := q.Get("MaxItems"); s != "" {
		if max, err = strconv.Atoi(s); err != nil || max < 1 || max > 10000 {
			return 0, 0, "", validation(s, "maxItems", "Member must have value between 1 and 10000")
		}
	}
	if s := q.Get("Marker"); s != "" {
		if from, err = strconv.Atoi(s); err != nil || from < 0 || from > n {
			return 0, 0, "", invalidParameter("Invalid marker: " + s)
		}
	}
	to = min(from+max, n)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

func (h *Host) listFunctions(r *http.Request, _ []byte) (int, any, error) {
	fns := h.functions()
	sort.Slice(fns, func(i, j int) bool { return fns[i].name < fns[j].name })
	all := r.URL.Query().Get("FunctionVersion") == "ALL"
	var list []functionConfiguration
	for _, fn := range fns {
		if !all {
			list = append(list, h.configuration(fn, fn.latestVersion()))
			continue
		}
		for _, v := range fn.allVersions() {
			list = append(list, h.configuration(fn, v))
		}
	}
	from, to, next, err := page(r, len(list))
	if err != nil {
		return 0, nil, err
	}
	out := map[string]any{"Functions": append([]functionConfiguration{}, list[from:to]...)}
	if next != "" {
		out["NextMarker"] = next
	}
	return http.StatusOK, out, nil
}

func (h *Host) deleteFunction(r *http.Request, _ []byte) (int, any, error) {
	fn, qualifier, err := h.lookup(r)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case qualifier == Latest:
		return 0, nil, invalidParameter("$LATEST version cannot be deleted without deleting the function.")
	case qualifier != "":
		if !digitsRE.MatchString(qualifier) {
			return 0, nil, invalidParameter("Deletion of aliases is not currently supported.")
		}
		var refs []string
		for alias, target := range fn.aliasTargets() {
			if target == qualifier {
				refs = append(refs, alias)
			}
		}
		if len(refs) > 0 {
			sort.Strings(refs)
			return 0, nil, &serviceError{http.StatusConflict, "ResourceConflictException",
				fmt.Sprintf("Unable to delete version because the following aliases reference it: [%s]", strings.Join(refs, ", "))}
		}
		v := fn.removeVersion(qualifier)
		if v == nil {
			return 0, nil, h.notFound(fn.name, qualifier)
		}
		h.retire(v)
		delete(h.ctl.meta, v)
		return http.StatusNoContent, nil, nil
	}
	h.removeFunction(fn)
	fn.async.discard()
	for _, v := range fn.allVersions() {
		delete(h.ctl.meta, v)
	}
	delete(h.ctl.aliases, fn)
	h.ctl.code.remove(fn.name)
	h.log.Info("functionhost: function deleted", "function", fn.name)
	return http.StatusNoContent, nil, nil
}

// checkRevision is Lambda's optimistic lock: a RevisionId that is not the
// current one fails.
func checkRevision(given, current, api string) error {
	if given != "" && given != current {
		return &serviceError{http.StatusPreconditionFailed, "PreconditionFailedException",
			"The Revision Id provided does not match the latest Revision Id. Call the " + api + " API to retrieve the latest Revision Id"}
	}
	return nil
}

// latestForUpdate is the start of both updates: the function named by the
// path (unqualified: only $LATEST can change), the body decoded into in,
// and its RevisionId (read by revision once decoded) checked.
func (h *Host) latestForUpdate(r *http.Request, body []byte, in any, revision func() string) (*function, *version, *versionMeta, error) {
	fn, qualifier, err := h.lookup(r)
	if err != nil {
		return nil, nil, nil, err
	}
	if qualifier != "" {
		return nil, nil, nil, invalidParameter("Only the $LATEST version of a function can be updated: publish a version to freeze it.")
	}
	if err := decodeBody(body, in); err != nil {
		return nil, nil, nil, err
	}
	latest := fn.latestVersion()
	m := h.metaOf(latest)
	if err := checkRevision(revision(), m.revision, "GetFunction"); err != nil {
		return nil, nil, nil, err
	}
	return fn, latest, m, nil
}

// applySettings sets on fc the settings a CreateFunction or
// UpdateFunctionConfiguration request gives (nil: unchanged).
func applySettings(fc *FunctionConfig, memoryMB, timeoutS *int, env *environmentVars) {
	if memoryMB != nil {
		fc.MemoryMB = *memoryMB
	}
	if timeoutS != nil {
		fc.Timeout = time.Duration(*timeoutS) * time.Second
	}
	if env != nil {
		fc.Environment = env.Variables
	}
}

type updateCodeInput struct {
	ZipFile       []byte   `json:"ZipFile"`
	S3Bucket      string   `json:"S3Bucket"`
	ImageURI      string   `json:"ImageUri"`
	Publish       bool     `json:"Publish"`
	DryRun        bool     `json:"DryRun"`
	RevisionID    string   `json:"RevisionId"`
	Architectures []string `json:"Architectures"`
}

func (h *Host) updateFunctionCode(r *http.Request, body []byte) (int, any, error) {
	var in updateCodeInput
	fn, latest, m, err := h.latestForUpdate(r, body, &in, func() string { return in.RevisionID })
	if err != nil {
		return 0, nil, err
	}
	if latest.handler != nil {
		return 0, nil, invalidParameter(fmt.Sprintf("Function %s is in-process (it runs the host's activities): it has no code to update.", fn.name))
	}
	arch := m.arch
	if in.Architectures != nil {
		if arch, err = checkArchitectures(in.Architectures); err != nil {
			return 0, nil, err
		}
	}
	if len(in.ZipFile) == 0 {
		if in.S3Bucket != "" || in.ImageURI != "" {
			return 0, nil, invalidParameter("The local host takes code as ZipFile, not from S3 or an image.")
		}
		return 0, nil, invalidParameter(msgEmptyZip)
	}
	c, err := h.ctl.code.extract(fn.name, in.ZipFile)
	if err != nil {
		return 0, nil, err
	}
	if in.DryRun {
		return http.StatusOK, h.configuration(fn, latest), nil
	}
	fc := latest.cfg
	fc.Bootstrap = c.bootstrap
	nm := *m
	nm.sha256, nm.size, nm.arch, nm.modified, nm.revision = c.sha256, c.size, arch, time.Now(), uuid.NewString()
	v := h.replaceLatest(fn, fc, &nm)
	h.log.Info("functionhost: code updated", "function", fn.name, "sha256", c.sha256, "dir", c.dir)
	if in.Publish {
		v = h.publish(fn, "")
	}
	return http.StatusOK, h.configuration(fn, v), nil
}

type updateConfigurationInput struct {
	Role        string           `json:"Role"`
	Handler     string           `json:"Handler"`
	Description *string          `json:"Description"`
	Timeout     *int             `json:"Timeout"`
	MemorySize  *int             `json:"MemorySize"`
	Environment *environmentVars `json:"Environment"`
	Runtime     string           `json:"Runtime"`
	RevisionID  string           `json:"RevisionId"`
}

func (h *Host) updateFunctionConfiguration(r *http.Request, body []byte) (int, any, error) {
	var in updateConfigurationInput
	fn, latest, m, err := h.latestForUpdate(r, body, &in, func() string { return in.RevisionID })
	if err != nil {
		return 0, nil, err
	}
	if err := checkLimits(in.MemorySize, in.Timeout); err != nil {
		return 0, nil, err
	}
	if in.Runtime != "" && !providedRuntimes[in.Runtime] {
		return 0, nil, invalidParameter(fmt.Sprintf("The runtime parameter of %s is not supported by the local host, which runs OS-only runtimes: provided.al2023, provided.al2.", in.Runtime))
	}
	fc := latest.cfg
	nm := *m
	applySettings(&fc, in.MemorySize, in.Timeout, in.Environment)
	if in.Description != nil {
		nm.description = *in.Description
	}
	if in.Role != "" {
		nm.role = in.Role
	}
	if in.Handler != "" && latest.handler == nil {
		nm.handler = in.Handler
	}
	if in.Runtime != "" {
		nm.runtime = in.Runtime
	}
	nm.modified, nm.revision = time.Now(), uuid.NewString()
	v := h.replaceLatest(fn, fc, &nm)
	return http.StatusOK, h.configuration(fn, v), nil
}
