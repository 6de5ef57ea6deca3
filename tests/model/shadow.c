/*
 * shadow.c - plain memory accesses under the model: data races, object
 * lifetimes, the model heap and names for traces.
 *
 * The code under test is compiled with -fsanitize=thread but linked
 * without the ThreadSanitizer runtime: the compiler's calls before every
 * plain load and store (__tsan_read4, __tsan_write8, ...) land here.  For
 * each byte of a tracked object (model_track(), every kmalloc) a shadow
 * cell keeps the last write and the last read of each thread as epochs of
 * the vector clocks of memory.c (FastTrack, Flanagan & Freund 2009, with
 * full read vectors: there are at most MODEL_NT threads).  An access not
 * ordered after a conflicting one of another thread is a data race; an
 * atomic access races only with plain ones.  Freeing an object (kfree,
 * model_free) counts as writing all of it, and any access after it is a
 * use after free.  Accesses outside tracked objects (stacks, the checker)
 * are not checked.
 *
 * Everything is per schedule: the cells live in a hash table cleared by a
 * generation count, the heap is a bump allocator over one arena that
 * starts afresh each time, so addresses repeat and schedules replay.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/model/checker.h"

/* ---- objects ------------------------------------------------------------- */

struct range {
	uintptr_t lo, hi;
	const char *name;
	bool track;		/* race-checked; kfree/model_free end it */
	bool freed;
	uint8_t freed_by;
	unsigned long freed_step;
};

#define MAX_RANGES	256

static struct range ranges[MAX_RANGES];
static unsigned nranges;
/* The tracked ones (indexes into ranges[]), newest first when searched. */
static unsigned tracks[MAX_RANGES], ntracks;
static uintptr_t track_lo = UINTPTR_MAX, track_hi;

#define HEAP_SIZE	(8u << 20)
static char heap[HEAP_SIZE] __attribute__((aligned(4096)));
static size_t heap_used;
static unsigned heap_objects;
static char heap_names[MAX_RANGES][16];

static void add_range(const void *p, size_t size, const char *name, bool track)
{
	struct range *r;

	if (nranges == MAX_RANGES) {
		fprintf(stderr, "model: more than %d named objects\n", MAX_RANGES);
		abort();
	}
	r = &ranges[nranges++];
	r->lo = (uintptr_t)p;
	r->hi = (uintptr_t)p + size;
	r->name = name;
	r->track = track;
	r->freed = false;
	if (track) {
		tracks[ntracks++] = nranges - 1;
		if (r->lo < track_lo)
			track_lo = r->lo;
		if (r->hi > track_hi)
			track_hi = r->hi;
	}
}

void model_track(void *p, size_t size, const char *name)
{
	add_range(p, size, name, true);
}

void model_name(const void *p, size_t size, const char *name)
{
	add_range(p, size, name, false);
}

/* The tracked object holding `a`, or NULL. */
static struct range *tracked(uintptr_t a)
{
	if (a < track_lo || a >= track_hi)
		return NULL;
	for (unsigned i = ntracks; i-- > 0;) {
		struct range *r = &ranges[tracks[i]];

		if (a >= r->lo && a < r->hi)
			return r;
	}
	return NULL;
}

const char *shadow_name(const void *addr, char *buf, size_t n)
{
	uintptr_t a = (uintptr_t)addr;
	const struct range *best = NULL;

	for (unsigned i = 0; i < nranges; i++) {
		const struct range *r = &ranges[i];

		if (a >= r->lo && a < r->hi &&
		    (best == NULL || r->hi - r->lo < best->hi - best->lo))
			best = r;
	}
	if (best && a == best->lo)
		snprintf(buf, n, "%s", best->name);
	else if (best)
		snprintf(buf, n, "%s+%lu", best->name,
			 (unsigned long)(a - best->lo));
	else
		snprintf(buf, n, "%p", addr);
	return buf;
}

