/*
 * sleeper.c - a task that waits for one sleep (sleeper.h).
 */
#include "tests/support/sleeper.h"

static enum poll sleeper_poll(struct task *t, struct context *cx)
{
	struct sleeper_task *s = container_of(t, struct sleeper_task, task);

	TASK_BEGIN(s->pt);
	TASK_AWAIT(sleep_poll(&s->sleep, cx));
	TASK_END;
}

static void sleeper_drop(struct task *t)
{
	sleep_drop(&container_of(t, struct sleeper_task, task)->sleep);
}

const struct task_vtable sleeper_task_vt = {
	.poll = sleeper_poll, .drop_state = sleeper_drop, .name = "sleeper",
};
