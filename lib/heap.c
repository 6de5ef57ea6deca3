/*
 * heap.c - the size-class heap (see heap.h for the design).
 *
 * Slab layout (one page):
 *   [ struct heap_slab: 64 bytes | object 0 | object 1 | ... | slack ]
 * free_bits has a 1 for every free object; bits past the slab's capacity
 * are always 0.  A pointer is a slab object if it is not page-aligned; it
 * is a large allocation if it is (no slab object starts a page).
 *
 * Locking: a class's lock covers its lists, its slabs' headers and its
 * counters; large_lock covers the large table.  The page source is called
 * with no lock held.  A panic releases the lock first, so a host test that
 * expects the panic can go on using the heap.
 */
#include <stdbool.h>

#include "lib/heap.h"
#include "panic.h"

#define SLAB_MAGIC	0x51ab4ea9u	/* header of a live slab */
#define SLAB_DEAD	0xdeadc0deu	/* written when the page goes back */
#define SLAB_HDR	64
#define SLAB_WORDS	4		/* free_bits: up to 256 objects */
#define PAGE_MASK	((uintptr_t)HEAP_PAGE_SIZE - 1)

struct heap_slab {
	uint32_t magic;
	uint16_t cls;
	uint16_t nfree;
	struct heap *heap;
	struct heap_slab *prev, *next;
	uint64_t free_bits[SLAB_WORDS];
};

_Static_assert(sizeof(struct heap_slab) <= SLAB_HDR, "slab header too big");

struct heap_large {
	uintptr_t addr;
	size_t npages;
	struct heap_large *next;
};

/*
 * Object sizes, multiples of 16, most chosen so a page of 4032 usable
 * bytes divides evenly (e.g. 1344 = 4032 / 3).
 */
static const uint16_t class_size[HEAP_NCLASSES] = {
	16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256,
	320, 384, 448, 496, 576, 672, 800, 1008, 1344, 2016,
};

_Static_assert(HEAP_SMALL_MAX == 2016, "HEAP_SMALL_MAX is the largest class");
_Static_assert((HEAP_PAGE_SIZE - SLAB_HDR) / 16 <= SLAB_WORDS * 64,
	       "free_bits too small for the 16-byte class");

static inline unsigned class_capacity(unsigned cls)
{
	return (HEAP_PAGE_SIZE - SLAB_HDR) / class_size[cls];
}

static inline char *slab_obj(struct heap_slab *s, unsigned i)
{
	return (char *)s + SLAB_HDR + (size_t)i * class_size[s->cls];
}

/* ---- slab lists (class lock held) ------------------------------------- */

