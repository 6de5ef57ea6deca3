/*
 * locks.c - the checker's spin locks (tests/model/override/spinlock.h).
 *
 * A lock is one primitive to the checker, not the TTAS loop of
 * include/spinlock.h: taking it is an acquire (the taker's clock joins the
 * clock the last unlock released), releasing it a release, and a thread
 * that finds it held blocks until the holder releases it (no spinning
 * states to explore); a thread that would block forever is a deadlock.
 * Each attempt and each release is a scheduling point when the lock word
 * is shared, and drains the caller's store buffer under TSO (a locked
 * exchange does; the real unlock is a plain store, which the model makes
 * stronger: docs/MODEL.md).  MUT_NOLOCK leaves a lock and its unlock out.
 */
#include <stdio.h>

#include "tests/model/checker.h"

static void lock_take(atomic_bool *word, struct model_site *site)
{
	struct mthread *t = self();
	struct loc *l = loc_get(word);

	*(bool *)word = true;
	l->lock_owner = (uint8_t)M.cur;
	vc_join(&t->clock, &l->sync);
	trace_op(EV_LOCK, word, 1, memory_order_acquire, 0, 1, site, 0, NULL);
	engine_after_op();
}

/* MUT_NOLOCK: this lock and its unlock are left out. */
static bool lock_elided(struct model_site *site, atomic_bool *word)
{
	const struct model_mutation *m = mutation_at(site);

	if (m == NULL || m->kind != MUT_NOLOCK)
		return false;
	self()->elided_lock = word;
	trace_op(EV_NOTE, word, 1, -1, 0, 0, site, EVF_MUTATED,
		 "lock left out (mutation)");
	return true;
}

/* One attempt: scheduling point, drain, look. */
static bool lock_attempt(atomic_bool *word, struct model_site *site)
{
	engine_point(mem_shared(word));
	if (M.mode == MODEL_TSO)
		sb_drain(self());
	shadow_access(word, 1, true, true, NULL, site);
	share_note(word, true);
	if (*(bool *)word)
		return false;
	lock_take(word, site);
	return true;
}

void model_spin_init(struct model_site *site, atomic_bool *word)
{
	bool f = false;

	model_atomic_init(site, word, &f, sizeof(f));
}

bool model_spin_trylock(struct model_site *site, atomic_bool *word)
{
	if (!model_running()) {
		if (*(bool *)word)
			return false;
		*(bool *)word = true;
		return true;
	}
	mem_run_deferred();
	if (lock_elided(site, word))
		return true;
	if (lock_attempt(word, site))
		return true;
	trace_op(EV_TRYLOCK_FAIL, word, 1, -1, 1, 0, site, 0, NULL);
	engine_after_op();
	return false;
}

void model_spin_lock(struct model_site *site, atomic_bool *word)
{
	if (!model_running()) {
		*(bool *)word = true;
		return;
	}
	mem_run_deferred();
	if (lock_elided(site, word))
		return;
	while (!lock_attempt(word, site)) {
		trace_op(EV_LOCK_WAIT, word, 1, -1, 1, 0, site, 0, NULL);
		engine_block(TS_BLOCKED_LOCK, word);
	}
}

void model_spin_unlock(struct model_site *site, atomic_bool *word)
{
	struct mthread *t;
	struct loc *l;

	if (!model_running()) {
		*(bool *)word = false;
		return;
	}
	mem_run_deferred();
	t = self();
	if (t->elided_lock == word) {
		t->elided_lock = NULL;
		trace_op(EV_NOTE, word, 1, -1, 0, 0, site, EVF_MUTATED,
			 "unlock left out (mutation)");
		return;
	}
	engine_point(mem_shared(word));
	t = self();
	if (M.mode == MODEL_TSO)
		sb_drain(t);
	l = loc_get(word);
	if (!*(bool *)word || l->lock_owner != M.cur) {
		char name[96];

		model_fail("spin_unlock: %s is not held by %s",
			   shadow_name(word, name, sizeof(name)), t->name);
	}
	shadow_access(word, 1, true, true, NULL, site);
	share_note(word, true);
	*(bool *)word = false;
	l->lock_owner = 0;
	l->sync = t->clock;
	tick(t);
	for (unsigned i = 1; i <= M.nthreads; i++)
		if (M.t[i].state == TS_BLOCKED_LOCK && M.t[i].block_on == word)
			engine_unblock(&M.t[i]);
	trace_op(EV_UNLOCK, word, 1, memory_order_release, 1, 0, site, 0, NULL);
	engine_after_op();
}

bool model_spin_is_locked(struct model_site *site, atomic_bool *word)
{
	bool v;

	model_atomic_load(site, word, &v, sizeof(v), memory_order_relaxed);
	return v;
}