const char *shadow_value(uint64_t v, size_t size, char *buf, size_t n)
{
	char name[80];

	if (size == 8 && v >= 4096) {
		for (unsigned i = 0; i < nranges; i++) {
			if (v >= ranges[i].lo && v < ranges[i].hi) {
				snprintf(buf, n, "&%s",
					 shadow_name((void *)(uintptr_t)v, name,
						     sizeof(name)));
				return buf;
			}
		}
	}
	if (v < 100000)
		snprintf(buf, n, "%llu", (unsigned long long)v);
	else
		snprintf(buf, n, "%#llx", (unsigned long long)v);
	return buf;
}

/* ---- shadow cells -------------------------------------------------------- */

struct access {
	uint32_t clk;		/* the accessor's own clock entry; 0: none */
	uint32_t step;
	const void *where;	/* code address, or SITE_TAG | site */
};

struct cell {
	struct access w;
	uint8_t w_tid;		/* 0: no write this schedule */
	bool w_atomic;
	uint8_t r_atomic;	/* bit t: thread t's last read was atomic */
	struct access r[MODEL_NT];
};

struct granule {
	uintptr_t key;		/* address >> 3 */
	unsigned gen;
	struct cell c[8];
};

/* User-space addresses leave the top bit free: it marks a site. */
#define SITE_TAG	((uintptr_t)1 << 63)

#define GRAN_BITS	13
#define GRAN_SIZE	(1u << GRAN_BITS)

static struct granule grans[GRAN_SIZE];
static unsigned gran_gen = 1, gran_used;

static struct granule *granule(uintptr_t key, bool insert)
{
	uint64_t x = key * 0x9e3779b97f4a7c15ull;
	size_t h = (size_t)(x >> (64 - GRAN_BITS));

	for (;;) {
		struct granule *g = &grans[h];

		if (g->gen != gran_gen) {
			if (!insert)
				return NULL;
			if (++gran_used > GRAN_SIZE * 3 / 4) {
				fprintf(stderr, "model: shadow table full\n");
				abort();
			}
			g->gen = gran_gen;
			g->key = key;
			memset(g->c, 0, sizeof(g->c));
			return g;
		}
		if (g->key == key)
			return g;
		h = (h + 1) & (GRAN_SIZE - 1);
	}
}

void shadow_reset_execution(void)
{
	if (++gran_gen == 0) {
		memset(grans, 0, sizeof(grans));
		gran_gen = 1;
	}
	gran_used = 0;
	nranges = 0;
	ntracks = 0;
	track_lo = UINTPTR_MAX;
	track_hi = 0;
	heap_used = 0;
	heap_objects = 0;
}

static const char *where_str(const void *where, char *buf, size_t n)
{
	if ((uintptr_t)where & SITE_TAG) {
		const struct model_site *s =
			(const void *)((uintptr_t)where & ~SITE_TAG);

		snprintf(buf, n, "%s:%d %s", s->file, s->line, s->func);
		return buf;
	}
	return trace_symbolize(where, buf, n);
}

static _Noreturn void race(uintptr_t a, bool write, bool atomic,
			   const void *where, bool prev_write, bool prev_atomic,
			   unsigned prev_tid, const struct access *prev)
{
	char name[96], here[256], there[256];

	model_fail("data race on %s: %s%s by %s at %s, and %s%s by %s at "
		   "step %u (%s), not ordered by happens-before",
		   shadow_name((void *)a, name, sizeof(name)),
		   atomic ? "atomic " : "", write ? "write" : "read",
		   self()->name, where_str(where, here, sizeof(here)),
		   prev_atomic ? "atomic " : "", prev_write ? "write" : "read",
		   M.t[prev_tid].name, prev->step,
		   where_str(prev->where, there, sizeof(there)));
}