static void list_push(struct heap_slab **head, struct heap_slab *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

static void list_remove(struct heap_slab **head, struct heap_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

static void slab_format(struct heap *h, struct heap_slab *s, unsigned cls)
{
	unsigned cap = class_capacity(cls);

	s->magic = SLAB_MAGIC;
	s->cls = (uint16_t)cls;
	s->nfree = (uint16_t)cap;
	s->heap = h;
	s->prev = s->next = NULL;
	for (unsigned w = 0; w < SLAB_WORDS; w++) {
		unsigned lo = w * 64;

		if (cap >= lo + 64)
			s->free_bits[w] = UINT64_MAX;
		else if (cap > lo)
			s->free_bits[w] = (1ull << (cap - lo)) - 1;
		else
			s->free_bits[w] = 0;
	}
}

/* ---- init ------------------------------------------------------------- */

void heap_init(struct heap *h, const struct heap_pages *src)
{
	unsigned cls = 0;

	kassert(src != NULL && src->alloc != NULL && src->free != NULL);
	*h = (struct heap){ .src = *src };
	for (unsigned i = 0; i < ARRAY_SIZE(h->class_of); i++) {
		while (class_size[cls] < i * HEAP_MIN_ALIGN)
			cls++;
		h->class_of[i] = (uint8_t)cls;
	}
	for (unsigned c = 0; c < HEAP_NCLASSES; c++)
		spin_init(&h->classes[c].lock);
	spin_init(&h->large_lock);
}

/* ---- small objects ---------------------------------------------------- */

/* Smallest class holding size bytes aligned to align (<= SLAB_ALIGN), or -1. */
static int class_for(const struct heap *h, size_t size, size_t align)
{
	unsigned cls;

	if (size > HEAP_SMALL_MAX)
		return -1;
	cls = h->class_of[(size + HEAP_MIN_ALIGN - 1) / HEAP_MIN_ALIGN];
	/* Objects sit at SLAB_HDR + i * size: aligned when size is. */
	while (cls < HEAP_NCLASSES && class_size[cls] % align != 0)
		cls++;
	return cls < HEAP_NCLASSES ? (int)cls : -1;
}

/* Take one free object from s (class lock held, s has one). */
static void *slab_take(struct heap_class *c, struct heap_slab *s)
{
	for (unsigned w = 0; w < SLAB_WORDS; w++) {
		if (s->free_bits[w] != 0) {
			unsigned bit = (unsigned)__builtin_ctzll(s->free_bits[w]);

			s->free_bits[w] &= s->free_bits[w] - 1;
			if (--s->nfree == 0) {
				list_remove(&c->partial, s);
				list_push(&c->full, s);
			}
			c->in_use++;
			c->allocs++;
			return slab_obj(s, w * 64 + bit);
		}
	}
	panic("slab_take: slab %p of class %u has no free object",
	      (void *)s, (unsigned)s->cls);
}

static void *small_alloc(struct heap *h, unsigned cls)
{
	struct heap_class *c = &h->classes[cls];
	struct heap_slab *s;
	unsigned long flags;
	void *page;

	flags = spin_lock_irqsave(&c->lock);
	if (c->partial == NULL && c->empty != NULL) {
		s = c->empty;
		list_remove(&c->empty, s);
		c->nempty--;
		list_push(&c->partial, s);
	}
	if (c->partial != NULL) {
		void *p = slab_take(c, c->partial);

		spin_unlock_irqrestore(&c->lock, flags);
		return p;
	}
	spin_unlock_irqrestore(&c->lock, flags);

	/* No room: get a page without holding the lock. */
	page = h->src.alloc(h->src.ctx, 1);
	if (page == NULL)
		return NULL;
	if ((uintptr_t)page & PAGE_MASK)
		panic("heap: page source returned unaligned %p", page);
	s = page;
	slab_format(h, s, cls);

	flags = spin_lock_irqsave(&c->lock);
	list_push(&c->partial, s);
	c->nslabs++;
	/* Another core may have added a slab meanwhile; use the first. */
	page = slab_take(c, c->partial);
	spin_unlock_irqrestore(&c->lock, flags);
	return page;
}

/* The slab p belongs to; panics if p cannot be one of this heap's objects. */
static struct heap_slab *slab_of(struct heap *h, const void *p, const char *who)
{
	struct heap_slab *s = (struct heap_slab *)((uintptr_t)p & ~PAGE_MASK);

	if (s->magic != SLAB_MAGIC || s->heap != h || s->cls >= HEAP_NCLASSES)
		panic("%s: %p is not a heap object (foreign or freed page)",
		      who, p);
	return s;
}

/* Object index of p in s, or UINT32_MAX if p is not an object start. */
static unsigned slab_index(struct heap_slab *s, const void *p)
{
	size_t off = (size_t)((const char *)p - (const char *)s);
	size_t size = class_size[s->cls];

	if (off < SLAB_HDR || (off - SLAB_HDR) % size != 0 ||
	    (off - SLAB_HDR) / size >= class_capacity(s->cls))
		return UINT32_MAX;
	return (unsigned)((off - SLAB_HDR) / size);
}

static void small_free(struct heap *h, void *p)
{
	struct heap_slab *s = slab_of(h, p, "heap_free");
	struct heap_class *c = &h->classes[s->cls];
	struct heap_slab *release = NULL;
	unsigned long flags;
	unsigned idx, w;
	uint64_t bit;

	idx = slab_index(s, p);
	if (idx == UINT32_MAX)
		panic("heap_free: %p is inside an object of class %u, not its start",
		      p, (unsigned)class_size[s->cls]);
	w = idx / 64;
	bit = 1ull << (idx % 64);

	flags = spin_lock_irqsave(&c->lock);
	if (s->free_bits[w] & bit) {
		spin_unlock_irqrestore(&c->lock, flags);
		panic("heap_free: double free of %p (class %u)", p,
		      (unsigned)class_size[s->cls]);
	}
	s->free_bits[w] |= bit;
	c->in_use--;
	c->frees++;
	if (s->nfree++ == 0) {
		list_remove(&c->full, s);
		list_push(&c->partial, s);
	}
	if (s->nfree == class_capacity(s->cls)) {
		list_remove(&c->partial, s);
		if (c->nempty < HEAP_EMPTY_KEEP) {
			list_push(&c->empty, s);
			c->nempty++;
		} else {
			c->nslabs--;
			s->magic = SLAB_DEAD;
			release = s;
		}
	}
	spin_unlock_irqrestore(&c->lock, flags);
	if (release)
		h->src.free(h->src.ctx, release, 1);
}

/* ---- large allocations ------------------------------------------------ */

static inline unsigned large_bucket(uintptr_t addr)
{
	return (unsigned)((addr / HEAP_PAGE_SIZE) % HEAP_LARGE_BUCKETS);
}

static void *large_alloc(struct heap *h, size_t size)
{
	struct heap_large *rec;
	unsigned long flags;
	size_t npages;
	void *page;
	int cls = class_for(h, sizeof(*rec), HEAP_MIN_ALIGN);

	if (size > SIZE_MAX - (HEAP_PAGE_SIZE - 1))
		return NULL;
	npages = (size + HEAP_PAGE_SIZE - 1) / HEAP_PAGE_SIZE;
	rec = small_alloc(h, (unsigned)cls);
	if (rec == NULL)
		return NULL;
	page = h->src.alloc(h->src.ctx, npages);
	if (page == NULL) {
		small_free(h, rec);
		return NULL;
	}
	if ((uintptr_t)page & PAGE_MASK)
		panic("heap: page source returned unaligned %p", page);
	rec->addr = (uintptr_t)page;
	rec->npages = npages;

	flags = spin_lock_irqsave(&h->large_lock);
	rec->next = h->large[large_bucket(rec->addr)];
	h->large[large_bucket(rec->addr)] = rec;
	h->large_count++;
	h->large_pages += npages;
	spin_unlock_irqrestore(&h->large_lock, flags);
	return page;
}

/* The record of large allocation p, unlinked if unlink; NULL if none. */
static struct heap_large *large_find(struct heap *h, const void *p, bool unlink)
{
	struct heap_large **pp = &h->large[large_bucket((uintptr_t)p)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		struct heap_large *rec = *pp;

		if (rec->addr == (uintptr_t)p) {
			if (unlink) {
				*pp = rec->next;
				h->large_count--;
				h->large_pages -= rec->npages;
			}
			return rec;
		}
	}
	return NULL;
}

static void large_free(struct heap *h, void *p)
{
	struct heap_large *rec;
	unsigned long flags;

	flags = spin_lock_irqsave(&h->large_lock);
	rec = large_find(h, p, true);
	spin_unlock_irqrestore(&h->large_lock, flags);
	if (rec == NULL)
		panic("heap_free: %p is not a live allocation (double free or foreign pointer)",
		      p);
	h->src.free(h->src.ctx, p, rec->npages);
	small_free(h, rec);
}

/* ---- public entry points ---------------------------------------------- */

void *heap_alloc(struct heap *h, size_t size, size_t align)
{
	int cls;

	if (align == 0)
		align = HEAP_MIN_ALIGN;
	if (size == 0 || (align & (align - 1)) != 0 || align > HEAP_PAGE_SIZE)
		return NULL;
	if (align < HEAP_MIN_ALIGN)
		align = HEAP_MIN_ALIGN;
	cls = align <= HEAP_SLAB_ALIGN ? class_for(h, size, align) : -1;
	if (cls < 0)
		return large_alloc(h, size);
	return small_alloc(h, (unsigned)cls);
}

void heap_free(struct heap *h, void *p)
{
	if (p == NULL)
		return;
	if (((uintptr_t)p & PAGE_MASK) == 0)
		large_free(h, p);
	else
		small_free(h, p);
}

size_t heap_usable_size(struct heap *h, const void *p)
{
	struct heap_large *rec;
	struct heap_slab *s;
	unsigned long flags;
	size_t n;

	if (((uintptr_t)p & PAGE_MASK) == 0) {
		flags = spin_lock_irqsave(&h->large_lock);
		rec = large_find(h, p, false);
		n = rec ? rec->npages * HEAP_PAGE_SIZE : 0;
		spin_unlock_irqrestore(&h->large_lock, flags);
		if (rec == NULL)
			panic("heap_usable_size: %p is not a live allocation", p);
		return n;
	}
	s = slab_of(h, p, "heap_usable_size");
	if (slab_index(s, p) == UINT32_MAX)
		panic("heap_usable_size: %p is not an object start", p);
	return class_size[s->cls];
}

size_t heap_trim(struct heap *h)
{
	size_t released = 0;

	for (unsigned cls = 0; cls < HEAP_NCLASSES; cls++) {
		struct heap_class *c = &h->classes[cls];
		struct heap_slab *list;
		unsigned long flags;

		/* Detach the whole list under the lock, free it outside. */
		flags = spin_lock_irqsave(&c->lock);
		list = c->empty;
		c->empty = NULL;
		c->nslabs -= c->nempty;
		c->nempty = 0;
		for (struct heap_slab *s = list; s; s = s->next)
			s->magic = SLAB_DEAD;
		spin_unlock_irqrestore(&c->lock, flags);
		while (list) {
			struct heap_slab *s = list;

			list = s->next;
			h->src.free(h->src.ctx, s, 1);
			released++;
		}
	}
	return released;
}

void heap_stats(struct heap *h, struct heap_stats *out)
{
	unsigned long flags;

	*out = (struct heap_stats){ .nclasses = HEAP_NCLASSES };
	for (unsigned cls = 0; cls < HEAP_NCLASSES; cls++) {
		struct heap_class *c = &h->classes[cls];
		struct heap_class_stats *cs = &out->classes[cls];

		cs->size = class_size[cls];
		cs->per_slab = class_capacity(cls);
		flags = spin_lock_irqsave(&c->lock);
		cs->slabs = c->nslabs;
		cs->in_use = c->in_use;
		cs->allocs = c->allocs;
		cs->frees = c->frees;
		spin_unlock_irqrestore(&c->lock, flags);
		cs->free = cs->slabs * cs->per_slab - cs->in_use;
		out->pages += cs->slabs;
		out->bytes_in_use += cs->in_use * cs->size;
		out->bytes_free += cs->free * cs->size;
	}
	flags = spin_lock_irqsave(&h->large_lock);
	out->large_allocs = h->large_count;
	out->large_pages = h->large_pages;
	spin_unlock_irqrestore(&h->large_lock, flags);
	out->pages += out->large_pages;
	out->bytes_in_use += out->large_pages * HEAP_PAGE_SIZE;
	out->bytes_from_pages = out->pages * HEAP_PAGE_SIZE;
}

/* ---- checker ---------------------------------------------------------- */

enum slab_state { SLAB_PARTIAL, SLAB_FULL, SLAB_EMPTY };

/* Check one list of class cls; adds its slabs and used objects to the counts. */
static int check_list(struct heap *h, unsigned cls, struct heap_slab *head,
		      enum slab_state want, size_t *nslabs, size_t *used)
{
	unsigned cap = class_capacity(cls);
	struct heap_slab *prev = NULL;

	for (struct heap_slab *s = head; s != NULL; prev = s, s = s->next) {
		unsigned bits = 0;

		if (((uintptr_t)s & PAGE_MASK) || s->magic != SLAB_MAGIC ||
		    s->heap != h || s->cls != cls)
			return HEAP_CHECK_BAD_SLAB;
		if (s->prev != prev)
			return HEAP_CHECK_BAD_LIST;
		for (unsigned w = 0; w < SLAB_WORDS; w++) {
			uint64_t valid = cap >= (w + 1) * 64 ? UINT64_MAX :
					 cap > w * 64 ? (1ull << (cap - w * 64)) - 1 : 0;

			if (s->free_bits[w] & ~valid)
				return HEAP_CHECK_BAD_COUNT;
			/* Not __builtin_popcountll: without -mpopcnt it calls libgcc. */
			for (uint64_t x = s->free_bits[w]; x != 0; x &= x - 1)
				bits++;
		}
		if (bits != s->nfree)
			return HEAP_CHECK_BAD_COUNT;
		if ((want == SLAB_FULL && s->nfree != 0) ||
		    (want == SLAB_EMPTY && s->nfree != cap) ||
		    (want == SLAB_PARTIAL && (s->nfree == 0 || s->nfree == cap)))
			return HEAP_CHECK_BAD_LIST;
		(*nslabs)++;
		*used += cap - s->nfree;
	}
	return HEAP_CHECK_OK;
}

static int check_class(struct heap *h, unsigned cls)
{
	struct heap_class *c = &h->classes[cls];
	size_t nslabs = 0, used = 0, before_empty;
	unsigned long flags;
	int err;

	flags = spin_lock_irqsave(&c->lock);
	err = check_list(h, cls, c->partial, SLAB_PARTIAL, &nslabs, &used);
	if (!err)
		err = check_list(h, cls, c->full, SLAB_FULL, &nslabs, &used);
	before_empty = nslabs;
	if (!err)
		err = check_list(h, cls, c->empty, SLAB_EMPTY, &nslabs, &used);
	if (!err && (nslabs - before_empty != c->nempty || c->nempty > HEAP_EMPTY_KEEP))
		err = HEAP_CHECK_BAD_LIST;
	if (!err && (nslabs != c->nslabs || used != c->in_use ||
		     c->allocs - c->frees != c->in_use))
		err = HEAP_CHECK_BAD_TOTALS;
	spin_unlock_irqrestore(&c->lock, flags);
	return err;
}

static int check_large(struct heap *h)
{
	size_t count = 0, pages = 0;
	unsigned long flags;
	int err = HEAP_CHECK_OK;

	flags = spin_lock_irqsave(&h->large_lock);
	for (unsigned b = 0; b < HEAP_LARGE_BUCKETS && !err; b++) {
		for (struct heap_large *r = h->large[b]; r; r = r->next) {
			if ((r->addr & PAGE_MASK) || r->npages == 0 ||
			    large_bucket(r->addr) != b) {
				err = HEAP_CHECK_BAD_LARGE;
				break;
			}
			count++;
			pages += r->npages;
		}
	}
	if (!err && (count != h->large_count || pages != h->large_pages))
		err = HEAP_CHECK_BAD_TOTALS;
	spin_unlock_irqrestore(&h->large_lock, flags);
	return err;
}

int heap_check(struct heap *h)
{
	for (unsigned cls = 0; cls < HEAP_NCLASSES; cls++) {
		int err = check_class(h, cls);

		if (err)
			return err;
	}
	return check_large(h);
}
