package filesystem

import (
	"context"
	"path"
	"strings"
	"sync"
)

// Prefetch reads, workers at a time, what a Walk of root will read: the listing of every
// directory below it and the inode of every entry, so that the Walk that follows (one
// directory after another) finds them in the caches — the tree's directories, the volume's
// inode blocks and, below them, the reader's pages (a blob reader keeps what it fetched). Behind
// a reader with latency (a blob in another region) a walk costs one round trip per directory;
// prefetched, the round trips of workers directories overlap.
//
// It reads nothing a Walk would not read, and bounds itself as Walk does (each directory once,
// maxWalkDepth levels). It reports nothing: what cannot be read here is read again by the Walk,
// which reports it. It returns when everything was read or ctx ends.
func (t *Tree) Prefetch(ctx context.Context, root string, workers int) {
	root = strings.Trim(root, "/")
	if root == "" {
		root = "."
	}
	l, err := t.resolvePath("walk", root, true, true)
	if err != nil {
		return
	}
	workers = max(workers, 1)
	type job struct {
		l     loc
		depth int
	}
	var (
		mu      sync.Mutex
		cond    = sync.NewCond(&mu)
		queue   = []job{{l, 0}}
		busy    int
		seen    = map[dirKey]bool{{l.vol, l.ino}: true}
		stopped bool
	)
	// push queues a directory not seen yet; called with mu held
	push := func(c loc, depth int) {
		k := dirKey{c.vol, c.ino}
		if depth > maxWalkDepth || seen[k] {
			return
		}
		seen[k] = true
		queue = append(queue, job{c, depth})
		cond.Signal()
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		stopped = true
		cond.Broadcast()
		mu.Unlock()
	})
	defer stop()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				for len(queue) == 0 && busy > 0 && !stopped {
					cond.Wait()
				}
				if stopped || len(queue) == 0 {
					// ctx ended, or nothing queued and nobody left to queue more
					cond.Broadcast()
					mu.Unlock()
					return
				}
				j := queue[len(queue)-1]
				queue = queue[:len(queue)-1]
				busy++
				mu.Unlock()

				subdirs := t.prefetchDir(ctx, j.l)

				mu.Lock()
				for _, c := range subdirs {
					push(c, j.depth+1)
				}
				busy--
				if busy == 0 && len(queue) == 0 {
					cond.Broadcast()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// prefetchDir reads directory l's listing and its entries' inodes, and returns the directories
// in it (mounted volumes entered) for the prefetch to go on with.
func (t *Tree) prefetchDir(ctx context.Context, l loc) []loc {
	ino, err := l.vol.Inode(l.ino)
	if err != nil || !ino.Mode.IsDir() {
		return nil
	}
	d, err := t.dir(l)
	if err != nil {
		return nil
	}
	var subdirs []loc
	for _, e := range d {
		if ctx.Err() != nil {
			return nil
		}
		c := t.enter(loc{l.vol, e.Ino, path.Join(l.path, e.Name)})
		if c.vol != l.vol {
			subdirs = append(subdirs, c) // a mount point: its volume's root
			continue
		}
		ci, err := c.vol.Inode(c.ino) // what the walk's Info reads
		if err != nil {
			continue
		}
		if ci.Mode.IsDir() {
			subdirs = append(subdirs, c)
		}
	}
	// a filesystem mounted on a directory the parent volume lacks, as ReadDir lists it
	for at, v := range t.mounts {
		if at == "/" || path.Dir(at) != path.Clean("/"+l.path) {
			continue
		}
		if _, ok := d[path.Base(at)]; !ok {
			subdirs = append(subdirs, loc{v, v.Root(), at})
		}
	}
	return subdirs
}
