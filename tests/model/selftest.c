/*
 * selftest.c - litmus tests of the checker itself.
 *
 * Small programs whose outcome under each memory model is known (Owens,
 * Sarkar & Sewell, "A better x86 memory model: x86-TSO"; the C11 rules for
 * release sequences and fences).  `model` runs them first and stops if
 * any comes out otherwise: a checker that cannot see store buffering, or
 * that misses a message passed without release/acquire, would pass every
 * scenario for the wrong reason.
 *
 *   sb          store buffering: r1 = r2 = 0 is reachable under TSO only
 *   sb_fence    the same with seq_cst fences: never
 *   mp_relaxed  data published by a relaxed flag: a data race
 *   mp_release  the same with release/acquire: fine
 *   mp_fence    relaxed flag between release and acquire fences: fine
 *   mp_rmw      a relaxed RMW in the middle of the release sequence: fine
 *   mp_store    a relaxed store in the middle ends the sequence: a race
 *   lost_update a load and a store instead of an RMW: an update lost
 *   lock        a plain counter under a checker lock: fine
 *   deadlock    two locks taken in opposite orders: a deadlock
 *   uaf         a read after model_free(): a use after free
 */
#include "spinlock.h"
#include "tests/model/model.h"
#include "tests/model/selftest.h"

static struct {
	atomic_int x, y, flag;
	int r1, r2;
	int data;
	int counter;
	struct spinlock a, b;
} L;

static void setup_common(void)
{
	memset(&L, 0, sizeof(L));
	model_track(&L, sizeof(L), "L");
	model_name(&L.x, sizeof(L.x), "x");
	model_name(&L.y, sizeof(L.y), "y");
	model_name(&L.flag, sizeof(L.flag), "flag");
	model_name(&L.data, sizeof(L.data), "data");
}

/* ---- store buffering ----------------------------------------------------- */

static bool sb_fenced;

static void sb_t1(void *arg)
{
	(void)arg;
	atomic_store_explicit(&L.x, 1, memory_order_relaxed);
	if (sb_fenced)
		atomic_thread_fence(memory_order_seq_cst);
	L.r1 = atomic_load_explicit(&L.y, memory_order_relaxed);
}

static void sb_t2(void *arg)
{
	(void)arg;
	atomic_store_explicit(&L.y, 1, memory_order_relaxed);
	if (sb_fenced)
		atomic_thread_fence(memory_order_seq_cst);
	L.r2 = atomic_load_explicit(&L.x, memory_order_relaxed);
}

static void sb_setup(void)
{
	setup_common();
	sb_fenced = false;
	model_spawn("T1", sb_t1, NULL);
	model_spawn("T2", sb_t2, NULL);
}

static void sb_fence_setup(void)
{
	sb_setup();
	sb_fenced = true;
}

static void sb_check(void)
{
	model_check(L.r1 || L.r2, "r1 = r2 = 0");
}

/* ---- message passing ------------------------------------------------------ */

enum mp_kind { MP_RELAXED, MP_RELEASE, MP_FENCE, MP_RMW, MP_STORE };
static enum mp_kind mp;

static void mp_writer(void *arg)
{
	(void)arg;
	L.data = 42;
	switch (mp) {
	case MP_RELAXED:
		atomic_store_explicit(&L.flag, 1, memory_order_relaxed);
		break;
	case MP_FENCE:
		atomic_thread_fence(memory_order_release);
		atomic_store_explicit(&L.flag, 1, memory_order_relaxed);
		break;
	default:
		atomic_store_explicit(&L.flag, 1, memory_order_release);
		break;
	}
}

/* MP_RMW / MP_STORE: a third thread touches the flag in between. */
static void mp_middle(void *arg)
{
	(void)arg;
	while (atomic_load_explicit(&L.flag, memory_order_relaxed) != 1)
		model_yield();
	if (mp == MP_RMW)
		atomic_fetch_add_explicit(&L.flag, 1, memory_order_relaxed);
	else
		atomic_store_explicit(&L.flag, 2, memory_order_relaxed);
}

static void mp_reader(void *arg)
{
	int want = mp == MP_RMW || mp == MP_STORE ? 2 : 1;

	(void)arg;
	if (mp == MP_FENCE) {
		while (atomic_load_explicit(&L.flag, memory_order_relaxed) != want)
			model_yield();
		atomic_thread_fence(memory_order_acquire);
	} else {
		int order = mp == MP_RELAXED ? memory_order_relaxed :
			    memory_order_acquire;

		while (atomic_load_explicit(&L.flag, order) != want)
			model_yield();
	}
	model_check(L.data == 42, "data %d", L.data);
}

