/*
 * heap.h - a size-class (slab) heap over a page source, for the kernel.
 *
 * Small requests (<= HEAP_SMALL_MAX bytes) are served from one-page slabs
 * of a fixed object size: 22 classes from 16 to 2016 bytes, chosen so a
 * page (after its 64-byte header) splits with little waste.  A slab's
 * header sits at the page start and keeps a bitmap of free objects, so
 * allocation is a find-first-set, freeing a pointer finds its slab by
 * masking the address, and a double free or a pointer that is not an
 * object start is caught exactly (panic).  Objects never hold allocator
 * metadata, so a stray write into a freed object cannot corrupt the heap.
 * Larger requests, and alignments above HEAP_SLAB_ALIGN, take whole pages
 * straight from the source and are tracked in a small hash table.
 *
 * Each class has its own spinlock (irqsave: an interrupt handler may
 * free).  A slab that becomes empty goes back to the page source, except
 * for up to HEAP_EMPTY_KEEP per class kept to absorb alloc/free churn
 * around a slab boundary; heap_trim() returns those too.
 */
#ifndef HYPHAE_LIB_HEAP_H
#define HYPHAE_LIB_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "spinlock.h"

#define HEAP_PAGE_SIZE		4096
#define HEAP_NCLASSES		22
/* Largest request served from slabs. */
#define HEAP_SMALL_MAX		2016
/* Slab objects are aligned to 16 at least, and to 64 where asked. */
#define HEAP_MIN_ALIGN		16
#define HEAP_SLAB_ALIGN		64
#define HEAP_LARGE_BUCKETS	64
/* Empty slabs a class keeps instead of returning them at once. */
#define HEAP_EMPTY_KEEP		4

/*
 * Where the heap gets its memory.  alloc returns npages contiguous,
 * page-aligned pages or NULL; free gives back exactly what alloc returned.
 * Both may be called from any core with interrupts disabled, never with a
 * heap lock held.
 */
struct heap_pages {
	void *(*alloc)(void *ctx, size_t npages);
	void (*free)(void *ctx, void *p, size_t npages);
	void *ctx;
};

struct heap_slab;
struct heap_large;

/* One size class.  lock protects everything below it. */
struct heap_class {
	struct spinlock lock;
	struct heap_slab *partial;	/* some objects free, some in use */
	struct heap_slab *full;		/* no object free */
	struct heap_slab *empty;	/* all objects free, nempty of them */
	size_t nempty;			/* <= HEAP_EMPTY_KEEP */
	size_t nslabs;			/* on all three lists */
	size_t in_use;			/* objects handed out */
	uint64_t allocs, frees;		/* since heap_init */
} __cacheline_aligned;

struct heap {
	/* Set by heap_init, read-only afterwards. */
	struct heap_pages src;
	uint8_t class_of[HEAP_SMALL_MAX / HEAP_MIN_ALIGN + 1];

	struct heap_class classes[HEAP_NCLASSES];

	/* large_lock protects these. */
	struct spinlock large_lock;
	struct heap_large *large[HEAP_LARGE_BUCKETS];
	size_t large_count;		/* live large allocations */
	size_t large_pages;		/* pages they hold */
};

struct heap_class_stats {
	size_t size;		/* object size */
	size_t per_slab;	/* objects per slab */
	size_t slabs;
	size_t in_use;		/* objects */
	size_t free;		/* free objects in this class's slabs */
	uint64_t allocs, frees;
};

struct heap_stats {
	size_t pages;			/* held from the page source */
	size_t bytes_from_pages;	/* pages * HEAP_PAGE_SIZE */
	size_t bytes_in_use;		/* objects (at class size) + large pages */
	size_t bytes_free;		/* free objects in slabs */
	size_t large_allocs;
	size_t large_pages;
	unsigned nclasses;
	struct heap_class_stats classes[HEAP_NCLASSES];
};

/* Broken invariants reported by heap_check(). */
enum heap_check_error {
	HEAP_CHECK_OK = 0,
	HEAP_CHECK_BAD_SLAB = -1,	/* magic, owner, class or alignment */
	HEAP_CHECK_BAD_COUNT = -2,	/* free count disagrees with bitmap */
	HEAP_CHECK_BAD_LIST = -3,	/* slab on the wrong list, broken links */
	HEAP_CHECK_BAD_TOTALS = -4,	/* class or large totals disagree */
	HEAP_CHECK_BAD_LARGE = -5,	/* large record malformed or misfiled */
};

/* Set up an empty heap over src.  Boot core, before any other heap call. */
void heap_init(struct heap *h, const struct heap_pages *src);

/*
 * Allocate size bytes aligned to align (a power of two <= HEAP_PAGE_SIZE;
 * 0 means HEAP_MIN_ALIGN).  NULL if size is 0, align is invalid or memory
 * is exhausted.  Any core, any context (IRQ-safe).
 */
void *heap_alloc(struct heap *h, size_t size, size_t align)
	__attribute__((malloc)) __must_check;

/*
 * Free p (NULL is ignored).  Panics on a pointer that is not a live
 * allocation of this heap (double free, interior or foreign pointer) where
 * that can be seen cheaply.  Any core, any context (IRQ-safe).
 */
void heap_free(struct heap *h, void *p);

/* Bytes usable at p (>= the size asked for).  p must be live. */
size_t heap_usable_size(struct heap *h, const void *p);

/* Return cached empty slabs to the page source; returns pages released. */
size_t heap_trim(struct heap *h);

/* A consistent snapshot per class (classes are read one after another). */
void heap_stats(struct heap *h, struct heap_stats *out);

/*
 * Walk every slab and large record and check the invariants; returns
 * HEAP_CHECK_OK or the first broken one.  Takes each lock in turn; for
 * tests and the shell, not hot paths.
 */
int heap_check(struct heap *h);

#endif /* HYPHAE_LIB_HEAP_H */