static _Noreturn void use_after_free(const struct range *r, bool write,
				     const void *where)
{
	char here[256];

	model_fail("use after free: %s of %s by %s at %s; %s freed it at "
		   "step %lu", write ? "write" : "read", r->name, self()->name,
		   where_str(where, here, sizeof(here)), M.t[r->freed_by].name,
		   r->freed_step);
}

/* Check one byte's cell for an access by thread t and record it. */
static void cell_access(struct cell *c, uintptr_t a, bool write, bool atomic,
			const void *where)
{
	unsigned t = M.cur;
	const struct vclock *C = &M.t[t].clock;

	if (c->w_tid && c->w_tid != t && c->w.clk > C->c[c->w_tid] &&
	    !(atomic && c->w_atomic))
		race(a, write, atomic, where, true, c->w_atomic, c->w_tid, &c->w);
	if (write) {
		for (unsigned u = 1; u < MODEL_NT; u++) {
			bool ra = (c->r_atomic >> u) & 1;

			if (u != t && c->r[u].clk > C->c[u] && !(atomic && ra))
				race(a, write, atomic, where, false, ra, u,
				     &c->r[u]);
		}
		c->w = (struct access){ C->c[t], (uint32_t)M.steps, where };
		c->w_tid = (uint8_t)t;
		c->w_atomic = atomic;
		memset(c->r, 0, sizeof(c->r));
		c->r_atomic = 0;
	} else {
		c->r[t] = (struct access){ C->c[t], (uint32_t)M.steps, where };
		if (atomic)
			c->r_atomic |= (uint8_t)(1u << t);
		else
			c->r_atomic &= (uint8_t)~(1u << t);
	}
}

void shadow_access(const void *addr, size_t size, bool write, bool atomic,
		   const void *pc, struct model_site *site)
{
	uintptr_t a = (uintptr_t)addr, end = a + size;
	const void *where = site ? (const void *)((uintptr_t)site | SITE_TAG) : pc;
	struct range *r;

	if (!model_running() || M.cur == 0 || end <= track_lo || a >= track_hi)
		return;
	while (a < end) {
		uintptr_t stop;

		r = tracked(a);
		if (r == NULL) {
			a++;
			continue;
		}
		if (r->freed)
			use_after_free(r, write, where);
		stop = end < r->hi ? end : r->hi;
		while (a < stop) {
			struct granule *g = granule(a >> 3, true);

			do {
				cell_access(&g->c[a & 7], a, write, atomic, where);
				a++;
			} while (a < stop && (a & 7));
		}
	}
}

void shadow_check_live(const void *addr, size_t size, struct model_site *site)
{
	uintptr_t a = (uintptr_t)addr;
	struct range *r;

	if (!model_running())
		return;
	for (; a < (uintptr_t)addr + size; a++) {
		r = tracked(a);
		if (r && r->freed)
			use_after_free(r, false, (void *)((uintptr_t)site | SITE_TAG));
	}
}

/* ---- the heap and object lifetimes ------------------------------------------ */

void *shadow_alloc(size_t size, size_t align, bool zero)
{
	size_t off = (heap_used + align - 1) & ~(align - 1);
	char *p;

	if (size == 0)
		return NULL;
	if (off + size > HEAP_SIZE || heap_objects == MAX_RANGES) {
		fprintf(stderr, "model: the model heap is full\n");
		abort();
	}
	p = heap + off;
	heap_used = off + size;
	if (zero)
		memset(p, 0, size);
	snprintf(heap_names[heap_objects], sizeof(heap_names[0]), "heap#%u",
		 heap_objects);
	add_range(p, size, heap_names[heap_objects++], true);
	return p;
}

void shadow_free(void *p, const void *pc)
{
	struct range *r = NULL;

	if (p == NULL)
		return;
	for (unsigned i = 0; i < nranges; i++)
		if (ranges[i].track && ranges[i].lo == (uintptr_t)p)
			r = &ranges[i];
	if (r == NULL)
		model_fail("free of %p: not an object the model knows", p);
	if (r->freed)
		model_fail("double free of %s: %s freed it at step %lu, now %s",
			   r->name, M.t[r->freed_by].name, r->freed_step,
			   M.t[M.cur].name);
	/* Freeing writes every byte: every earlier access must be ordered
	 * before it. */
	shadow_access(p, r->hi - r->lo, true, false, pc, NULL);
	r->freed = true;
	r->freed_by = (uint8_t)M.cur;
	r->freed_step = M.steps;
}

