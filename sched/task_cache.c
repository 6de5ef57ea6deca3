/*
 * task_cache.c - per-core magazines and the depot (see task_cache.h).
 *
 * A free block's link words (see struct task_cache_block) chain it:
 * `next` to the next block of its magazine (or loose list), and in the
 * first block of a full magazine in the depot `next_mag` to the next
 * magazine.  A core's magazines are plain structs it alone touches.  An
 * interrupt handler on the same core may free a task, so the magazine
 * code runs between cache_enter() and cache_leave(), which set and clear
 * the cache's `busy` flag with compiler (signal) fences around it; a
 * handler that finds the flag set takes the depot path.  No interrupt
 * masking, no atomic RMW: on x86 the flag is two plain stores, where
 * cli/sti trap under a deprivileging hypervisor.  The depot is one spin lock
 * (taken with interrupts off) over per-class stacks of full magazines and
 * a loose list of single blocks; a core takes it once per
 * TASK_CACHE_MAG_SIZE allocations or frees at most, a thread without a
 * cache once per block.
 */
#include <stdint.h>

#include "arch.h"
#include "kmalloc.h"
#include "panic.h"
#include "sched/task_cache.h"
#include "spinlock.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)		ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n)		ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define IS_POISONED(p)		__asan_address_is_poisoned(p)
#else
#define POISON(p, n)		((void)(p), (void)(n))
#define UNPOISON(p, n)		((void)(p), (void)(n))
#define IS_POISONED(p)		((void)(p), 0)
#endif

/*
 * A free block's link words sit at the end of its first line, where a
 * task header's last field (the join waker's data) and caller data are:
 * the header words a stale reference would touch (run node, state, sched,
 * vtable) stay poisoned under ASan, and the links stay readable for the
 * leak checker, which does not scan poisoned memory.
 */
#define LINK_OFFSET	(TASK_CACHE_UNIT - 2 * sizeof(void *))

struct task_cache_block {
	char poisoned[LINK_OFFSET];
	struct task_cache_block *next;
	struct task_cache_block *next_mag;
};

_Static_assert(sizeof(struct task_cache_block) == TASK_CACHE_UNIT,
	       "links at the end of a block's first line");

struct depot_class {
	struct task_cache_block *full;	/* full magazines, by next_mag */
	struct task_cache_block *loose;	/* single blocks, by next */
	/* Written under the lock; read without it as a hint (relaxed). */
	_Atomic unsigned nfull;
	_Atomic unsigned nloose;
};

/* Written by every core that spawns or frees across cores: lines of its
 * own (the type's alignment pads it), shared with no read-mostly flag. */
static struct {
	struct spinlock lock;
	struct depot_class cls[TASK_CACHE_CLASSES];
	size_t bytes;			/* under lock */
	_Atomic size_t bytes_seen;	/* copy of bytes for readers */
} __cacheline_aligned depot = { .lock = SPINLOCK_INIT };

static inline unsigned peek(_Atomic unsigned *n)
{
	return atomic_load_explicit(n, memory_order_relaxed);
}

/* Under the lock: the only writer, so no read-modify-write needed. */
static inline void set_count(_Atomic unsigned *n, unsigned v)
{
	atomic_store_explicit(n, v, memory_order_relaxed);
}

static inline size_t class_bytes(unsigned cls)
{
	return (size_t)cls * TASK_CACHE_UNIT;
}

static inline struct task_cache_block *blk_next(struct task_cache_block *b)
{
	return b->next;
}

static inline struct task_cache_block *blk_next_mag(struct task_cache_block *b)
{
	return b->next_mag;
}

static inline void blk_set_next_mag(struct task_cache_block *b,
				    struct task_cache_block *n)
{
	b->next_mag = n;
}

/* Poison all of a free block but its links. */
static void blk_poison(struct task_cache_block *b, unsigned cls)
{
	POISON(b, LINK_OFFSET);
	if (cls > 1)
		POISON((char *)b + TASK_CACHE_UNIT, class_bytes(cls - 1));
}

