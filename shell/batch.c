/*
 * batch.c - the tasks behind `spawn` and the spawn benchmark (batch.h).
 *
 * Orders: a child adds to its per-core count (relaxed), then decrements
 * `remaining` with release; the job reads `remaining` with acquire, so
 * once it sees zero it also sees every count.  The last child then wakes
 * the batch's wait cell.  refs uses acq_rel on the decrement so the last
 * holder sees every other holder's writes before it frees the batch.
 */
#include "config.h"
#include "errno.h"
#include "kmalloc.h"
#include "lib/string.h"
#include "shell/batch.h"
#include "timer/sleep.h"

struct batch_child {
	struct task task;
	unsigned pt;
	bool sleeping;		/* `sleep` initialised: drop it at the end */
	bool counted;		/* counted down: finished, or cancelled */
	uint64_t k;
	struct shell_batch *b;
	struct sleep sleep;
};

struct shell_batch *shell_batch_new(struct runtime *rt, uint64_t n,
				    uint64_t yields, uint64_t sleep_ns)
{
	struct shell_batch *b = kzalloc(sizeof(*b));

	if (b == NULL)
		return NULL;
	b->rt = rt;
	b->yields = yields;
	b->sleep_ns = sleep_ns;
	atomic_init(&b->refs, 1);
	atomic_init(&b->remaining, n);
	wait_cell_init(&b->done);
	return b;
}

void shell_batch_unref(struct shell_batch *b)
{
	/* acq_rel: the last holder acquires every other holder's release
	 * here before it frees. */
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
		kfree(b);
}

static void batch_count_down(struct shell_batch *b, uint64_t n)
{
	/* release: publishes this child's per-core count; pairs with the
	 * acquire load in shell_batch_finished(). */
	if (atomic_fetch_sub_explicit(&b->remaining, n, memory_order_release) == n)
		(void)wait_cell_wake(&b->done);
}

static bool batch_cancelled(struct shell_batch *b)
{
	/* relaxed: a hint to stop early; nothing is read under it. */
	return atomic_load_explicit(&b->cancel, memory_order_relaxed);
}

static enum poll child_poll(struct task *t, struct context *cx)
{
	struct batch_child *c = container_of(t, struct batch_child, task);
	struct shell_batch *b = c->b;
	struct rt_core *core;

	TASK_BEGIN(c->pt);
	for (c->k = 0; c->k < b->yields && !batch_cancelled(b); c->k++)
		TASK_YIELD();
	if (b->sleep_ns && !batch_cancelled(b) &&
	    sleep_init_duration(&c->sleep, &b->rt->timer, b->sleep_ns) == 0) {
		c->sleeping = true;
		TASK_AWAIT(sleep_poll(&c->sleep, cx));
	}
	core = rt_current_core();
	if (core)
		atomic_fetch_add_explicit(&b->per_core[core->slot->index], 1,
					  memory_order_relaxed);
	c->counted = true;
	batch_count_down(b, 1);
	TASK_END;
}

static void child_drop_state(struct task *t)
{
	struct batch_child *c = container_of(t, struct batch_child, task);

	if (c->sleeping)
		sleep_drop(&c->sleep);
	/* Cancelled on its own (`kill ID`): the job stops waiting for it. */
	if (!c->counted)
		batch_count_down(c->b, 1);
	shell_batch_unref(c->b);
}

static const struct task_vtable child_vt = {
	.poll = child_poll,
	.drop_state = child_drop_state,
	.name = "spawn-child",
};

int shell_batch_spawn(struct shell_batch *b)
{
	struct batch_child init = { .b = b };
	int err;

	/* relaxed: the spawn itself publishes the task (and b) to whoever
	 * polls it. */
	atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
	err = rt_spawn(b->rt, &child_vt, &init, sizeof(init), NULL);
	if (err) {
		shell_batch_unref(b);
		return err;
	}
	atomic_fetch_add_explicit(&b->spawned, 1, memory_order_relaxed);
	return 0;
}

void shell_batch_forget(struct shell_batch *b, uint64_t n)
{
	if (n)
		batch_count_down(b, n);
}

bool shell_batch_finished(struct shell_batch *b)
{
	/* acquire: pairs with the release decrement in batch_count_down(). */
	return atomic_load_explicit(&b->remaining, memory_order_acquire) == 0;
}

uint64_t shell_batch_done_count(struct shell_batch *b)
{
	uint64_t done = 0;

	for (unsigned i = 0; i < MAX_CORES; i++)
		done += atomic_load_explicit(&b->per_core[i], memory_order_relaxed);
	return done;
}

enum poll shell_batch_poll(void *batch, struct context *cx)
{
	struct shell_batch *b = batch;

	for (;;) {
		if (shell_batch_finished(b))
			return POLL_READY;
		/* PENDING: registered, the last child's wake finds us; it may
		 * have come between the check and the registration, so look
		 * once more.  READY: a permit, look again. */
		if (wait_cell_poll(&b->done, cx) == POLL_PENDING)
			return shell_batch_finished(b) ? POLL_READY : POLL_PENDING;
	}
}

void shell_batch_cancel(struct shell_batch *b)
{
	atomic_store_explicit(&b->cancel, true, memory_order_relaxed);
}

void shell_batch_release(struct shell_batch *b)
{
	shell_batch_cancel(b);
	/* The job's registered waker (a task reference) must not outlive b. */
	wait_cell_unregister(&b->done);
	shell_batch_unref(b);
}
