package analytics

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cloudbutton/cloudbutton/storage"
)

// overread is how far past a chunk's end the first read goes to finish
// its last line; longer lines are read in further, growing ranges.
const overread = 64 << 10

// ReadLines calls fn with each line of chunk c of store st, in order,
// without its "\n". The lines of a chunk are those that start inside it
// (see Chunk); a line is the bytes up to a "\n", and a last line without
// "\n" counts if it is not empty. The slice passed to fn is only valid
// during the call. An error from fn stops reading and is returned.
//
// ReadLines reads ranges of the object, never the whole object unless the
// chunk is the whole object; a line of any length is returned whole.
func ReadLines(ctx context.Context, st storage.Store, c Chunk, fn func(line []byte) error) error {
	if c.Offset < 0 || c.Length < 0 {
		return fmt.Errorf("analytics: chunk %s: negative offset or length", c)
	}
	end := c.Offset + c.Length
	start := c.Offset
	if start > 0 {
		start-- // read the byte before, to know whether a line starts at Offset
	}
	rr := &rangeReader{ctx: ctx, st: st, key: c.Key, pos: start, win: end - start + overread}
	defer rr.close()
	br := bufio.NewReaderSize(rr, 32<<10)
	pos := start
	var buf []byte
	readLine := func() ([]byte, error) {
		line, err := br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
		buf = append(buf[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = br.ReadSlice('\n')
			buf = append(buf, line...)
		}
		return buf, err
	}
	if c.Offset > 0 {
		// Skip the rest of the line that started before the chunk, if
		// any: it belongs to the previous chunk.
		line, err := readLine()
		pos += int64(len(line))
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
	for pos < end {
		line, err := readLine()
		pos += int64(len(line))
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		} else if n == 0 {
			return nil // end of object
		}
		if ferr := fn(line); ferr != nil {
			return ferr
		}
		if err != nil {
			return nil // io.EOF after an unterminated last line
		}
	}
	return nil
}

// rangeReader reads an object from pos in consecutive ranges: win bytes
// first, then twice as many each time, until the object ends.
type rangeReader struct {
	ctx       context.Context
	st        storage.Store
	key       string
	pos, win  int64
	rc        io.ReadCloser
	remaining int64
	eof       bool
}

func (r *rangeReader) Read(p []byte) (int, error) {
	for {
		if r.eof {
			return 0, io.EOF
		}
		if r.rc == nil {
			rc, err := r.st.OpenRange(r.ctx, r.key, r.pos, r.win)
			if err != nil {
				return 0, err
			}
			r.rc, r.remaining = rc, r.win
		}
		if int64(len(p)) > r.remaining {
			p = p[:r.remaining]
		}
		n, err := r.rc.Read(p)
		r.pos += int64(n)
		r.remaining -= int64(n)
		if err != nil && !errors.Is(err, io.EOF) {
			return n, fmt.Errorf("analytics: read %q at %d: %w", r.key, r.pos, err)
		}
		if errors.Is(err, io.EOF) || r.remaining == 0 {
			r.close()
			if r.remaining > 0 {
				r.eof = true // the range ended early: end of object
			} else {
				r.win *= 2
			}
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (r *rangeReader) close() {
	if r.rc != nil {
		r.rc.Close()
		r.rc = nil
	}
}
