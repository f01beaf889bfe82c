package functionhost

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// fuzzZip is a zip of (name, mode, body) entries, for the seeds.
func fuzzZip(tb testing.TB, entries ...any) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+2 < len(entries); i += 3 {
		hdr := &zip.FileHeader{Name: entries[i].(string), Method: zip.Deflate}
		hdr.SetMode(entries[i+1].(fs.FileMode))
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(entries[i+2].(string))); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzCodePackage extracts random deployment packages: the extraction
// either succeeds, with an executable bootstrap inside the package's
// directory, or fails with a Lambda service error; it never writes
// outside the code directory, and never panics.
func FuzzCodePackage(f *testing.F) {
	f.Add(fuzzZip(f, "bootstrap", fs.FileMode(0o755), "#!/bin/sh\n"))
	f.Add(fuzzZip(f, "lib/", fs.ModeDir|0o755, "", "lib/x.so", fs.FileMode(0o644), "x", "bootstrap", fs.FileMode(0o755), "#!/bin/sh\n"))
	f.Add(fuzzZip(f, "real", fs.FileMode(0o755), "#!/bin/sh\n", "bootstrap", fs.ModeSymlink|0o777, "real"))
	f.Add(fuzzZip(f, "bootstrap", fs.ModeSymlink|0o777, "../../outside"))
	f.Add(fuzzZip(f, "d", fs.ModeSymlink|0o777, ".", "d/bootstrap", fs.FileMode(0o755), "#!/bin/sh\n"))
	f.Add(fuzzZip(f, "../escape", fs.FileMode(0o755), "x"))
	f.Add(fuzzZip(f, "bootstrap", fs.FileMode(0o644), "not executable"))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("not a zip"))
	f.Fuzz(func(t *testing.T, pkg []byte) {
		if len(pkg) > maxFuzzInput {
			return
		}
		root := t.TempDir()
		store := &codeStore{base: filepath.Join(root, "code"), limit: 4 << 20} // not 250 MiB of disk per input
		defer store.close()
		c, err := store.extract("f", pkg)
		if err != nil {
			var se *serviceError
			if !errors.As(err, &se) {
				t.Fatalf("extract: %v, not a service error", err)
			}
			if se.status != 400 || se.code != "InvalidParameterValueException" {
				t.Fatalf("extract: %d %s %s", se.status, se.code, se.message)
			}
		} else {
			st, serr := os.Stat(c.bootstrap)
			if serr != nil || !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
				t.Fatalf("extracted without an executable bootstrap: %v %v", st, serr)
			}
			if rel, rerr := filepath.Rel(store.base, c.dir); rerr != nil || !filepath.IsLocal(rel) {
				t.Fatalf("extracted into %s, outside %s", c.dir, store.base)
			}
		}
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "code" {
				t.Fatalf("something was written outside the code directory: %s", e.Name())
			}
		}
		// What the symbolic links point at must be inside too.
		_ = filepath.WalkDir(store.base, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil // dangling: harmless
			}
			if rel, rerr := filepath.Rel(store.base, target); rerr != nil || !filepath.IsLocal(rel) {
				t.Fatalf("symbolic link %s points outside the package, at %s", p, target)
			}
			return nil
		})
	})
}
