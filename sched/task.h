/*
 * task.h - tasks: a header embedded first in the caller's struct, one
 * atomic state word, wakers and join handles.
 *
 * A task is a poll function plus whatever state the caller keeps in its
 * struct.  The scheduler polls it when it is woken; the poll returns
 * POLL_PENDING (call me again when woken) or POLL_READY (done, output
 * written).  All lifetime and wakeup rules live in one atomic 64-bit state
 * word (flags below, reference count in the high bits), changed only by
 * compare-and-swap loops documented in task.c; the last reference frees the
 * task through its vtable.  Storage is the heap (sched_spawn) or the
 * caller's (sched_spawn_allocated).
 *
 * Reference: Mycelium maitake task/state.rs (state word, join-waker
 * states); Rust's RawWaker; Dunkels' protothreads for the macros.
 */
#ifndef HYPHAE_SCHED_TASK_H
#define HYPHAE_SCHED_TASK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "errno.h"
#include "sched/mpsc.h"
#include "sched/waker.h"

struct task;
struct scheduler;

/*
 * The state word.  Flags:
 *   POLLING          the scheduler is inside vtable->poll right now
 *   WOKEN            runnable: in a run queue, or woken while POLLING (the
 *                    scheduler re-enqueues it after the poll)
 *   COMPLETED        will never be polled again (returned READY, or was
 *                    cancelled and retired by the scheduler)
 *   CANCELED         join_cancel() asked it to stop; its poll is not called
 *                    again
 *   HAS_JOIN_HANDLE  a struct join_handle refers to it
 *   JOIN_WAKER       2 bits: EMPTY, REGISTERING (the joiner is writing its
 *                    waker), WAITING (a waker is stored), WOKEN (completion
 *                    took the waker and wakes it)
 *   HAS_OUTPUT       completed by returning READY: output may be copied
 *   HEAP             constant: storage came from sched_spawn's allocator
 *   HEAP_CLASS       3 bits, constant: its task_cache size class (0: kmalloc)
 *   PINNED           constant: rt_spawn_on(); stealing never moves it
 *   FAULTED          completed because a CPU exception ended its poll
 *                    (arch_poll_call): no output, join says JOIN_FAULTED
 *   refs             bits 16..63: references (run queue, wakers, join handle)
 */
#define TASK_POLLING		(1ULL << 0)
#define TASK_WOKEN		(1ULL << 1)
#define TASK_COMPLETED		(1ULL << 2)
#define TASK_CANCELED		(1ULL << 3)
#define TASK_HAS_JOIN_HANDLE	(1ULL << 4)
#define TASK_JOIN_WAKER_SHIFT	5
#define TASK_JOIN_WAKER_MASK	(3ULL << TASK_JOIN_WAKER_SHIFT)
#define  TASK_JW_EMPTY		(0ULL << TASK_JOIN_WAKER_SHIFT)
#define  TASK_JW_REGISTERING	(1ULL << TASK_JOIN_WAKER_SHIFT)
#define  TASK_JW_WAITING	(2ULL << TASK_JOIN_WAKER_SHIFT)
#define  TASK_JW_WOKEN		(3ULL << TASK_JOIN_WAKER_SHIFT)
#define TASK_HAS_OUTPUT		(1ULL << 7)
#define TASK_HEAP		(1ULL << 8)
#define TASK_HEAP_CLASS_SHIFT	9
#define TASK_HEAP_CLASS_MASK	(7ULL << TASK_HEAP_CLASS_SHIFT)
#define TASK_PINNED		(1ULL << 12)
#define TASK_FAULTED		(1ULL << 13)
#define TASK_REF_SHIFT		16
#define TASK_REF_ONE		(1ULL << TASK_REF_SHIFT)
#define TASK_REF_MAX		((1ULL << 47) - 1)

static inline uint64_t task_state_refs(uint64_t state)
{
	return state >> TASK_REF_SHIFT;
}

/*
 * What a kind of task does.  poll: see above; called by one scheduler at a
 * time, never after COMPLETED or CANCELED.  deallocate: called once, after
 * the last reference is gone (if it goes inside a poll on that core, once
 * the poll has returned: the registry unlinks the task first); for caller
 * storage (sched_spawn_allocated) it releases the storage (may be NULL:
 * nothing to do); for heap tasks it is an optional destructor run before
 * the storage goes back to the task cache (or kfree).  name: what `tasks`
 * and reports call it, unless its spawn site names it.  drop_state (may be NULL): called
 * once when the task completes (its poll returned READY, or it was
 * cancelled), by the scheduler, or when its last reference goes while it
 * is still pending; either way with the task to itself: it releases what
 * the poll state holds (wait entries, wakers, child join handles) - which,
 * for a cancelled task, may be references to the task itself that would
 * otherwise keep it alive.  It must not touch the output.  Output: a READY
 * poll leaves its result of output_size bytes at output_offset in the
 * caller's struct (TASK_OUTPUT() fills both); join_poll() copies it out.
 */
struct task_vtable {
	enum poll (*poll)(struct task *t, struct context *cx);
	void (*deallocate)(struct task *t);
	void (*drop_state)(struct task *t);
	size_t output_offset;
	size_t output_size;
	const char *name;
};

