/*
 * stress_sched.c - producers, an owner, thieves and wakers on schedulers.
 *
 * PRODUCERS threads spawn tasks onto scheduler 0 (some into the injector),
 * keep join handles for some and cancel a share of those.  Thread 0 ticks
 * scheduler 0; THIEVES threads each tick their own scheduler and steal from
 * the injector, scheduler 0 and each other.  Tasks yield (through their
 * waker, or context_yield() as TASK_YIELD does), or park a waker
 * in a shared mailbox that a WAKER thread (and other tasks) wake from
 * outside while the task may still be polling.  Checks: nothing is polled
 * concurrently with itself; every task completes exactly once (drop_state
 * count) and is freed (live count); no poll starts after a successful
 * cancel; a join waker registered (and sometimes replaced) while the task
 * completes on another thread is woken exactly when join becomes READY,
 * and join results match whether the task returned READY.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sched/scheduler.h"
#include "tests/support/host_clock.h"
#include "tests/support/rng.h"
#include "tests/support/stress_util.h"
#include "tests/support/waker_counter.h"

#define PRODUCERS	2
#define THIEVES		2
#define NSCHED		(1 + THIEVES)
#define BASE_TASKS	60000	/* per producer */
#define MAILBOX		64
#define MAX_POLLS	6
#define STEAL_MAX	32
#define HANDLE_EVERY	4	/* every 4th task keeps a join handle */
#define CANCEL_EVERY	2	/* half of those are cancelled */
#define INJECT_EVERY	8	/* every 8th task goes to the injector */

struct stask {
	struct task task;
	atomic_int in_poll;
	atomic_int polls_after_cancel;
	atomic_int cancel_done;
	atomic_int drops;
	atomic_int ready;
	int polls;
	int target;
	struct xoroshiro128pp rng;
};

static struct scheduler scheds[NSCHED];
static pthread_t owners[NSCHED];
static struct injector inj = INJECTOR_INIT(inj);
static _Atomic(struct task *) mailbox[MAILBOX];
static atomic_long live, completed, notifies, mbox_wakes, join_waits;
static atomic_int stop, start;
static unsigned long n_tasks;
/* Seeded by main() before the threads start; one per thread. */
static struct xoroshiro128pp core_rng[NSCHED];		/* steal victims */
static struct xoroshiro128pp producer_rng[PRODUCERS];	/* new tasks */


static enum poll stask_poll(struct task *t, struct context *cx)
{
	struct stask *st = container_of(t, struct stask, task);
	struct waker w;
	struct task *old;
	int zero = 0;

	STRESS_CHECK(atomic_compare_exchange_strong(&st->in_poll, &zero, 1),
		     "task %llu polled concurrently", (unsigned long long)t->id);
	STRESS_CHECK(atomic_load(&st->drops) == 0, "task %llu polled after completion",
		     (unsigned long long)t->id);
	if (atomic_load(&st->cancel_done))
		atomic_fetch_add(&st->polls_after_cancel, 1);
	st->polls++;
	if (st->polls >= st->target) {
		atomic_store(&st->ready, 1);
		atomic_store(&st->in_poll, 0);
		return POLL_READY;
	}
	switch (xoro_below(&st->rng, 4)) {
	case 0:
		waker_wake_by_ref(cx->waker);	/* yield through the waker */
		break;
	case 1:
		/* TASK_YIELD's path: the flag task_run() turns into WOKEN
		 * in the CAS that ends the poll (racing the mailbox wakes). */
		context_yield(cx);
		break;
	default:
		/* Park a waker; wake whatever was parked there (another
		 * task, maybe polling right now on another thread). */
		w = waker_clone(cx->waker);
		old = atomic_exchange(&mailbox[xoro_below(&st->rng, MAILBOX)],
				      (struct task *)w.data);
		if (old) {
			struct waker ow = { &task_waker_vtable, old };

			waker_wake(&ow);
		}
		break;
	}
	atomic_store(&st->in_poll, 0);
	return POLL_PENDING;
}

static void stask_drop_state(struct task *t)
{
	struct stask *st = container_of(t, struct stask, task);

	STRESS_CHECK(atomic_fetch_add(&st->drops, 1) == 0,
		     "task %llu completed twice", (unsigned long long)t->id);
	STRESS_CHECK(atomic_load(&st->in_poll) == 0, "completed while polling");
	atomic_fetch_add(&completed, 1);
}

static void stask_dealloc(struct task *t)
{
	struct stask *st = container_of(t, struct stask, task);

	STRESS_CHECK(atomic_load(&st->drops) == 1, "task %llu freed uncompleted",
		     (unsigned long long)t->id);
	STRESS_CHECK(atomic_load(&st->polls_after_cancel) <= 1,
		     "task %llu polled after cancel", (unsigned long long)t->id);
	atomic_fetch_sub(&live, 1);
}

