/*
 * memory.c - atomic operations under the model: values, happens-before,
 * store buffers, checker locks and the mutations applied to them.
 *
 * Values.  SC mode has one memory: an operation reads and writes the
 * object itself.  TSO mode (x86-TSO, Owens, Sarkar & Sewell 2009) gives
 * each thread a FIFO store buffer: a store (any order but seq_cst; C11's
 * relaxed and release stores and atomic_init are plain MOVs on x86) goes
 * into it, a load reads the newest own buffered store to the object first,
 * then memory; an RMW, a CAS, a seq_cst store or fence, a lock or unlock
 * drains the buffer first (locked instructions and MFENCE do).  When a
 * buffer drains its oldest store is a scheduling choice (engine.c), so the
 * search covers every moment a store can become visible.
 *
 * Happens-before (independent of the mode).  Each thread has a vector
 * clock; an atomic location keeps the clock its latest store released.
 * A release store sets it to the storer's clock (a relaxed one to the
 * clock of the storer's last release fence, or empty: it ends the release
 * sequence), an RMW joins its release into it (an RMW continues the
 * release sequence whatever its order), an acquire load joins it into the
 * loader's clock (a relaxed one keeps it for a later acquire fence).  Lock
 * and unlock are acquire and release.  seq_cst counts as acq_rel: the code
 * under test uses none.  shadow.c checks every plain access against these
 * clocks, so an order too weak for the data it publishes is reported as a
 * data race even though an x86 would never show it.
 *
 * Sharing.  Which threads read and write each location is remembered
 * across the runs of one search; only locations that two threads touch,
 * one writing, are scheduling points (engine.c says why that is enough).
 *
 * The checker's locks, which use the same tables, are in locks.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/model/checker.h"

/* ---- location tables ---------------------------------------------------- */

/* Which threads touched a location, over every run of one search. */
struct share {
	const void *addr;
	uint8_t readers, writers;
	unsigned long points;	/* scheduling points it made (--stats) */
};

#define LOC_BITS	14
#define LOC_SIZE	(1u << LOC_BITS)

static struct loc locs[LOC_SIZE];
static unsigned loc_gen = 1, loc_used;
static struct share shares[LOC_SIZE];
static unsigned shares_used;

static inline size_t hash_addr(const void *a)
{
	uint64_t x = (uint64_t)(uintptr_t)a;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return (size_t)(x >> (64 - LOC_BITS));
}

struct loc *loc_get(const void *addr)
{
	size_t h = hash_addr(addr);

	for (;;) {
		struct loc *l = &locs[h];

		if (l->gen != loc_gen) {
			if (++loc_used > LOC_SIZE * 3 / 4) {
				fprintf(stderr, "model: too many atomic locations\n");
				abort();
			}
			l->gen = loc_gen;
			l->addr = addr;
			l->lock_owner = 0;
			vc_clear(&l->sync);
			return l;
		}
		if (l->addr == addr)
			return l;
		h = (h + 1) & (LOC_SIZE - 1);
	}
}

static struct share *share_find(const void *addr, bool insert)
{
	size_t h = hash_addr(addr);

	for (;;) {
		struct share *s = &shares[h];

		if (s->addr == addr)
			return s;
		if (s->addr == NULL) {
			if (!insert)
				return NULL;
			if (++shares_used > LOC_SIZE * 3 / 4) {
				fprintf(stderr, "model: too many shared locations\n");
				abort();
			}
			s->addr = addr;
			return s;
		}
		h = (h + 1) & (LOC_SIZE - 1);
	}
}

static bool is_shared(const struct share *s)
{
	return s->writers && __builtin_popcount(s->readers | s->writers) >= 2;
}

bool mem_shared(const void *addr)
{
	struct share *s = share_find(addr, false);

	if (s && is_shared(s)) {
		s->points++;
		return true;
	}
	return false;
}

void mem_print_shared(void)
{
	char name[96];

	for (unsigned i = 0; i < LOC_SIZE; i++) {
		const struct share *s = &shares[i];

		if (s->addr && is_shared(s))
			printf("    %-28s readers %#04x writers %#04x points %lu\n",
			       shadow_name(s->addr, name, sizeof(name)),
			       s->readers, s->writers, s->points);
	}
}

/* The current thread read or wrote `addr`. */
void share_note(const void *addr, bool write)
{
	struct share *s = share_find(addr, true);
	bool was = is_shared(s);
	uint8_t bit = (uint8_t)(1u << M.cur);

	if (write)
		s->writers |= bit;
	else
		s->readers |= bit;
	if (!was && is_shared(s))
		M.share_dirty = true;
}

