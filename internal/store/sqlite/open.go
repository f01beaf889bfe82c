// Package sqlite is the embedded engine's store on SQLite, through
// modernc.org/sqlite (pure Go, no cgo), in WAL mode.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/cloudbutton/cloudbutton/internal/store"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Durability says what a commit survives.
type Durability int

const (
	// ProcessCrash (the default): a committed step survives kill -9 of the
	// process (WAL, synchronous=NORMAL).
	ProcessCrash Durability = iota
	// PowerLoss: a committed step also survives power loss (fsync on
	// every commit, synchronous=FULL); about 5x slower commits.
	PowerLoss
)

// Options configures Open.
type Options struct {
	Durability Durability
	// SkipIntegrityCheck skips PRAGMA quick_check at open (faster opens
	// of large files).
	SkipIntegrityCheck bool
}

// Store is the SQLite store. It is safe for concurrent use.
type Store struct {
	path  string
	write *sql.DB // one connection: every write is serialized here
	read  *sql.DB // readers, concurrent with the writer (WAL)
	stmts statements
	// getInstance is prepared on the read pool: status polls are frequent.
	getInstance *sql.Stmt
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.WorkerProber = (*Store)(nil)
)

// Open opens (creating if needed) the store at path, applies migrations,
// and checks the file. A file that is not a SQLite database, is corrupt, or
// has a schema newer than this build gives a clear error.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if abs, err = checkFiles(abs); err != nil {
		return nil, err
	}
	sync := "NORMAL"
	if opts.Durability == PowerLoss {
		sync = "FULL"
	}
	q := url.Values{}
	q.Set("_busy_timeout", "30000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", sync)
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
	s := &Store{path: abs}
	if s.write, err = sql.Open("sqlite", dsn); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxLifetime(0)
	if err := s.init(ctx, opts); err != nil {
		s.write.Close()
		return nil, err
	}
	q.Set("_txlock", "deferred")
	q.Set("_query_only", "1")
	if s.read, err = sql.Open("sqlite", "file:"+(&url.URL{Path: abs}).EscapedPath()+"?"+q.Encode()); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.read.SetMaxOpenConns(8)
	s.read.SetMaxIdleConns(8)
	if err := s.stmts.prepare(ctx, s.write); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: preparing statements: %w", err)
	}
	if s.getInstance, err = s.read.PrepareContext(ctx, `SELECT `+instanceCols+` FROM instances WHERE id = ?`); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: preparing statements: %w", err)
	}
	return s, nil
}

// Path returns the database file's absolute path.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	s.stmts.close()
	var errs []error
	if s.getInstance != nil {
		errs = append(errs, s.getInstance.Close())
	}
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	errs = append(errs, s.write.Close())
	return errors.Join(errs...)
}

func (s *Store) init(ctx context.Context, opts Options) error {
	var version int
	if err := s.write.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return s.corrupt(err)
	}
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("%w: %s has schema version %d, this build supports up to %d; upgrade cloudbutton",
			store.ErrSchemaTooNew, s.path, version, len(migrations))
	}
	if !opts.SkipIntegrityCheck && version > 0 {
		var res string
		if err := s.write.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
			return s.corrupt(err)
		}
		if res != "ok" {
			return fmt.Errorf("%w: %s: %s", store.ErrCorrupt, s.path, res)
		}
	}
	for v := version; v < len(migrations); v++ {
		if err := s.migrate(ctx, v+1, migrations[v]); err != nil {
			return err
		}
	}
	return nil
}

// migrate applies migration number n unless another process did it first
// (the immediate transaction holds the write lock while it checks).
func (s *Store) migrate(ctx context.Context, n int, schema string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.corrupt(err)
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return s.corrupt(err)
	}
	if current >= n {
		return nil
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("sqlite: migration %d of %s: %w", n, s.path, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
		return fmt.Errorf("sqlite: migration %d of %s: %w", n, s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migration %d of %s: %w", n, s.path, err)
	}
	return nil
}

func (s *Store) corrupt(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "not a database") || strings.Contains(msg, "malformed") || strings.Contains(msg, "corrupt") {
		return fmt.Errorf("%w: %s: %v", store.ErrCorrupt, s.path, err)
	}
	return fmt.Errorf("sqlite: opening %s: %w", s.path, err)
}

func loadMigrations() ([]string, error) {
	names, err := fs.Glob(schemaFS, "schema/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]string, len(names))
	for i, n := range names {
		b, err := schemaFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out[i] = string(b)
	}
	return out, nil
}
