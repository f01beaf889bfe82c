package functionhost

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// Lambda's limits on a deployment package uploaded in the request.
const (
	// MaxCodeRequest is the largest CreateFunction or UpdateFunctionCode
	// request body Lambda takes (the zip travels in it as base64).
	MaxCodeRequest = 69905067
	// MaxUnzippedCode is the largest a package may be once extracted
	// (250 MiB).
	MaxUnzippedCode = 262144000
	// maxZipEntries bounds the files of one package.
	maxZipEntries = 1 << 16
)

// AWS's messages for a package it cannot use.
const (
	msgCannotUnzip = "Could not unzip uploaded file. Please check your file, then try to upload again."
	msgEmptyZip    = "Uploaded file must be a non-empty zip"
)

// codeStore holds the extracted packages of functions created or updated
// through the API, one directory per function and package
// (<root>/<function>/<sha256>), in Options.CodeDir or a temporary
// directory made on first use and removed by close.
type codeStore struct {
	mu    sync.Mutex
	limit int64  // of a package's unzipped size (0: MaxUnzippedCode)
	base  string // Options.CodeDir
	root  string // "" until first use
	tmp   bool
}

// code is an extracted package.
type code struct {
	dir       string // where it is extracted
	bootstrap string // dir/bootstrap
	sha256    string // base64 of the zip's SHA-256, as Lambda reports it
	size      int64  // the zip's size
}

func invalidCode(msg string) *serviceError {
	return &serviceError{status: http.StatusBadRequest, code: "InvalidParameterValueException", message: msg}
}

// cannotUnzip is AWS's error for a package it cannot extract, with what
// the local host found wrong.
func cannotUnzip(format string, args ...any) *serviceError {
	return invalidCode(msgCannotUnzip + " (" + fmt.Sprintf(format, args...) + ")")
}

func (s *codeStore) dir() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root != "" {
		return s.root, nil
	}
	if s.base != "" {
		if err := os.MkdirAll(s.base, 0o755); err != nil {
			return "", err
		}
		s.root = s.base
		return s.root, nil
	}
	dir, err := os.MkdirTemp("", "functionhost-code-")
	if err != nil {
		return "", err
	}
	s.root, s.tmp = dir, true
	return dir, nil
}

// extract checks and unpacks a deployment package for function fn (a
// validated name, safe as a path element). The same package is extracted
// once per function.
func (s *codeStore) extract(fn string, pkg []byte) (*code, error) {
	if len(pkg) == 0 {
		return nil, invalidCode(msgEmptyZip)
	}
	sum := sha256.Sum256(pkg)
	c := &code{sha256: base64.StdEncoding.EncodeToString(sum[:]), size: int64(len(pkg))}
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return nil, cannotUnzip("%v", err)
	}
	if len(zr.File) == 0 {
		return nil, invalidCode(msgEmptyZip)
	}
	limit := s.limit
	if limit <= 0 {
		limit = MaxUnzippedCode
	}
	if err := checkEntries(zr.File, limit); err != nil {
		return nil, err
	}
	root, err := s.dir()
	if err != nil {
		return nil, fmt.Errorf("functionhost: code directory: %w", err)
	}
	fnDir := filepath.Join(root, fn)
	c.dir = filepath.Join(fnDir, hex.EncodeToString(sum[:16]))
	c.bootstrap = filepath.Join(c.dir, "bootstrap")
	if _, err := os.Stat(c.dir); err == nil {
		return c, nil // extracted before, and checked then
	}
	if err := os.MkdirAll(fnDir, 0o755); err != nil {
		return nil, fmt.Errorf("functionhost: code directory: %w", err)
	}
	tmp, err := os.MkdirTemp(fnDir, ".upload-")
	if err != nil {
		return nil, fmt.Errorf("functionhost: code directory: %w", err)
	}
	if err := unpack(zr.File, tmp, limit); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	if err := checkBootstrap(tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, c.dir); err != nil {
		_ = os.RemoveAll(tmp)
		if _, serr := os.Stat(c.dir); serr == nil {
			return c, nil // the same package, extracted concurrently
		}
		return nil, fmt.Errorf("functionhost: code directory: %w", err)
	}
	return c, nil
}

func tooLargeUnzipped(limit int64) error {
	return invalidCode(fmt.Sprintf("Unzipped size must be smaller than %d bytes", limit))
}

