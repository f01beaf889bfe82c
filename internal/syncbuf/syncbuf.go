// Package syncbuf is a bytes.Buffer safe for concurrent writes and reads:
// for capturing the output of a process or command while it runs.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects writes; its zero value is ready to use. It is safe for
// concurrent use.
type Buffer struct {
	// Limit, when positive, keeps only the first Limit bytes or so: later
	// writes are dropped (and reported written).
	Limit int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p (unless over Limit).
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Limit > 0 && b.b.Len() > b.Limit {
		return len(p), nil
	}
	return b.b.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
