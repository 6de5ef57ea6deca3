/*
 * task_cache.h - task storage: per-core magazines over kmalloc, with one
 * shared depot.
 *
 * Spawning allocates a task and completing frees it, tens of millions of
 * times a second on a busy machine; kmalloc's size classes sit behind a
 * lock shared by every core (and on the host, glibc's aligned allocation
 * is its slow path).  So heap tasks of up to TASK_CACHE_CLASSES cache
 * lines come from a cache: each core keeps two magazines (lists of at most
 * TASK_CACHE_MAG_SIZE free blocks) per size class and touches only its
 * own, with no lock, no atomic RMW and without masking interrupts (an
 * owner flag `busy` tells an interrupt handler on the same core that it
 * interrupted the owner there: it then uses the depot instead); a core whose
 * magazines are both full hands one to the depot, a core whose magazines
 * are both empty takes a full one from it, so blocks freed on one core
 * come back to the core that spawns.  Threads that are not a core (the
 * host's main thread, a core whose cache is drained) take and give single
 * blocks at the depot under its lock.  The depot holds at most
 * TASK_CACHE_DEPOT_BYTES; beyond that blocks go back to kmalloc.
 * Reference: Bonwick & Adams, "Magazines and Vmem", USENIX 2001.
 *
 * Memory held: at most 2 * TASK_CACHE_MAG_SIZE blocks per class per core
 * (40 KiB per core) plus the depot.  task_cache_bytes() and
 * task_cache_depot_bytes() report it, so heap accounting can tell cached
 * blocks from live ones; task_cache_depot_trim() gives the depot back.
 *
 * Under AddressSanitizer every cached block is poisoned: a task used after
 * its last reference went is still reported, and freeing a cached block
 * twice panics.
 */
#ifndef HYPHAE_SCHED_TASK_CACHE_H
#define HYPHAE_SCHED_TASK_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"

#define TASK_CACHE_UNIT		CACHE_LINE	/* class n: n * 64 bytes */
#define TASK_CACHE_CLASSES	4		/* 64, 128, 192, 256 bytes */
#define TASK_CACHE_MAG_SIZE	32		/* blocks per magazine */
#define TASK_CACHE_DEPOT_BYTES	(2u << 20)	/* depot cap, all classes */

struct task_cache_block;

/* A magazine: a list of `count` free blocks of one class. */
struct task_cache_mag {
	struct task_cache_block *top;
	unsigned count;
};

/*
 * One core's cache.  Owner only (its task code and its interrupt
 * handlers), except `bytes`.  Whoever touches the magazines sets `busy`
 * first; a handler that finds it set interrupted the owner in the middle
 * and leaves the magazines alone.  That replaces masking interrupts
 * around every allocation and free (two cli/sti pairs per task, each a
 * trap under some hypervisors).
 */
struct task_cache {
	struct task_cache_mag loaded[TASK_CACHE_CLASSES];
	struct task_cache_mag spare[TASK_CACHE_CLASSES];
	/* Bytes cached here: written by the owner, read by anyone. */
	_Atomic size_t bytes;
	/* Owner's own flag: relaxed accesses and signal fences only, since
	 * the only other party is a handler on the same core. */
	atomic_bool busy;
	bool enabled;
};

/* The class (1..TASK_CACHE_CLASSES) for `size` bytes; 0: too large. */
static inline unsigned task_cache_class(size_t size)
{
	size_t cls = (size + TASK_CACHE_UNIT - 1) / TASK_CACHE_UNIT;

	return cls >= 1 && cls <= TASK_CACHE_CLASSES ? (unsigned)cls : 0;
}

/* An empty, enabled cache (static or zeroed storage is fine too). */
void task_cache_init(struct task_cache *c);

/*
 * A block of class `cls` (TASK_CACHE_UNIT-aligned, cls * TASK_CACHE_UNIT
 * bytes, contents undefined), or NULL when out of memory.  `c` is the
 * calling core's own cache, or NULL for a thread that has none.  Any
 * context but interrupt handlers (kmalloc may be called).
 */
void *task_cache_alloc(struct task_cache *c, unsigned cls);

/*
 * Give back a block task_cache_alloc() returned for `cls`.  `c` as for
 * task_cache_alloc().  IRQ-safe when kfree is.
 */
void task_cache_free(struct task_cache *c, void *p, unsigned cls);

/*
 * Move every block of the owner's cache to the depot (or kmalloc) and
 * disable it: later calls with `c` behave as with NULL.  Owner only; for a
 * core that stops.
 */
void task_cache_drain(struct task_cache *c);

/* Bytes cached in `c` (a snapshot; any thread). */
size_t task_cache_bytes(const struct task_cache *c);

/* Bytes held by the depot (a snapshot). */
size_t task_cache_depot_bytes(void);

/* Free every depot block to kmalloc (tests and memory accounting). */
void task_cache_depot_trim(void);

#endif /* HYPHAE_SCHED_TASK_CACHE_H */
