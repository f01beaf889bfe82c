package sqlite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	sqlitedriver "modernc.org/sqlite"

	"github.com/cloudbutton/cloudbutton/internal/store"
)

// checkFiles looks at a database's files before SQLite touches them, and
// refuses those that SQLite would open in a way that loses committed steps
// or fails later, naming the file and the cause. It returns the path to
// open: path with its symbolic links resolved, so that every process
// names the database (and its worker lock and write-ahead log) alike.
func checkFiles(path string) (string, error) {
	real, err := canonical(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: %s: %w", path, err)
	}
	dir := filepath.Dir(real)
	di, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("sqlite: directory of %s: %w", path, err)
	}
	fi, err := os.Stat(real)
	if errors.Is(err, fs.ErrNotExist) {
		if di.Mode().Perm()&0o200 == 0 {
			return "", fmt.Errorf("sqlite: %s cannot be created: its directory %s is read-only", path, dir)
		}
		return real, nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: %s: %w", path, err)
	}
	if n := hardLinks(fi); n > 1 {
		return "", fmt.Errorf("sqlite: %s has %d hard links: SQLite keeps a database's write-ahead log beside the name it was opened by, so each name would have a log of its own and commits would be lost; open it by one name only", path, n)
	}
	if fi.Mode().Perm()&0o200 == 0 {
		return "", fmt.Errorf("sqlite: %s is read-only (mode %04o): the engine writes to it; make it writable (chmod u+w)", path, fi.Mode().Perm())
	}
	wal, shm := real+"-wal", real+"-shm"
	_, walErr := os.Stat(wal)
	noWAL := errors.Is(walErr, fs.ErrNotExist)
	if noWAL && di.Mode().Perm()&0o200 == 0 {
		return "", fmt.Errorf("sqlite: %s: its directory %s is read-only, and SQLite creates the database's write-ahead log there", path, dir)
	}
	if fi.Size() == 0 {
		for _, side := range []string{real + "-worker.lock", wal, shm} {
			if exists(side) {
				return "", fmt.Errorf("%w: %s is empty, but %s beside it shows that a database was there: it was truncated; restore it from a backup (an empty file would open as a new, empty database)",
					store.ErrCorrupt, path, filepath.Base(side))
			}
		}
		return real, nil
	}
	if noWAL {
		if frames, err := walIndexFrames(shm); err == nil && frames > 0 {
			return "", fmt.Errorf("%w: %s: its write-ahead log %s is missing, but the log's index %s records %d frames of committed steps that the log held: restore the -wal file (or delete the -shm file to accept the loss)",
				store.ErrCorrupt, path, filepath.Base(wal), filepath.Base(shm), frames)
		}
	}
	// SQLite gives the log and its index the database's mode when it
	// creates them: ones created while the file was read-only would stay
	// so after it is writable again.
	for _, side := range []string{wal, shm} {
		if si, err := os.Stat(side); err == nil && si.Mode().Perm()&0o200 == 0 {
			if err := os.Chmod(side, fi.Mode().Perm()); err != nil {
				return "", fmt.Errorf("sqlite: %s is read-only and cannot be made writable: %w", side, err)
			}
		}
	}
	return real, nil
}

// canonical resolves the symbolic links of path, or of its directory when
// the file does not exist yet.
func canonical(path string) (string, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real, nil
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.Base(path)), nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// walIndexFrames reads mxFrame, the number of valid frames in the
// write-ahead log, from the header of its index (the -shm file; SQLite's
// WalIndexHdr, in native byte order).
func walIndexFrames(shm string) (uint32, error) {
	f, err := os.Open(shm)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var hdr [48]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return 0, err
	}
	if hdr[12] == 0 { // isInit
		return 0, nil
	}
	return binary.NativeEndian.Uint32(hdr[16:20]), nil
}

// SQLite's primary result codes of the storage faults (sqlite3.h).
const (
	codeReadOnly = 8
	codeIOErr    = 10
	codeFull     = 13
	codeCantOpen = 14
)

// storageFault marks err with store.ErrStorage when SQLite failed for want
// of storage (a full disk, an I/O error, a read-only file or directory),
// naming the database file.
func (s *Store) storageFault(err error) error {
	var se *sqlitedriver.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case codeReadOnly, codeIOErr, codeFull, codeCantOpen:
		return fmt.Errorf("%w: %s: %w", store.ErrStorage, s.path, err)
	}
	return err
}