/* A block given back: aligned, and (under ASan) not cached already. */
static void blk_check(void *p)
{
	if (p == NULL || ((uintptr_t)p & (TASK_CACHE_UNIT - 1)))
		panic("task_cache_free: bad block %p", p);
	if (IS_POISONED(p))
		panic("task_cache_free: block %p freed twice", p);
}

/* A block coming in (checked by the caller): link it in front of `next`,
 * poison it. */
static struct task_cache_block *blk_in(void *p, unsigned cls,
				       struct task_cache_block *next)
{
	struct task_cache_block *b = p;

	b->next = next;
	b->next_mag = NULL;
	blk_poison(b, cls);
	return b;
}

/* A block going out: unpoisoned, ready for its new owner. */
static void *blk_out(struct task_cache_block *b, unsigned cls)
{
	UNPOISON(b, class_bytes(cls));
	return b;
}

static void check_class(const char *fn, unsigned cls)
{
	if (cls == 0 || cls > TASK_CACHE_CLASSES)
		panic("%s: size class %u out of range", fn, cls);
}

static void depot_publish_bytes(void)
{
	atomic_store_explicit(&depot.bytes_seen, depot.bytes,
			      memory_order_relaxed);
}

/* ---- the depot --------------------------------------------------------- */

/* Take a full magazine of class i into *m (empty); false if none. */
static bool depot_get_full(unsigned i, struct task_cache_mag *m)
{
	struct depot_class *d = &depot.cls[i];
	unsigned long flags;
	bool got = false;

	/* Relaxed peek: an empty depot costs no lock (a stale answer only
	 * sends this allocation to kmalloc). */
	if (peek(&d->nfull) == 0)
		return false;
	flags = spin_lock_irqsave(&depot.lock);
	if (d->full) {
		m->top = d->full;
		m->count = TASK_CACHE_MAG_SIZE;
		d->full = blk_next_mag(d->full);
		blk_set_next_mag(m->top, NULL);
		set_count(&d->nfull, peek(&d->nfull) - 1);
		depot.bytes -= TASK_CACHE_MAG_SIZE * class_bytes(i + 1);
		depot_publish_bytes();
		got = true;
	}
	spin_unlock_irqrestore(&depot.lock, flags);
	return got;
}

/* Give the full magazine *m of class i to the depot; false (m kept) if
 * the depot is at its cap. */
static bool depot_put_full(unsigned i, struct task_cache_mag *m)
{
	struct depot_class *d = &depot.cls[i];
	size_t bytes = TASK_CACHE_MAG_SIZE * class_bytes(i + 1);
	unsigned long flags = spin_lock_irqsave(&depot.lock);
	bool put = false;

	if (depot.bytes + bytes <= TASK_CACHE_DEPOT_BYTES) {
		blk_set_next_mag(m->top, d->full);
		d->full = m->top;
		set_count(&d->nfull, peek(&d->nfull) + 1);
		depot.bytes += bytes;
		depot_publish_bytes();
		m->top = NULL;
		m->count = 0;
		put = true;
	}
	spin_unlock_irqrestore(&depot.lock, flags);
	return put;
}

/* One block of class cls for a thread without a cache, or NULL. */
static void *depot_get_one(unsigned cls)
{
	struct depot_class *d = &depot.cls[cls - 1];
	struct task_cache_block *b = NULL;
	unsigned long flags;

	if (peek(&d->nloose) == 0 &&
	    peek(&d->nfull) == 0)
		return NULL;
	flags = spin_lock_irqsave(&depot.lock);
	if (!d->loose && d->full) {
		/* Break a magazine up into loose blocks. */
		d->loose = d->full;
		d->full = blk_next_mag(d->full);
		blk_set_next_mag(d->loose, NULL);
		set_count(&d->nfull, peek(&d->nfull) - 1);
		set_count(&d->nloose, TASK_CACHE_MAG_SIZE);
	}
	if (d->loose) {
		b = d->loose;
		d->loose = blk_next(b);
		set_count(&d->nloose, peek(&d->nloose) - 1);
		depot.bytes -= class_bytes(cls);
		depot_publish_bytes();
	}
	spin_unlock_irqrestore(&depot.lock, flags);
	return b ? blk_out(b, cls) : NULL;
}

