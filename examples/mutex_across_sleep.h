/*
 * mutex_across_sleep.h - README's example of a task holding an async
 * mutex across a sleep; tests/rt/test_mutex_example.c runs it on two host
 * cores, and tools/check-docs checks that README.md shows the marked
 * region as it is.
 */
#ifndef HYPHAE_EXAMPLES_MUTEX_ACROSS_SLEEP_H
#define HYPHAE_EXAMPLES_MUTEX_ACROSS_SLEEP_H

#include "rt/rt.h"
#include "sched/mutex.h"
#include "sched/task.h"
#include "timer/sleep.h"

/* example:begin mutex */
struct device {
	struct mutex lock;
	unsigned writes;		/* under lock */
};

/* A task that holds the device's lock across a 10 ms sleep. */
struct writer {
	struct task task;		/* first */
	unsigned pt;
	bool holding;
	struct device *dev;
	struct semaphore_waiter w;	/* its place in the lock's queue */
	struct sleep nap;
};

static enum poll writer_poll(struct task *t, struct context *cx)
{
	struct writer *wr = container_of(t, struct writer, task);

	TASK_BEGIN(wr->pt);
	TASK_AWAIT(mutex_lock(&wr->dev->lock, &wr->w, cx));
	wr->holding = true;		/* other writers queue, FIFO */
	if (sleep_init_duration(&wr->nap, timer_global(), 10 * 1000 * 1000) == 0)
		TASK_AWAIT(sleep_poll(&wr->nap, cx));
	wr->dev->writes++;
	wr->holding = false;
	mutex_unlock(&wr->dev->lock);	/* handed to the next writer */
	TASK_END;
}

/* Done or cancelled (join_cancel): let go of the timer and the lock. */
static void writer_drop_state(struct task *t)
{
	struct writer *wr = container_of(t, struct writer, task);

	sleep_drop(&wr->nap);
	if (wr->holding)
		mutex_unlock(&wr->dev->lock);
	else
		mutex_waiter_drop(&wr->dev->lock, &wr->w);
}

static const struct task_vtable writer_vt = {
	.poll = writer_poll, .drop_state = writer_drop_state, .name = "writer",
};

static int writer_spawn(struct runtime *rt, struct device *dev,
			struct join_handle *jh)
{
	struct writer init = { .dev = dev };

	semaphore_waiter_init(&init.w);
	sleep_init_deadline(&init.nap, timer_global(), 0);	/* not armed */
	return rt_spawn(rt, &writer_vt, &init, sizeof(init), jh);
}
/* example:end */

#endif /* HYPHAE_EXAMPLES_MUTEX_ACROSS_SLEEP_H */