#define TASK_OUTPUT(type, member) \
	.output_offset = offsetof(type, member), \
	.output_size = sizeof(((type *)0)->member)

/*
 * Where a task was spawned: one static record per call site, made by the
 * spawn macros (TASK_SITE below), so a spawn stores one pointer.  name
 * NULL: the task is named after its vtable.
 */
struct task_site {
	const char *name;
	const char *file;
	unsigned line;
};

/* A pointer to a static struct task_site for this line, named `nm`. */
#define TASK_SITE(nm) ({						\
	static const struct task_site task_site_ = {			\
		(nm), __FILE__, __LINE__,				\
	};								\
	&task_site_; })

/* Registry links (registry.c), under the home scheduler's reg_lock.  A
 * walk's cursor is a link that belongs to no task. */
struct task_reg {
	struct task_reg *next, *prev;
	bool cursor;
};

/* What the task's last poll waits for, for `tasks` (TASK_WAIT_*). */
#define TASK_WAIT_ANY		0	/* anything: "waiting" */
#define TASK_WAIT_SLEEP		1	/* a sleep on the timer: "sleeping" */

/*
 * The header; the caller's struct starts with it.  Two cache lines with
 * 64-byte alignment (checked in task.c).  The first is what a spawn writes
 * and what every poll and wake touches.  The second (the join waker, the
 * registry, the busy time) a spawn does not write: a spawn from another
 * core would have to take the line from the core that freed the block last
 * (the one-line header of before the registry, padded to two lines, ran
 * spawn_many_remote_idle in 2.0-3.5 ms against 0.8-1.8: docs/perf-log.md).
 * The first dequeue sets it up (task_first_run), the join waker's field
 * is read only under its JW bits, and `fresh` says whether the rest is
 * set up yet.
 */
struct task {
	/* Run-queue link: owned by the queue holding the run-queue reference. */
	struct mpsc_node run_node;
	_Atomic uint64_t state;
	/* The scheduler whose queue wakes go to; a thief rebinds it while
	 * wakers on other cores read it. */
	_Atomic(struct scheduler *) sched;
	const struct task_vtable *vtable;	/* constant */
	uint64_t id;				/* constant; 0 = not spawned */
	const struct task_site *site;		/* constant; NULL: not known */
	uint64_t born;				/* constant: arch_cycles() at spawn */
	/* Written by the core polling it (relaxed load + store), read by
	 * anyone: polls made, what it waits for. */
	_Atomic uint32_t polls;
	_Atomic uint8_t wait;
	/* Held since a yield: still POLLING on its way back to a run queue
	 * (task_run).  Written by the holder of the run queue's reference,
	 * read by the next; wakers read it only to count. */
	_Atomic uint8_t held;
	/* The second line is not set up yet: true from the spawn to the
	 * first task_run, which clears it with release (task_first_run). */
	_Atomic uint8_t fresh;

	/* The joiner's waker; access is granted by the JOIN_WAKER bits, and
	 * under JW_EMPTY it holds nothing (not even WAKER_NONE). */
	struct waker join_waker;
	/* The registry holding it (NULL until linked); set by the scheduler
	 * whose poll of it first returns PENDING (registry_link). */
	struct scheduler *home;
	struct task_reg reg;			/* under home->reg_lock */
	/* Cycles spent in its timed polls; written by the polling core. */
	_Atomic uint64_t busy;
};

/* Its name: the spawn site's, else its vtable's, else "task". */
static inline const char *task_name(const struct task *t)
{
	if (t->site && t->site->name)
		return t->site->name;
	return t->vtable->name ? t->vtable->name : "task";
}

/*
 * A join handle owns one reference to its task until join_poll() returns
 * READY or the handle is dropped/detached.  Not shared between threads
 * without external synchronisation (like any plain struct).
 */
enum join_result {
	JOIN_OK = 0,			/* output copied */
	JOIN_CANCELLED = -ECANCELED,	/* cancelled: no output */
	JOIN_FAULTED = -EFAULT,		/* a CPU exception ended it: no output */
};

struct join_handle {
	struct task *task;	/* NULL once finished or dropped */
	enum join_result result;	/* valid after join_poll() READY */
};

#define JOIN_HANDLE_NONE ((struct join_handle){ NULL, JOIN_OK })

/*
 * Wait for the task: PENDING (cx's waker is woken when it completes) or
 * READY with jh->result JOIN_OK (output copied to out, size must equal the
 * vtable's output_size unless out is NULL), JOIN_CANCELLED or JOIN_FAULTED.  READY
 * releases the handle's reference; later calls return READY again.  A
 * context whose waker is NULL only checks.  Task context (one joiner).
 */
enum poll join_poll(struct join_handle *jh, struct context *cx, void *out,
		    size_t size);

/*
 * Ask the task to stop: if it has not completed, sets CANCELED + WOKEN and
 * makes it runnable; its poll is not called again and join returns
 * JOIN_CANCELLED (unless a poll already running returns READY).  True if
 * this call cancelled it.  Keeps the handle.  Any context.
 */