/* Keep one block (checked by the caller) from a thread without a cache;
 * false if the depot is full (the caller kfrees it). */
static bool depot_put_one(void *p, unsigned cls)
{
	struct depot_class *d = &depot.cls[cls - 1];
	unsigned long flags;
	bool put = false;

	flags = spin_lock_irqsave(&depot.lock);
	if (depot.bytes + class_bytes(cls) <= TASK_CACHE_DEPOT_BYTES) {
		d->loose = blk_in(p, cls, d->loose);
		depot.bytes += class_bytes(cls);
		depot_publish_bytes();
		set_count(&d->nloose, peek(&d->nloose) + 1);
		if (peek(&d->nloose) == TASK_CACHE_MAG_SIZE) {
			/* A full loose list becomes a magazine for the cores. */
			blk_set_next_mag(d->loose, d->full);
			d->full = d->loose;
			d->loose = NULL;
			set_count(&d->nloose, 0);
			set_count(&d->nfull, peek(&d->nfull) + 1);
		}
		put = true;
	}
	spin_unlock_irqrestore(&depot.lock, flags);
	return put;
}

static void free_list(struct task_cache_block *b, unsigned cls)
{
	while (b) {
		struct task_cache_block *next = blk_next(b);

		kfree(blk_out(b, cls));
		b = next;
	}
}

void task_cache_depot_trim(void)
{
	struct { struct task_cache_block *full, *loose; } taken[TASK_CACHE_CLASSES];
	unsigned long flags = spin_lock_irqsave(&depot.lock);

	for (unsigned i = 0; i < TASK_CACHE_CLASSES; i++) {
		struct depot_class *d = &depot.cls[i];

		taken[i].full = d->full;
		taken[i].loose = d->loose;
		d->full = d->loose = NULL;
		set_count(&d->nfull, 0);
		set_count(&d->nloose, 0);
	}
	depot.bytes = 0;
	depot_publish_bytes();
	spin_unlock_irqrestore(&depot.lock, flags);
	for (unsigned i = 0; i < TASK_CACHE_CLASSES; i++) {
		struct task_cache_block *m = taken[i].full;

		while (m) {
			struct task_cache_block *next = blk_next_mag(m);

			free_list(m, i + 1);
			m = next;
		}
		free_list(taken[i].loose, i + 1);
	}
}

size_t task_cache_depot_bytes(void)
{
	return atomic_load_explicit(&depot.bytes_seen, memory_order_relaxed);
}

/* ---- a core's cache ------------------------------------------------------ */

void task_cache_init(struct task_cache *c)
{
	for (unsigned i = 0; i < TASK_CACHE_CLASSES; i++) {
		c->loaded[i] = (struct task_cache_mag){ 0 };
		c->spare[i] = (struct task_cache_mag){ 0 };
	}
	atomic_init(&c->bytes, 0);
	atomic_init(&c->busy, false);
	c->enabled = true;
}

/*
 * Claim c's magazines for this call; false when the caller interrupted
 * their owner in the middle (an interrupt handler on the same core), which
 * must then use the depot.  The check and the claim need no RMW: a handler
 * that runs between them finishes, and clears the flag, before the
 * interrupted code goes on.
 */
static inline bool cache_enter(struct task_cache *c)
{
	if (atomic_load_explicit(&c->busy, memory_order_relaxed))
		return false;
	atomic_store_explicit(&c->busy, true, memory_order_relaxed);
	/* The flag is set before any magazine access; pairs with the
	 * handler's load above (same core: a compiler fence suffices). */
	atomic_signal_fence(memory_order_seq_cst);
	return true;
}

static inline void cache_leave(struct task_cache *c)
{
	/* Every magazine access is done before the flag clears. */
	atomic_signal_fence(memory_order_release);
	atomic_store_explicit(&c->busy, false, memory_order_relaxed);
}