// checkEntries refuses, before anything is written, entries that would
// land outside the package, of a kind Lambda cannot run, or too many or
// too large as their headers say (unpack counts the bytes themselves).
func checkEntries(files []*zip.File, limit int64) error {
	if len(files) > maxZipEntries {
		return cannotUnzip("%d files, over the local host's %d", len(files), maxZipEntries)
	}
	var total uint64
	for _, f := range files {
		if !localName(f.Name) {
			return cannotUnzip("entry %q is not a relative path inside the package", f.Name)
		}
		switch m := f.Mode(); {
		case m.IsDir(), m.IsRegular():
		case m&fs.ModeSymlink != 0:
		default:
			return cannotUnzip("entry %q is a %v, not a file, directory or symbolic link", f.Name, m.Type())
		}
		total += f.UncompressedSize64
		if total >= uint64(limit) {
			return tooLargeUnzipped(limit)
		}
	}
	return nil
}

// localName reports whether a zip entry name is a relative path that
// stays inside the package: no absolute path, volume, "..", or backslash.
func localName(name string) bool {
	name = strings.TrimSuffix(name, "/")
	return name != "" && !strings.Contains(name, `\`) && filepath.IsLocal(filepath.FromSlash(name))
}

// unpack writes the entries under dir through an os.Root, so that no
// entry, through a symbolic link or otherwise, is written outside it.
func unpack(files []*zip.File, dir string, limit int64) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("functionhost: %w", err)
	}
	defer root.Close()
	written := int64(0)
	for _, f := range files {
		name := path.Clean(strings.TrimSuffix(f.Name, "/"))
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return cannotUnzip("entry %q: %v", f.Name, err)
			}
		}
		m := f.Mode()
		switch {
		case m.IsDir():
			if err := root.MkdirAll(name, 0o755); err != nil {
				return cannotUnzip("entry %q: %v", f.Name, err)
			}
		case m&fs.ModeSymlink != 0:
			target, err := readAllLimited(f, 4096)
			if err != nil {
				return cannotUnzip("entry %q: %v", f.Name, err)
			}
			t := string(target)
			if strings.HasPrefix(t, "/") || !filepath.IsLocal(filepath.FromSlash(path.Join(path.Dir(name), t))) {
				return cannotUnzip("symbolic link %q -> %q points outside the package", f.Name, t)
			}
			if err := root.Symlink(t, name); err != nil {
				return cannotUnzip("entry %q: %v", f.Name, err)
			}
		default:
			perm := m.Perm()
			if perm == 0 {
				perm = 0o644
			}
			n, err := writeEntry(root, f, name, perm, limit-written)
			written += n
			if written >= limit {
				return tooLargeUnzipped(limit)
			}
			if err != nil {
				return cannotUnzip("entry %q: %v", f.Name, err)
			}
		}
	}
	return nil
}

// writeEntry copies at most limit bytes of f to name; it returns what it
// copied (limit means there was more).
func writeEntry(root *os.Root, f *zip.File, name string, perm fs.FileMode, limit int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(rc, limit))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Chmod(name, perm) // the umask may have taken bits off
	}
	return n, err
}

func readAllLimited(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = errors.New("symbolic link target too long")
	}
	return b, err
}

// checkBootstrap wants an executable regular file named bootstrap at the
// package's root (a symbolic link to one inside the package will do),
// which is what Lambda's provided runtimes run. Lambda itself takes such a
// package and fails every invocation (Runtime.InvalidEntrypoint); the
// local host says so at upload.
func checkBootstrap(dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("functionhost: %w", err)
	}
	defer root.Close()
	st, err := root.Stat("bootstrap")
	switch {
	case err != nil:
		return invalidCode("The deployment package has no executable file named bootstrap at its root, which the provided runtimes run " +
			"(Lambda would fail every invocation with Runtime.InvalidEntrypoint: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap])")
	case !st.Mode().IsRegular():
		return invalidCode(fmt.Sprintf("The deployment package's bootstrap is a %v, not an executable file "+
			"(Lambda would fail every invocation with Runtime.InvalidEntrypoint)", st.Mode().Type()))
	case st.Mode().Perm()&0o111 == 0:
		return invalidCode(fmt.Sprintf("The deployment package's bootstrap is not executable (mode %v): zip it with mode 0755 "+
			"(Lambda would fail every invocation with Runtime.InvalidEntrypoint: permission denied)", st.Mode().Perm()))
	}
	return nil
}

// remove deletes a function's packages.
func (s *codeStore) remove(fn string) {
	s.mu.Lock()
	root := s.root
	s.mu.Unlock()
	if root != "" {
		_ = os.RemoveAll(filepath.Join(root, fn))
	}
}

// close removes the temporary directory (a CodeDir of the caller's is
// kept).
func (s *codeStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tmp {
		_ = os.RemoveAll(s.root)
	}
	s.root, s.tmp = "", false
}