void mem_reset_execution(void)
{
	if (++loc_gen == 0) {
		memset(locs, 0, sizeof(locs));
		loc_gen = 1;
	}
	loc_used = 0;
}

void mem_reset_search(void)
{
	memset(shares, 0, sizeof(shares));
	shares_used = 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static uint64_t rd(const void *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

static void wr(void *p, size_t n, uint64_t v)
{
	memcpy(p, &v, n);
}

static bool has_acquire(int o)
{
	return o == memory_order_acquire || o == memory_order_acq_rel ||
	       o == memory_order_seq_cst || o == memory_order_consume;
}

static bool has_release(int o)
{
	return o == memory_order_release || o == memory_order_acq_rel ||
	       o == memory_order_seq_cst;
}

/* The store half of an RMW's order (a split RMW stores with it). */
static int store_part(int o)
{
	if (o == memory_order_acq_rel)
		return memory_order_release;
	if (o == memory_order_acquire || o == memory_order_consume)
		return memory_order_relaxed;
	return o;
}

/* After a release, later events are not covered by what it published. */
void tick(struct mthread *t)
{
	t->clock.c[t - M.t]++;
}

static void acquire_from(struct mthread *t, const struct loc *l, int order)
{
	if (has_acquire(order))
		vc_join(&t->clock, &l->sync);
	else
		vc_join(&t->acq_pending, &l->sync);
}

/* The clock a store by t with `order` releases. */
static void release_clock(const struct mthread *t, int order,
			  struct vclock *out)
{
	if (has_release(order))
		*out = t->clock;
	else if (t->has_rel_fence)
		*out = t->rel_fence;
	else
		vc_clear(out);
}

static uint64_t rmw_apply(enum model_rmw op, uint64_t old, uint64_t arg,
			  size_t size)
{
	uint64_t r = arg;

	switch (op) {
	case MODEL_RMW_XCHG:	r = arg; break;
	case MODEL_RMW_ADD:	r = old + arg; break;
	case MODEL_RMW_SUB:	r = old - arg; break;
	case MODEL_RMW_AND:	r = old & arg; break;
	case MODEL_RMW_OR:	r = old | arg; break;
	case MODEL_RMW_XOR:	r = old ^ arg; break;
	}
	if (size < 8)
		r &= (1ull << (size * 8)) - 1;
	return r;
}

void trace_op(enum ev_kind kind, const void *addr, size_t size, int order,
	      uint64_t v1, uint64_t v2, struct model_site *site,
	      unsigned flags, const char *note)
{
	struct trace_ev e = {
		.tid = (uint8_t)M.cur, .kind = (uint8_t)kind,
		.size = (uint8_t)size, .order = (int8_t)order,
		.flags = (uint16_t)flags, .addr = addr, .v1 = v1, .v2 = v2,
		.site = site, .note = note,
	};

	trace_add(&e);
}

/* Spinners may look again: a store they may wait for became visible. */
static void wake_spinners(void)
{
	M.epoch++;
	for (unsigned i = 1; i <= M.nthreads; i++)
		if (i != M.cur && M.t[i].state == TS_YIELDED)
			M.t[i].state = TS_RUNNABLE;
}

/* ---- store buffers ---------------------------------------------------------- */

/* The value t sees at p: its newest buffered store there, else memory. */
static uint64_t view(struct mthread *t, const void *p, size_t n, bool *from_sb)
{
	for (unsigned i = t->sb_len; i-- > 0;) {
		const struct sb_entry *e = &t->sb[i];

		if (e->addr == p && e->size == n) {
			*from_sb = true;
			return e->value;
		}
		if ((const char *)e->addr < (const char *)p + n &&
		    (const char *)p < (const char *)e->addr + e->size) {
			char name[96];

			model_fail("mixed-size atomic accesses to %s",
				   shadow_name(p, name, sizeof(name)));
		}
	}
	*from_sb = false;
	return rd(p, n);
}

static void flush_entry(struct mthread *t, bool traced)
{
	struct sb_entry e = t->sb[0];

	memmove(&t->sb[0], &t->sb[1], (t->sb_len - 1) * sizeof(t->sb[0]));
	t->sb_len--;
	wr(e.addr, e.size, e.value);
	loc_get(e.addr)->sync = e.sync;
	if (traced) {
		struct trace_ev ev = {
			.tid = (uint8_t)(t - M.t), .kind = EV_FLUSH,
			.size = e.size, .order = -1, .addr = e.addr,
			.v2 = e.value, .site = e.site,
		};

		trace_add(&ev);
	}
	wake_spinners();
}

void sb_flush_one(struct mthread *t)
{
	if (t->sb_len)
		flush_entry(t, true);
}

void sb_drain(struct mthread *t)
{
	while (t->sb_len)
		flush_entry(t, true);
}

void sb_flush_private(struct mthread *t)
{
	while (t->sb_len && !mem_shared(t->sb[0].addr)) {
		engine_record((uint8_t)(OPT_FLUSH | (t - M.t)));
		flush_entry(t, false);
	}
}

static void sb_push(struct mthread *t, void *p, size_t n, uint64_t v,
		    const struct vclock *sync, struct model_site *site)
{
	struct sb_entry *e;

	if (t->sb_len == SB_MAX)
		flush_entry(t, true);	/* a full buffer drains */
	e = &t->sb[t->sb_len++];
	e->addr = p;
	e->size = (uint8_t)n;
	e->value = v;
	e->sync = *sync;
	e->site = site;
}

/* ---- the operations, once scheduled ------------------------------------------ */

static void do_store(struct mthread *t, void *obj, uint64_t v, size_t size,
		     int order, struct model_site *site, unsigned flags)
{
	struct vclock sync;

	release_clock(t, order, &sync);
	shadow_access(obj, size, true, true, NULL, site);
	if (M.mode == MODEL_TSO) {
		sb_push(t, obj, size, v, &sync, site);
		trace_op(EV_STORE, obj, size, order, 0, v, site,
			 flags | EVF_BUFFERED, NULL);
		if (order == memory_order_seq_cst)
			sb_drain(t);
	} else {
		wr(obj, size, v);
		loc_get(obj)->sync = sync;
		trace_op(EV_STORE, obj, size, order, 0, v, site, flags, NULL);
		wake_spinners();
	}
	if (has_release(order))
		tick(t);
	share_note(obj, true);
}

/*
 * The write of a read-modify-write that happens (an RMW, a CAS that
 * succeeds), after its read of l: it reads-from with `order`, and
 * releases the thread's clock (or what an earlier release fence holds).
 */
static void rmw_write(struct mthread *t, struct loc *l, void *obj, size_t size,
		      uint64_t v, int order, struct model_site *site)
{
	acquire_from(t, l, order);
	wr(obj, size, v);
	if (has_release(order))
		vc_join(&l->sync, &t->clock);
	else if (t->has_rel_fence)
		vc_join(&l->sync, &t->rel_fence);
	if (has_release(order))
		tick(t);
	shadow_access(obj, size, true, true, NULL, site);
	share_note(obj, true);
}

static uint64_t do_rmw(struct mthread *t, enum model_rmw op, void *obj,
		       uint64_t arg, size_t size, int order,
		       struct model_site *site, unsigned flags)
{
	struct loc *l;
	uint64_t old, new;

	if (M.mode == MODEL_TSO)
		sb_drain(t);
	l = loc_get(obj);
	old = rd(obj, size);
	new = rmw_apply(op, old, arg, size);
	rmw_write(t, l, obj, size, new, order, site);
	{
		struct trace_ev e = {
			.tid = (uint8_t)M.cur, .kind = EV_RMW, .rmw = (uint8_t)op,
			.size = (uint8_t)size, .order = (int8_t)order,
			.flags = (uint16_t)flags, .addr = obj, .v1 = old,
			.v2 = new, .site = site,
		};

		trace_add(&e);
	}
	if (new != old)
		wake_spinners();
	return old;
}

/* A load that a split RMW or CAS does first. */
static uint64_t do_load(struct mthread *t, const void *obj, size_t size,
			int order, struct model_site *site, unsigned flags)
{
	bool from_sb = false;
	uint64_t v;

	v = M.mode == MODEL_TSO ? view(t, obj, size, &from_sb) : rd(obj, size);
	if (!from_sb)
		acquire_from(t, loc_get(obj), order);
	shadow_access(obj, size, false, true, NULL, site);
	share_note(obj, false);
	trace_op(EV_LOAD, obj, size, order, v, 0, site,
		 flags | (from_sb ? EVF_FROM_SB : 0), NULL);
	return v;
}

/* ---- MUT_DEFER ------------------------------------------------------------ */

/* The postponed operation, now: a step like any other, with its own
 * scheduling point (the window it opened is open until here). */
static void run_deferred(struct mthread *t)
{
	struct deferred d = t->deferred;

	t->deferred.active = false;
	engine_point(mem_shared(d.obj));
	t = self();
	if (d.rmw)
		(void)do_rmw(t, d.op, d.obj, d.value, d.size, d.order, d.site,
			     EVF_MUTATED);
	else
		do_store(t, d.obj, d.value, d.size, d.order, d.site, EVF_MUTATED);
}

void mem_run_deferred(void)
{
	struct mthread *t = self();

	if (t->deferred.active)
		run_deferred(t);
}

static void run_deferred_for(const void *obj)
{
	struct mthread *t = self();

	if (t->deferred.active && t->deferred.obj == obj)
		run_deferred(t);
}

static bool defer(struct model_site *site, bool rmw, enum model_rmw op,
		  void *obj, uint64_t v, size_t size, int order)
{
	struct mthread *t = self();

	if (t->deferred.active)
		return false;	/* one at a time: this one runs in place */
	t->deferred = (struct deferred){ true, rmw, op, obj, v, size, order,
					 site };
	trace_op(EV_NOTE, obj, size, order, 0, v, site, EVF_MUTATED,
		 "postponed (mutation)");
	return true;
}

/* ---- entry points (tests/model/atomics.h) -------------------------------- */

void model_atomic_load(struct model_site *site, const void *obj, void *out,
		       size_t size, int order)
{
	const struct model_mutation *m;
	unsigned flags = 0;
	uint64_t v;

	if (!model_running()) {
		memcpy(out, obj, size);
		return;
	}
	m = mutation_at(site);
	if (m && m->kind == MUT_WEAKEN) {
		order = m->order;
		flags |= EVF_MUTATED;
	}
	run_deferred_for(obj);
	engine_point(mem_shared(obj));
	if (m && m->kind == MUT_FORCE)
		flags |= EVF_MUTATED;
	v = do_load(self(), obj, size, order, site, flags);
	if (m && m->kind == MUT_FORCE)
		v = m->value;
	wr(out, size, v);
	engine_after_op();
}

void model_atomic_store(struct model_site *site, void *obj, const void *in,
			size_t size, int order)
{
	const struct model_mutation *m;
	uint64_t v = rd(in, size);
	unsigned flags = 0;

	if (!model_running()) {
		memcpy(obj, in, size);
		return;
	}
	m = mutation_at(site);
	if (m) {
		switch (m->kind) {
		case MUT_SKIP:
			trace_op(EV_NOTE, obj, size, order, 0, v, site,
				 EVF_MUTATED, "store left out (mutation)");
			return;
		case MUT_DEFER:
			if (defer(site, false, MODEL_RMW_XCHG, obj, v, size, order))
				return;
			break;
		case MUT_WEAKEN:
			order = m->order;
			flags |= EVF_MUTATED;
			break;
		default:
			break;
		}
	}
	run_deferred_for(obj);
	engine_point(mem_shared(obj));
	do_store(self(), obj, v, size, order, site, flags);
	engine_after_op();
}

void model_atomic_rmw(struct model_site *site, enum model_rmw op, void *obj,
		      void *inout, size_t size, int order)
{
	const struct model_mutation *m;
	uint64_t arg = rd(inout, size), old;
	unsigned flags = 0;

	if (!model_running()) {
		old = rd(obj, size);
		wr(obj, size, rmw_apply(op, old, arg, size));
		wr(inout, size, old);
		return;
	}
	m = mutation_at(site);
	if (m) {
		bool from_sb;

		switch (m->kind) {
		case MUT_SKIP:
			run_deferred_for(obj);
			engine_point(mem_shared(obj));
			old = do_load(self(), obj, size, memory_order_relaxed,
				      site, EVF_MUTATED);
			trace_op(EV_NOTE, obj, size, order, 0, arg, site,
				 EVF_MUTATED, "read-modify-write left out (mutation)");
			wr(inout, size, old);
			engine_after_op();
			return;
		case MUT_DEFER:
			old = view(self(), obj, size, &from_sb);
			if (defer(site, true, op, obj, arg, size, order)) {
				wr(inout, size, old);
				return;
			}
			break;
		case MUT_SPLIT:
			run_deferred_for(obj);
			engine_point(mem_shared(obj));
			old = do_load(self(), obj, size, order, site,
				      EVF_MUTATED | EVF_SPLIT);
			engine_after_op();
			engine_point(mem_shared(obj));
			do_store(self(), obj, rmw_apply(op, old, arg, size), size,
				 store_part(order), site, EVF_MUTATED | EVF_SPLIT);
			engine_after_op();
			wr(inout, size, old);
			return;
		case MUT_WEAKEN:
			order = m->order;
			flags |= EVF_MUTATED;
			break;
		case MUT_FORCE:
			flags |= EVF_MUTATED;
			break;
		default:
			break;
		}
	}
	run_deferred_for(obj);
	engine_point(mem_shared(obj));
	old = do_rmw(self(), op, obj, arg, size, order, site, flags);
	if (m && m->kind == MUT_FORCE)
		old = m->value;
	wr(inout, size, old);
	engine_after_op();
}

bool model_atomic_cas(struct model_site *site, bool weak, void *obj,
		      void *expected, const void *desired, size_t size,
		      int success, int failure)
{
	const struct model_mutation *m;
	uint64_t exp = rd(expected, size), des = rd(desired, size), cur;
	unsigned flags = 0;
	struct mthread *t;
	struct loc *l;

	(void)weak;	/* a weak CAS never fails spuriously here */
	if (!model_running()) {
		cur = rd(obj, size);
		if (cur == exp) {
			wr(obj, size, des);
			return true;
		}
		wr(expected, size, cur);
		return false;
	}
	m = mutation_at(site);
	if (m && m->kind == MUT_WEAKEN) {
		success = m->order;
		if (!has_acquire(success))
			failure = memory_order_relaxed;
		flags |= EVF_MUTATED;
	}
	run_deferred_for(obj);
	if (m && m->kind == MUT_SPLIT) {
		engine_point(mem_shared(obj));
		cur = do_load(self(), obj, size, success, site,
			      EVF_MUTATED | EVF_SPLIT);
		engine_after_op();
		if (cur != exp) {
			wr(expected, size, cur);
			return false;
		}
		engine_point(mem_shared(obj));
		do_store(self(), obj, des, size, store_part(success), site,
			 EVF_MUTATED | EVF_SPLIT);
		engine_after_op();
		return true;
	}
	engine_point(mem_shared(obj));
	t = self();
	if (M.mode == MODEL_TSO)
		sb_drain(t);	/* LOCK CMPXCHG drains, even when it fails */
	l = loc_get(obj);
	cur = rd(obj, size);
	if (cur == exp && !(m && m->kind == MUT_SKIP)) {
		rmw_write(t, l, obj, size, des, success, site);
		trace_op(EV_CAS_OK, obj, size, success, exp, des, site, flags,
			 NULL);
		if (des != cur)
			wake_spinners();
		engine_after_op();
		return !(m && m->kind == MUT_FORCE) || m->value != 0;
	}
	acquire_from(t, l, failure);
	shadow_access(obj, size, false, true, NULL, site);
	share_note(obj, false);
	trace_op(EV_CAS_FAIL, obj, size, failure, cur, exp, site,
		 flags | (m && m->kind == MUT_SKIP ? EVF_MUTATED : 0), NULL);
	wr(expected, size, cur);
	engine_after_op();
	return m && m->kind == MUT_FORCE && m->value != 0;
}

void model_atomic_init(struct model_site *site, void *obj, const void *in,
		       size_t size)
{
	struct mthread *t;
	uint64_t v = rd(in, size);

	if (!model_running()) {
		memcpy(obj, in, size);
		return;
	}
	t = self();
	/* A plain store: it races with any unordered access. */
	shadow_access(obj, size, true, false, NULL, site);
	if (M.mode == MODEL_TSO) {
		struct vclock none;

		vc_clear(&none);
		sb_push(t, obj, size, v, &none, site);
	} else {
		wr(obj, size, v);
		vc_clear(&loc_get(obj)->sync);
	}
	share_note(obj, true);
	trace_op(EV_INIT, obj, size, -1, 0, v, site,
		 M.mode == MODEL_TSO ? EVF_BUFFERED : 0, NULL);
}

void model_atomic_fence(struct model_site *site, int order)
{
	const struct model_mutation *m;
	unsigned flags = 0;
	struct mthread *t;

	if (!model_running())
		return;
	m = mutation_at(site);
	if (m && m->kind == MUT_WEAKEN) {
		order = m->order;
		flags |= EVF_MUTATED;
	}
	t = self();
	if (order == memory_order_seq_cst && M.mode == MODEL_TSO) {
		engine_point(true);
		t = self();
		sb_drain(t);
	}
	if (has_acquire(order))
		vc_join(&t->clock, &t->acq_pending);
	if (has_release(order)) {
		t->rel_fence = t->clock;
		t->has_rel_fence = true;
		tick(t);
	}
	trace_op(EV_FENCE, NULL, 0, order, 0, 0, site, flags, NULL);
}