static const struct task_vtable stask_vt = {
	.poll = stask_poll,
	.deallocate = stask_dealloc,
	.drop_state = stask_drop_state,
	.name = "stress",
};

static void notify(void *arg)
{
	(void)arg;
	atomic_fetch_add_explicit(&notifies, 1, memory_order_relaxed);
}

static bool on_owner(void *arg)
{
	return pthread_equal(pthread_self(), *(pthread_t *)arg);
}

#define JOIN_WAIT_NS	(20ull * 1000 * 1000 * 1000)

/*
 * Join handle k: poll with waker `fw[k][0]`, sometimes re-poll with
 * `fw[k][1]` (replacing it) while the task runs elsewhere.  Returns true
 * when READY.  `which` is the waker last registered.  The wakers are
 * counters (tests/support/waker_counter.h): what a joiner on another core
 * would hold.
 */
static bool join_step(struct join_handle *jh, struct waker_counter *fw, int which)
{
	struct waker w = counter_waker(&fw[which]);
	struct context cx = { &w };

	return join_poll(jh, &cx, NULL, 0) == POLL_READY;
}

static void *producer(void *arg)
{
	unsigned p = (unsigned)(uintptr_t)arg;
	unsigned long nh = n_tasks / HANDLE_EVERY + 1, h = 0;
	struct join_handle *handles = calloc(nh, sizeof(*handles));
	struct stask **tasks = calloc(nh, sizeof(*tasks));
	int *cancelled = calloc(nh, sizeof(int));
	struct waker_counter (*fw)[2] = calloc(nh, sizeof(*fw));
	int *which = calloc(nh, sizeof(int));
	bool *done = calloc(nh, sizeof(bool));
	struct xoroshiro128pp *rng = &producer_rng[p];

	STRESS_CHECK(handles && tasks && cancelled && fw && which && done,
		     "out of memory");
	for (unsigned long i = 0; i < n_tasks; i++) {
		struct stask init = { .target = 1 + (int)xoro_below(rng, MAX_POLLS) };
		bool keep = i % HANDLE_EVERY == 0;
		struct join_handle *jh = keep ? &handles[h] : NULL;
		int r;

		test_rng_split(rng, &init.rng);	/* the task's own choices */
		atomic_fetch_add(&live, 1);
		if (i % INJECT_EVERY == 1)
			r = injector_spawn(&inj, &stask_vt, &init, sizeof(init), jh);
		else
			r = sched_spawn(&scheds[0], &stask_vt, &init, sizeof(init), jh);
		STRESS_CHECK(r == 0, "spawn failed");
		if (keep) {
			tasks[h] = container_of(jh->task, struct stask, task);
			if ((i / HANDLE_EVERY) % CANCEL_EVERY == 0) {
				if (i & 1)
					sched_yield();
				cancelled[h] = join_cancel(jh);
				if (cancelled[h])
					atomic_store(&tasks[h]->cancel_done, 1);
			}
			/* Register a join waker while the task races to
			 * completion on another thread; sometimes replace it. */
			done[h] = join_step(jh, fw[h], 0);
			if (!done[h] && (i & 2)) {
				which[h] = 1;
				done[h] = join_step(jh, fw[h], 1);
			}
			h++;
		}
	}
	/*
	 * Wait for every kept task: the registered waker must be woken (no
	 * lost wakeup), after which join is READY; the result must match
	 * what happened; every stored waker clone is released.
	 */
	for (unsigned long k = 0; k < h; k++) {
		uint64_t deadline = host_now_ns() + JOIN_WAIT_NS;

		if (!done[k]) {
			atomic_fetch_add(&join_waits, 1);
			while (!atomic_load(&fw[k][which[k]].wakes)) {
				STRESS_CHECK(host_now_ns() < deadline,
					     "join waker %lu never woken", k);
				sched_yield();
			}
			STRESS_CHECK(join_step(&handles[k], fw[k], which[k]),
				     "join %lu woken but not ready", k);
		}
		STRESS_CHECK(handles[k].task == NULL, "handle %lu not released", k);
		STRESS_CHECK(cancelled[k] || handles[k].result == JOIN_OK,
			     "uncancelled task %lu not OK", k);
		STRESS_CHECK(atomic_load(&fw[k][0].refs) == 0 &&
			     atomic_load(&fw[k][1].refs) == 0,
			     "join waker %lu leaked", k);
		STRESS_CHECK(which[k] == 1 || !atomic_load(&fw[k][1].wakes),
			     "unregistered waker woken");
	}
	free(fw);
	free(which);
	free(done);
	free(handles);
	free(tasks);
	free(cancelled);
	return NULL;
}

static unsigned long total(void)
{
	return PRODUCERS * n_tasks;
}

