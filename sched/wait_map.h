/*
 * wait_map.h - wait on a 64-bit key; wake(key, value) wakes exactly that
 * waiter and hands it the value.  Matches driver responses to requests by
 * tag (maitake-sync's WaitMap).
 *
 * Each waiter is an intrusive wait_map_entry in the waiting task's state,
 * keyed by a u64 unique among the map's waiters (a second waiter on a key
 * gets -EEXIST).  wake() finds the entry by key, stores the value, unlinks
 * it and wakes its task; if nobody waits on the key it returns -ENOENT and
 * the caller keeps its value.  A request/response user subscribes first
 * (wait_map_subscribe: queued, no waker yet), then sends the request, then
 * awaits wait_map_wait(): a response that arrives in between is kept in the
 * entry.  close() wakes every waiter with -EPIPE and refuses new ones.
 *
 * Structure: WAIT_MAP_BUCKETS hash chains (hlist: one pointer per bucket,
 * O(1) unlink) under one IRQ-safe spin lock; wakers are woken after the
 * unlock.  Any core may wake (also interrupt handlers: no allocation, no
 * waiting beyond the spin lock); an entry is polled and dropped by its
 * owner only.
 *
 * Entry states (the owner reads them without the lock):
 *   IDLE     not in the map
 *   WAITING  in the map under its key (with or without a waker)
 *   WOKEN    unlinked by wake(); value stored; the next poll is READY 0
 *   CLOSED   unlinked by close(); the next poll is READY -EPIPE
 * Reference: maitake-sync wait_map.rs (Wait, WakeOutcome).
 */
#ifndef HYPHAE_SCHED_WAIT_MAP_H
#define HYPHAE_SCHED_WAIT_MAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "sched/waker.h"
#include "spinlock.h"

#define WAIT_MAP_BUCKET_BITS	4
#define WAIT_MAP_BUCKETS	(1u << WAIT_MAP_BUCKET_BITS)

enum wait_map_entry_state {
	WAIT_MAP_IDLE = 0,
	WAIT_MAP_WAITING,
	WAIT_MAP_WOKEN,
	WAIT_MAP_CLOSED,
};

struct wait_map_entry {
	/* Under the map's lock while WAITING: */
	struct wait_map_entry *next, **pprev;
	struct waker waker;
	/* Set when it enters the map; constant while WAITING. */
	uint64_t key;
	/* Written by wake() before the WOKEN store; the owner's after it. */
	uint64_t value;
	/* Written under the lock; read by the owner without it. */
	_Atomic int state;
};

#define WAIT_MAP_ENTRY_INIT { NULL, NULL, { NULL, NULL }, 0, 0, WAIT_MAP_IDLE }

struct wait_map {
	struct spinlock lock;
	/* Under lock: */
	bool closed;
	size_t waiters;
	struct wait_map_entry *buckets[WAIT_MAP_BUCKETS];
};

#define WAIT_MAP_INIT	{ SPINLOCK_INIT, false, 0, { NULL } }

void wait_map_init(struct wait_map *m);
void wait_map_entry_init(struct wait_map_entry *e);

/*
 * Put IDLE entry `e` in the map under `key` without a waker, so a wake
 * that comes before the first wait_map_wait() poll is kept.  0; -EEXIST
 * if someone already waits on `key`; -EPIPE if closed.  Task context,
 * e's owner.
 */
int __must_check wait_map_subscribe(struct wait_map *m, struct wait_map_entry *e,
				    uint64_t key);

/*
 * Wait on `key` with `e`: READY with *result 0 and *value the woken value;
 * or READY with -EEXIST (another waiter has `key`; e stays IDLE) or -EPIPE
 * (closed); else PENDING, e in the map with cx's waker.  A subscribed
 * entry is awaited with the same key.  Task context, e's owner.
 */
enum poll wait_map_wait(struct wait_map *m, struct wait_map_entry *e,
			uint64_t key, struct context *cx, uint64_t *value,
			int *result);

/*
 * Wake the waiter on `key` with `value`: 0 (woken; the value is its);
 * -ENOENT if nobody waits on `key` (e.g. a second wake), -EPIPE if closed:
 * either way the value stays the caller's.  Any context, IRQ-safe.
 */
int __must_check wait_map_wake(struct wait_map *m, uint64_t key, uint64_t value);

/* Close: every waiter is woken with -EPIPE; later waits and wakes fail
 * with -EPIPE.  Any context, IRQ-safe (one lock hold per waiter). */
void wait_map_close(struct wait_map *m);
bool wait_map_is_closed(struct wait_map *m);

/*
 * The owner gives up (its task is cancelled): unlink e if it waits.  True
 * if a wake had already delivered a value that no poll returned: it is in
 * e->value for the owner to dispose of.  Afterwards e is IDLE.  Task
 * context, e's owner.
 */
bool wait_map_entry_drop(struct wait_map *m, struct wait_map_entry *e);

/* Entries in the map now.  Any context; for tests and dumps. */
size_t wait_map_waiters(struct wait_map *m);

/*
 * Verify every invariant under the lock, O(waiters): each entry WAITING,
 * in the chain its key hashes to, with consistent links, keys unique, the
 * count right.  Panics naming the first broken one.
 * Any context; tests.
 */
void wait_map_check(struct wait_map *m);

#endif /* HYPHAE_SCHED_WAIT_MAP_H */