bool join_cancel(struct join_handle *jh);

/*
 * Cancel the task itself (join_cancel without a handle; `kill`): as
 * join_cancel.  The caller holds a reference.  Any context.
 */
bool task_cancel(struct task *t);

/*
 * The task being polled on this core, or NULL (outside a poll, or on a
 * thread that ticks no scheduler).  Task context.
 */
struct task *task_current(void);

/* Drop the handle; the task runs on (detached).  Empty handles: no-op. */
void join_drop(struct join_handle *jh);
#define join_detach(jh) join_drop(jh)

/* True if the handle's task has completed (READY would not block). */
bool join_is_finished(const struct join_handle *jh);

/* ---- wakers and references --------------------------------------------- */

/*
 * Whoever drops the last reference deallocates the task, in its own
 * context: for heap tasks that is task_cache_free() (interrupts masked
 * around the core's magazines; the depot's lock and kfree when they
 * overflow).  An interrupt handler that wakes by value or drops a waker
 * can be that last owner if every other reference (queue, join handle) is
 * gone; the kernel's kfree must then be callable with interrupts
 * disabled, or such handlers keep wakers of tasks that outlive them.
 */

/* A waker for `t` that takes a new reference. */
struct waker task_waker(struct task *t);
void task_ref(struct task *t);
/*
 * A reference to a task found without one (a registry walk's visit,
 * under the list's lock, which keeps the storage valid): false if its
 * last reference is gone already (it is being freed; do not touch it
 * after the lock is dropped).  kref_get_unless_zero().  Any context.
 */
bool task_ref_unless_zero(struct task *t);
/* Drop a reference; the last one deallocates the task. */
void task_unref(struct task *t);
/* Wake as a waker_wake_by_ref() of its waker would. */
void task_wake_by_ref(struct task *t);

/*
 * A task id as people read it: "C.N" for the N-th task spawned on core
 * C's scheduler by its own core (one spawned there by another thread has
 * SCHED_ID_REMOTE in N), "i.N" for the injector's (see SCHED_ID_SHIFT).
 * buf holds at least TASK_ID_STR bytes; returns buf.  task_id_parse()
 * reads it back (or a plain number): 0, or -EINVAL.
 */
#define TASK_ID_STR		24
char *task_id_str(uint64_t id, char *buf);
int __must_check task_id_parse(const char *s, uint64_t *id);

/* A snapshot of the state word (tests, the `rt` dump). */
static inline uint64_t task_state_load(const struct task *t)
{
	/* acquire: pairs with the acq_rel transitions in task.c, so a reader
	 * that sees COMPLETED also sees the output. */
	return atomic_load_explicit(&((struct task *)t)->state, memory_order_acquire);
}

extern const struct waker_vtable task_waker_vtable;

/* ---- protothread-style task bodies ------------------------------------- */

/*
 * A poll function reads top to bottom with these (Duff's device, as in
 * protothreads).  Rules: the poll's context parameter must be named `cx`;
 * locals do not survive a yield or an await (keep them in the task's
 * struct); at most one macro per source line; no `switch` around them.
 *
 *   struct counter {
 *           struct task task;        // first
 *           unsigned pt;             // protothread state, starts at 0
 *           int i;
 *           struct join_handle child;
 *           int child_out, out;
 *   };
 *
 *   static enum poll counter_poll(struct task *t, struct context *cx)
 *   {
 *           struct counter *c = container_of(t, struct counter, task);
 *
 *           TASK_BEGIN(c->pt);
 *           for (c->i = 0; c->i < 3; c->i++)
 *                   TASK_YIELD();            // after the rest of the tick
 *           TASK_AWAIT(join_poll(&c->child, cx, &c->child_out, sizeof(int)));
 *           c->out = c->child_out + c->i;
 *           TASK_END;                        // READY
 *   }
 *
 *   static const struct task_vtable counter_vt = {
 *           .poll = counter_poll, TASK_OUTPUT(struct counter, out),
 *   };
 */
#define TASK_PT_DONE	1U

#define TASK_BEGIN(state)						\
	unsigned *task_pt_ = &(state);					\
	switch (*task_pt_) {						\
	case 0:

/* Yield (context_yield) and return PENDING: it runs again after the rest
 * of its scheduler's tick (sched_tick). */
#define TASK_YIELD()							\
	do {								\
		*task_pt_ = __LINE__;					\
		context_yield(cx);					\
		return POLL_PENDING;					\
	case __LINE__:;							\
	} while (0)

/* Re-evaluate `expr` (an enum poll) on every poll until it is READY. */
#define TASK_AWAIT(expr)						\
	do {								\
		*task_pt_ = __LINE__;					\
		__attribute__((fallthrough));				\
	case __LINE__:							\
		if ((expr) == POLL_PENDING)				\
			return POLL_PENDING;				\
	} while (0)

#define TASK_END							\
		__attribute__((fallthrough));				\
	default:							\
		break;							\
	}								\
	*task_pt_ = TASK_PT_DONE;					\
	return POLL_READY

#endif /* HYPHAE_SCHED_TASK_H */
