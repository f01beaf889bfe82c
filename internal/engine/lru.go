package engine

import (
	"container/list"
	"time"

	"github.com/cloudbutton/cloudbutton/internal/replay"
)

// live is a cached, running orchestration instance.
type live struct {
	id         string
	x          *replay.Instance
	generation int
	status     string
	parentID   string
	parentTask int64
	elem       *list.Element
	// progress counts activities; flushed to the store now and then.
	done, total int
	flushed     time.Time
	// pins counts uncommitted batches with steps of the instance: its
	// state is ahead of the store, so it must stay in the cache.
	pins              int
	evictWhenUnpinned bool
	// children counts the sub-orchestrations the run started (from
	// history after a reload); none means no child to terminate.
	children int
	// maxTask is the highest task id of an activity the run scheduled;
	// attempts lists the tasks with retry state in the store.
	maxTask  int64
	attempts map[int64]bool
}

// lru keeps live instances between steps, evicting (and closing) the least
// recently used beyond its capacity. Used by the processor goroutine only.
type lru struct {
	cap   int
	items map[string]*live
	order *list.List
}

func newLRU(capacity int) *lru {
	if capacity <= 0 {
		capacity = 10000
	}
	return &lru{cap: capacity, items: map[string]*live{}, order: list.New()}
}

func (c *lru) get(id string) *live {
	l := c.items[id]
	if l != nil {
		c.order.MoveToFront(l.elem)
	}
	return l
}

// put takes l in, without evicting: within a batch, instances are taken
// in (admitted starts, loads) before they are stepped and pinned, so the
// processor trims once the batch's steps pinned them.
func (c *lru) put(l *live) {
	l.elem = c.order.PushFront(l)
	c.items[l.id] = l
}

// trim evicts the least recently used unpinned instances beyond capacity
// (when every other one is pinned, the cache stays over capacity until one
// is unpinned and the next trim).
func (c *lru) trim() {
	for e := c.order.Back(); c.order.Len() > c.cap && e != nil; {
		old := e.Value.(*live)
		e = e.Prev()
		if old.pins == 0 {
			c.remove(old.id)
		}
	}
}

func (c *lru) remove(id string) {
	l := c.items[id]
	if l == nil {
		return
	}
	c.order.Remove(l.elem)
	delete(c.items, id)
	l.x.Close()
}

func (c *lru) clear() {
	for id := range c.items {
		c.remove(id)
	}
}