static void mp_setup_kind(enum mp_kind k)
{
	setup_common();
	mp = k;
	model_spawn("writer", mp_writer, NULL);
	if (k == MP_RMW || k == MP_STORE)
		model_spawn("middle", mp_middle, NULL);
	model_spawn("reader", mp_reader, NULL);
}

static void mp_relaxed_setup(void) { mp_setup_kind(MP_RELAXED); }
static void mp_release_setup(void) { mp_setup_kind(MP_RELEASE); }
static void mp_fence_setup(void) { mp_setup_kind(MP_FENCE); }
static void mp_rmw_setup(void) { mp_setup_kind(MP_RMW); }
static void mp_store_setup(void) { mp_setup_kind(MP_STORE); }

/* ---- atomicity, locks, lifetimes ---------------------------------------- */

static void lu_thread(void *arg)
{
	int v = atomic_load_explicit(&L.x, memory_order_relaxed);

	(void)arg;
	atomic_store_explicit(&L.x, v + 1, memory_order_relaxed);
}

static void lu_setup(void)
{
	setup_common();
	model_spawn("T1", lu_thread, NULL);
	model_spawn("T2", lu_thread, NULL);
}

static void lu_check(void)
{
	model_check(atomic_load_explicit(&L.x, memory_order_relaxed) == 2,
		    "x = %d", atomic_load_explicit(&L.x, memory_order_relaxed));
}

static void lock_thread(void *arg)
{
	(void)arg;
	spin_lock(&L.a);
	L.counter++;
	spin_unlock(&L.a);
}

static void lock_setup(void)
{
	setup_common();
	spin_init(&L.a);
	model_spawn("T1", lock_thread, NULL);
	model_spawn("T2", lock_thread, NULL);
}

static void lock_check(void)
{
	model_check(L.counter == 2, "counter %d", L.counter);
}

static void dl_ab(void *arg)
{
	(void)arg;
	spin_lock(&L.a);
	spin_lock(&L.b);
	spin_unlock(&L.b);
	spin_unlock(&L.a);
}

static void dl_ba(void *arg)
{
	(void)arg;
	spin_lock(&L.b);
	spin_lock(&L.a);
	spin_unlock(&L.a);
	spin_unlock(&L.b);
}

static void dl_setup(void)
{
	setup_common();
	spin_init(&L.a);
	spin_init(&L.b);
	model_spawn("T1", dl_ab, NULL);
	model_spawn("T2", dl_ba, NULL);
}

static int *uaf_obj;

static void uaf_freer(void *arg)
{
	(void)arg;
	model_free(uaf_obj);
	atomic_store_explicit(&L.flag, 1, memory_order_release);
}

static void uaf_user(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&L.flag, memory_order_acquire))
		model_yield();
	model_check(*uaf_obj == 0, "freed object changed");
}

static void uaf_setup(void)
{
	static int obj;

	setup_common();
	obj = 0;
	uaf_obj = &obj;
	model_track(&obj, sizeof(obj), "obj");
	model_spawn("freer", uaf_freer, NULL);
	model_spawn("user", uaf_user, NULL);
}

#define LITMUS(n, s, c, sc, tso)					\
	{ { .name = n, .what = n, .setup = s, .check = c,		\
	    .modes = MODEL_SC | MODEL_TSO }, sc, tso }

const struct model_litmus model_litmus[] = {
	LITMUS("sb", sb_setup, sb_check, false, true),
	LITMUS("sb_fence", sb_fence_setup, sb_check, false, false),
	LITMUS("mp_relaxed", mp_relaxed_setup, NULL, true, true),
	LITMUS("mp_release", mp_release_setup, NULL, false, false),
	LITMUS("mp_fence", mp_fence_setup, NULL, false, false),
	LITMUS("mp_rmw", mp_rmw_setup, NULL, false, false),
	LITMUS("mp_store", mp_store_setup, NULL, true, true),
	LITMUS("lost_update", lu_setup, lu_check, true, true),
	LITMUS("lock", lock_setup, lock_check, false, false),
	LITMUS("deadlock", dl_setup, NULL, true, true),
	LITMUS("uaf", uaf_setup, NULL, true, true),
};

const unsigned model_n_litmus = ARRAY_SIZE(model_litmus);