void model_free(void *p)
{
	shadow_free(p, __builtin_return_address(0));
}

/* ---- memcpy, memset and the compiler's hooks --------------------------------- */

void *model_memcpy(struct model_site *site, void *dst, const void *src,
		   size_t n)
{
	shadow_access(src, n, false, false, NULL, site);
	shadow_access(dst, n, true, false, NULL, site);
	return memcpy(dst, src, n);
}

void *model_memset(struct model_site *site, void *dst, int c, size_t n)
{
	shadow_access(dst, n, true, false, NULL, site);
	return memset(dst, c, n);
}

#define PC()	__builtin_return_address(0)

/* The ThreadSanitizer entry points GCC emits (see the file header). */
void __tsan_init(void);
void __tsan_read1(void *p);
void __tsan_read2(void *p);
void __tsan_read4(void *p);
void __tsan_read8(void *p);
void __tsan_read16(void *p);
void __tsan_write1(void *p);
void __tsan_write2(void *p);
void __tsan_write4(void *p);
void __tsan_write8(void *p);
void __tsan_write16(void *p);
void __tsan_unaligned_read2(void *p);
void __tsan_unaligned_read4(void *p);
void __tsan_unaligned_read8(void *p);
void __tsan_unaligned_read16(void *p);
void __tsan_unaligned_write2(void *p);
void __tsan_unaligned_write4(void *p);
void __tsan_unaligned_write8(void *p);
void __tsan_unaligned_write16(void *p);
void __tsan_read_range(void *p, size_t n);
void __tsan_write_range(void *p, size_t n);
void __tsan_func_entry(void *pc);
void __tsan_func_exit(void);

void __tsan_init(void) {}
void __tsan_func_entry(void *pc) { (void)pc; }
void __tsan_func_exit(void) {}

#define TSAN_ACCESS(name, n, w)						\
	void name(void *p)						\
	{								\
		if (model_running())					\
			shadow_access(p, n, w, false, PC(), NULL);	\
	}

TSAN_ACCESS(__tsan_read1, 1, false)
TSAN_ACCESS(__tsan_read2, 2, false)
TSAN_ACCESS(__tsan_read4, 4, false)
TSAN_ACCESS(__tsan_read8, 8, false)
TSAN_ACCESS(__tsan_read16, 16, false)
TSAN_ACCESS(__tsan_write1, 1, true)
TSAN_ACCESS(__tsan_write2, 2, true)
TSAN_ACCESS(__tsan_write4, 4, true)
TSAN_ACCESS(__tsan_write8, 8, true)
TSAN_ACCESS(__tsan_write16, 16, true)
TSAN_ACCESS(__tsan_unaligned_read2, 2, false)
TSAN_ACCESS(__tsan_unaligned_read4, 4, false)
TSAN_ACCESS(__tsan_unaligned_read8, 8, false)
TSAN_ACCESS(__tsan_unaligned_read16, 16, false)
TSAN_ACCESS(__tsan_unaligned_write2, 2, true)
TSAN_ACCESS(__tsan_unaligned_write4, 4, true)
TSAN_ACCESS(__tsan_unaligned_write8, 8, true)
TSAN_ACCESS(__tsan_unaligned_write16, 16, true)

void __tsan_read_range(void *p, size_t n)
{
	if (model_running())
		shadow_access(p, n, false, false, PC(), NULL);
}

void __tsan_write_range(void *p, size_t n)
{
	if (model_running())
		shadow_access(p, n, true, false, PC(), NULL);
}