static void *waker_thread(void *arg)
{
	unsigned i = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		struct task *t = atomic_exchange(&mailbox[i++ % MAILBOX], NULL);

		if (t) {
			struct waker w = { &task_waker_vtable, t };

			waker_wake(&w);
			atomic_fetch_add_explicit(&mbox_wakes, 1, memory_order_relaxed);
		} else if (i % MAILBOX == 0) {
			sched_yield();
		}
	}
	return NULL;
}

static size_t steal_from(struct stealer *st, struct scheduler *me, size_t max)
{
	size_t n = stealer_spawn_n(st, me, MIN(max, STEAL_MAX));

	stealer_release(st);
	return n;
}

static void *core(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	struct scheduler *s = &scheds[me];

	/* owners[] is complete only once main says so. */
	while (!atomic_load(&start))
		sched_yield();
	while (!atomic_load(&stop)) {
		struct sched_tick t = sched_tick(s);
		struct stealer st;
		unsigned victim;

		if (t.has_remaining)
			continue;
		if (injector_try_steal(&inj, &st) == STEAL_OK &&
		    steal_from(&st, s, st.initial_task_count) > 0)
			continue;
		victim = (unsigned)xoro_below(&core_rng[me], NSCHED);
		if (victim != me && sched_try_steal(&scheds[victim], &st) == STEAL_OK &&
		    steal_from(&st, s, (st.initial_task_count + 1) / 2) > 0)
			continue;
		sched_yield();
	}
	return NULL;
}

int main(void)
{
	pthread_t prod[PRODUCERS], wk;
	struct xoroshiro128pp rng;
	unsigned long last = 0, spins = 0;

	n_tasks = stress_scale(BASE_TASKS);
	test_rng_init(&rng, 12345);
	for (unsigned i = 0; i < NSCHED; i++)
		test_rng_split(&rng, &core_rng[i]);
	for (unsigned p = 0; p < PRODUCERS; p++)
		test_rng_split(&rng, &producer_rng[p]);
	for (unsigned i = 0; i < NSCHED; i++) {
		struct sched_hooks h = { notify, on_owner, &owners[i] };

		sched_init(&scheds[i], i, &h);
	}
	owners[0] = pthread_self();
	for (unsigned i = 1; i < NSCHED; i++)
		pthread_create(&owners[i], NULL, core, (void *)(uintptr_t)i);
	atomic_store(&start, 1);
	pthread_create(&wk, NULL, waker_thread, NULL);
	for (unsigned p = 0; p < PRODUCERS; p++)
		pthread_create(&prod[p], NULL, producer, (void *)(uintptr_t)p);

	/* Thread 0 is scheduler 0's owner. */
	while (atomic_load(&completed) < (long)total()) {
		struct sched_tick t = sched_tick(&scheds[0]);

		if (!t.has_remaining)
			sched_yield();
		if (atomic_load(&completed) != (long)last) {
			last = (unsigned long)atomic_load(&completed);
			spins = 0;
		} else {
			STRESS_CHECK(++spins < 50000000UL, "no progress at %lu/%lu",
				     last, total());
		}
	}
	for (unsigned p = 0; p < PRODUCERS; p++)
		pthread_join(prod[p], NULL);
	atomic_store(&stop, 1);
	for (unsigned i = 1; i < NSCHED; i++)
		pthread_join(owners[i], NULL);
	pthread_join(wk, NULL);

	/* Wakers still parked belong to completed tasks: release them. */
	for (unsigned i = 0; i < MAILBOX; i++) {
		struct task *t = atomic_exchange(&mailbox[i], NULL);

		if (t)
			task_unref(t);
	}
	for (unsigned i = 0; i < NSCHED; i++)
		STRESS_CHECK(sched_check(&scheds[i]) == 0 &&
			     sched_tick(&scheds[i]).polled == 0 &&
			     sched_queued(&scheds[i]) == 0, "scheduler %u not idle", i);
	STRESS_CHECK(injector_queued(&inj) == 0, "injector not empty");
	STRESS_CHECK(atomic_load(&live) == 0, "%ld tasks leaked", atomic_load(&live));
	STRESS_CHECK(atomic_load(&completed) == (long)total(), "completed %ld",
		     atomic_load(&completed));
	{
		uint64_t in = 0, out = 0, polled = 0;

		for (unsigned i = 0; i < NSCHED; i++) {
			in += atomic_load(&scheds[i].stolen_in);
			out += atomic_load(&scheds[i].stolen_out);
			polled += atomic_load(&scheds[i].polled);
		}
		printf("stress_sched: %lu tasks, %llu polls, %llu stolen in "
		       "(%llu from peers), %ld mailbox wakes, %ld notifies, "
		       "%ld join waits\n",
		       total(), (unsigned long long)polled, (unsigned long long)in,
		       (unsigned long long)out, atomic_load(&mbox_wakes),
		       atomic_load(&notifies), atomic_load(&join_waits));
	}
	printf("1 passed, 0 failed\n");
	return 0;
}