static void bytes_add(struct task_cache *c, long delta)
{
	/* Owner-written: a load and a store, no locked instruction. */
	atomic_store_explicit(&c->bytes,
			      atomic_load_explicit(&c->bytes, memory_order_relaxed) +
			      (size_t)delta, memory_order_relaxed);
}

static void swap_mags(struct task_cache_mag *a, struct task_cache_mag *b)
{
	struct task_cache_mag t = *a;

	*a = *b;
	*b = t;
}

void *task_cache_alloc(struct task_cache *c, unsigned cls)
{
	void *p;

	check_class("task_cache_alloc", cls);
	if (c && cache_enter(c)) {
		unsigned i = cls - 1;

		if (c->enabled) {
			struct task_cache_mag *m = &c->loaded[i];

			if (m->count == 0) {
				if (c->spare[i].count > 0)
					swap_mags(m, &c->spare[i]);
				else if (depot_get_full(i, m))
					bytes_add(c, (long)(TASK_CACHE_MAG_SIZE *
							    class_bytes(cls)));
			}
			if (m->count > 0) {
				struct task_cache_block *b = m->top;

				m->top = blk_next(b);
				m->count--;
				bytes_add(c, -(long)class_bytes(cls));
				cache_leave(c);
				return blk_out(b, cls);
			}
		}
		cache_leave(c);
	}
	p = depot_get_one(cls);
	if (p)
		return p;
	return kmalloc_aligned(class_bytes(cls), TASK_CACHE_UNIT);
}

void task_cache_free(struct task_cache *c, void *p, unsigned cls)
{
	check_class("task_cache_free", cls);
	blk_check(p);	/* before interrupts are masked or a lock taken */
	if (c && cache_enter(c)) {
		unsigned i = cls - 1;

		if (c->enabled) {
			struct task_cache_mag *m = &c->loaded[i];
			struct task_cache_mag *s = &c->spare[i];
			struct task_cache_mag out = { 0 };

			if (m->count == TASK_CACHE_MAG_SIZE) {
				/* Both full: the spare goes to the depot (or,
				 * at its cap, back to kmalloc below). */
				if (s->count == TASK_CACHE_MAG_SIZE) {
					if (!depot_put_full(i, s))
						out = *s;
					bytes_add(c, -(long)(TASK_CACHE_MAG_SIZE *
							     class_bytes(cls)));
					*s = (struct task_cache_mag){ 0 };
				}
				swap_mags(m, s);
			}
			m->top = blk_in(p, cls, m->top);
			m->count++;
			bytes_add(c, (long)class_bytes(cls));
			cache_leave(c);
			free_list(out.top, cls);
			return;
		}
		cache_leave(c);
	}
	if (!depot_put_one(p, cls))
		kfree(p);
}

void task_cache_drain(struct task_cache *c)
{
	/* Rare (a core stops): masking keeps every handler out meanwhile. */
	unsigned long flags = arch_irq_save();
	struct task_cache_mag mags[2 * TASK_CACHE_CLASSES];

	for (unsigned i = 0; i < TASK_CACHE_CLASSES; i++) {
		mags[2 * i] = c->loaded[i];
		mags[2 * i + 1] = c->spare[i];
		c->loaded[i] = (struct task_cache_mag){ 0 };
		c->spare[i] = (struct task_cache_mag){ 0 };
	}
	c->enabled = false;
	atomic_store_explicit(&c->bytes, 0, memory_order_relaxed);
	arch_irq_restore(flags);
	for (unsigned k = 0; k < 2 * TASK_CACHE_CLASSES; k++) {
		unsigned cls = k / 2 + 1;
		struct task_cache_mag *m = &mags[k];

		if (m->count == TASK_CACHE_MAG_SIZE && depot_put_full(cls - 1, m))
			continue;
		while (m->top) {
			struct task_cache_block *b = m->top;

			m->top = blk_next(b);
			b = blk_out(b, cls);
			if (!depot_put_one(b, cls))
				kfree(b);
		}
	}
}

size_t task_cache_bytes(const struct task_cache *c)
{
	return atomic_load_explicit(&((struct task_cache *)c)->bytes,
				    memory_order_relaxed);
}
