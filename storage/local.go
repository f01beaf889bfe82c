package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Local is a Store over a directory of the local file system. Keys are
// slash-separated paths relative to the root; only regular files are
// objects. It is safe for concurrent use.
type Local struct {
	root string // absolute, symlinks resolved
}

var _ Store = (*Local)(nil)

// NewLocal returns a store rooted at dir, which must exist and be a
// directory; a missing one is a *BucketNotFoundError naming it. The root is
// made absolute and its symbolic links are resolved.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: empty local directory", ErrInvalidURL)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: local directory %q: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &BucketNotFoundError{Bucket: abs, Err: err}
		}
		return nil, fmt.Errorf("storage: local directory %q: %w", abs, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("storage: local directory %q: %w", abs, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("storage: local directory %q is not a directory", abs)
	}
	return &Local{root: real}, nil
}

// Root returns the absolute root directory.
func (l *Local) Root() string { return l.root }

// URL returns the absolute root directory, which Open accepts.
func (l *Local) URL() string { return l.root }

func (l *Local) path(key string) (string, error) {
	if key == "" || key == "." || !fs.ValidPath(key) {
		return "", fmt.Errorf("%w: %q (want a relative slash path without . or .. elements)", ErrInvalidKey, key)
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// List walks the directory under the prefix's directory part and returns
// the regular files whose keys start with prefix, sorted by key.
func (l *Local) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	dir := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i]
		if dir == "" || !fs.ValidPath(dir) {
			return nil, fmt.Errorf("%w: prefix %q", ErrInvalidKey, prefix)
		}
	}
	start := filepath.Join(l.root, filepath.FromSlash(dir))
	if _, err := os.Stat(l.root); err != nil {
		return nil, &BucketNotFoundError{Bucket: l.root, Err: err}
	}
	var out []ObjectInfo
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return fs.SkipAll // nothing under this prefix
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(l.root, p)
		if rerr != nil {
			return rerr
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Prune directories that cannot hold a matching key.
			if key != "." && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, ierr := d.Info()
		if ierr != nil {
			if errors.Is(ierr, fs.ErrNotExist) {
				return nil // removed while listing
			}
			return ierr
		}
		out = append(out, ObjectInfo{Key: key, Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: list %q in %s: %w", prefix, l.root, err)
	}
	slices.SortFunc(out, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (l *Local) open(key string) (*os.File, int64, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
			if _, serr := os.Stat(l.root); serr != nil {
				return nil, 0, &BucketNotFoundError{Bucket: l.root, Err: serr}
			}
			return nil, 0, fmt.Errorf("%w: %q in %s", ErrNotFound, key, l.root)
		}
		return nil, 0, fmt.Errorf("storage: open %q in %s: %w", key, l.root, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("storage: stat %q in %s: %w", key, l.root, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%w: %q in %s is not a regular file", ErrNotFound, key, l.root)
	}
	return f, fi.Size(), nil
}

type sectionCloser struct {
	*io.SectionReader
	f *os.File
}

func (s sectionCloser) Close() error { return s.f.Close() }

// OpenRange opens a byte range of a file.
func (l *Local) OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 {
		return nil, fmt.Errorf("storage: open %q: negative offset %d", key, offset)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, size, err := l.open(key)
	if err != nil {
		return nil, err
	}
	offset = min(offset, size)
	if length < 0 || offset+length > size {
		length = size - offset
	}
	return sectionCloser{io.NewSectionReader(f, offset, length), f}, nil
}

// Get reads a whole file.
func (l *Local) Get(ctx context.Context, key string) ([]byte, error) {
	return ReadAll(ctx, l, key, 0, -1)
}

// Put writes a file atomically (a temporary file renamed into place),
// creating parent directories as needed.
func (l *Local) Put(ctx context.Context, key string, data []byte) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := os.Stat(l.root); err != nil {
		return &BucketNotFoundError{Bucket: l.root, Err: err}
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("storage: put %q in %s: %w", key, l.root, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+path.Base(key)+".tmp*")
	if err != nil {
		return fmt.Errorf("storage: put %q in %s: %w", key, l.root, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), p)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("storage: put %q in %s: %w", key, l.root, werr)
	}
	return nil
}
