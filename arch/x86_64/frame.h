/*
 * frame.h - the physical frame allocator: one bit per 4 KiB frame.
 *
 * A bitmap covers frames [base, base + nframes); a set bit means "not
 * available" (in use, reserved, or not RAM at all), so everything starts
 * set and frame_alloc_add() clears the usable ranges.  A second bitmap
 * marks the frames the allocator manages, so freeing a reserved frame or
 * a hole is caught, not silently made allocatable.  Single frames come
 * from a word scan (find-first-zero) starting at a hint just below the
 * lowest recently freed frame; runs of n frames from a first-fit scan.
 * Low addresses are handed out first, which the boot relies on: page
 * tables built before the full identity map exists come from low memory.
 * A spinlock (irqsave) serialises everything.  Pure C: tests/arch/
 * test_frame.c runs it on the host against a model.
 */
#ifndef HYPHAE_X86_64_FRAME_H
#define HYPHAE_X86_64_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "spinlock.h"

#define FRAME_SHIFT	12
#define FRAME_SIZE	(1ull << FRAME_SHIFT)
#define FRAME_BITS_PER_WORD 64

struct frame_alloc {
	/* Set by frame_alloc_init(), read-only afterwards. */
	uint64_t *bitmap;	/* 1: unavailable */
	uint64_t *managed;	/* 1: usable RAM, not reserved (boot-time only) */
	uint64_t base_pfn;	/* first frame the bitmap covers */
	size_t nframes;		/* frames it covers */

	/* lock protects the bitmap and everything below. */
	struct spinlock lock;
	size_t total;		/* frames usable after reservations */
	size_t free;		/* of those, free now */
	size_t hint;		/* no free frame below word `hint` */
};

/* Words of bitmap storage needed to cover physical [lo, hi) (both maps). */
size_t frame_bitmap_words(uint64_t lo, uint64_t hi);

/*
 * Start covering physical [lo, hi) (rounded out to frames) with `bitmap`
 * (frame_bitmap_words() words of storage), all frames unavailable.  Boot,
 * once.
 */
void frame_alloc_init(struct frame_alloc *fa, uint64_t *bitmap,
		      uint64_t lo, uint64_t hi);

/* Make the whole frames inside [base, base+len) available.  Boot only. */
void frame_alloc_add(struct frame_alloc *fa, uint64_t base, uint64_t len);

/*
 * Make every frame touching [base, base+len) unavailable for good (kernel
 * image, boot information, ...).  Boot only, before any allocation.
 */
void frame_alloc_reserve(struct frame_alloc *fa, uint64_t base, uint64_t len);

/*
 * n contiguous free frames: returns the physical address of the first,
 * or 0 when there is no such run (frame 0 is never handed out: callers
 * reserve low memory).  Any core, IRQ-safe.
 */
uint64_t __must_check frame_alloc(struct frame_alloc *fa, size_t n);

/*
 * Free n frames at pa, as returned by frame_alloc(fa, n).  Panics on a
 * frame outside the bitmap or one that is not allocated (double free).
 * Any core, IRQ-safe.
 */
void frame_free(struct frame_alloc *fa, uint64_t pa, size_t n);

/* True if the frame containing pa is available.  For tests and checks. */
bool frame_is_free(struct frame_alloc *fa, uint64_t pa);

/* Broken invariants found by frame_alloc_check(). */
enum frame_check_error {
	FRAME_CHECK_OK = 0,
	FRAME_CHECK_FREE_COUNT = -1,	/* free != clear bits in the bitmap */
	FRAME_CHECK_TOTAL_COUNT = -2,	/* total != managed frames */
	FRAME_CHECK_UNMANAGED_FREE = -3, /* a free frame that is not managed */
	FRAME_CHECK_HINT = -4,		/* a free frame below the hint */
	FRAME_CHECK_TAIL = -5,		/* a free bit past nframes */
};

/*
 * Walk the whole bitmap under the lock and check the counters and the
 * hint; FRAME_CHECK_OK or the first broken invariant.  Slow; for tests.
 */
int frame_alloc_check(struct frame_alloc *fa);

/* Frames free now / usable in total. */
size_t frame_free_count(struct frame_alloc *fa);
size_t frame_total_count(struct frame_alloc *fa);

#endif /* HYPHAE_X86_64_FRAME_H */
