/*
 * task.c - the task state machine: wakes, polls, completion, cancellation,
 * join handles and references, all as transitions of one atomic word.
 *
 * Every transition is a CAS loop over t->state (transition() below) except
 * taking a reference (fetch_add) and dropping one (fetch_sub), which touch
 * only the count.  The run queue owns one reference while a task is queued
 * or being polled; each waker and the join handle own one more.  The
 * JOIN_WAKER bits hand the t->join_waker field back and forth between the
 * joiner and the completing scheduler without a lock.
 * Reference: Mycelium maitake task/state.rs.
 */
#include <string.h>

#include "arch.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/trace.h"
#include "panic.h"
#include "sched/poll.h"
#include "sched/sched_internal.h"

_Static_assert(sizeof(struct task) <= 2 * CACHE_LINE,
	       "struct task must fit two cache lines");
_Static_assert(offsetof(struct task, join_waker) == CACHE_LINE,
	       "struct task: a spawn writes the first line alone");

/* Held since a yield (task_run): a wake that finds it POLLING then is not
 * counted, as one that finds a queued task WOKEN is not. */
static inline bool task_held(struct task *t)
{
	return atomic_load_explicit(&t->held, memory_order_relaxed);
}

static inline uint64_t load_state(struct task *t)
{
	/* acquire: pairs with the acq_rel CAS of the last transition. */
	return atomic_load_explicit(&t->state, memory_order_acquire);
}

/*
 * One CAS of a transition loop.  acq_rel on success: release publishes what
 * this side wrote first (the poll's output, a stored join waker), acquire
 * sees what the previous transition published; pairs with every other
 * transition of the same word.  On failure *old is reloaded (acquire).
 */
static inline bool transition(struct task *t, uint64_t *old, uint64_t new)
{
	return atomic_compare_exchange_weak_explicit(&t->state, old, new,
						     memory_order_acq_rel,
						     memory_order_acquire);
}

/*
 * A transition of a task nobody else can reach: its one reference is the
 * caller's (the run queue's, in task_run) and no registry lists it (home
 * NULL, and only the poller links it), so no waker, join handle, `kill`
 * or walk can change the word or take a reference meanwhile: a release
 * store does what the CAS would.  A reference is only made from another
 * (a waker clone inside the poll raises the count first, and `old` was
 * loaded after it).  Two atomic read-modify-writes fewer per poll of a
 * detached task that lives one poll.  Else the CAS of transition().
 */
static inline bool transition_alone(struct task *t, uint64_t *old,
				    uint64_t new)
{
	if (task_state_refs(*old) == 1 && t->home == NULL) {
		/* release: as the CAS's success order; pairs with the
		 * acquire of whoever takes the next reference's word. */
		atomic_store_explicit(&t->state, new, memory_order_release);
		return true;
	}
	return transition(t, old, new);
}

static struct scheduler *bound_sched(struct task *t)
{
	/* acquire: pairs with the release store of a thief's rebind in
	 * steal_take_one(); also ordered by the state CAS chain. */
	return atomic_load_explicit(&t->sched, memory_order_acquire);
}

/*
 * The first dequeue of t sets up its second line, which its spawn left
 * alone (task.h).  Nothing reads that line before: the registry lists a
 * task only after its first poll, and the join waker is read only under
 * the JW bits.  release: pairs with task_info_of()'s acquire of `fresh`.
 */
static void task_first_run(struct task *t)
{
	t->home = NULL;
	atomic_store_explicit(&t->busy, 0, memory_order_relaxed);
	atomic_store_explicit(&t->fresh, 0, memory_order_release);
}

static void task_deallocate(struct task *t)
{
	uint64_t state = atomic_load_explicit(&t->state, memory_order_relaxed);
	const struct task_vtable *vt = t->vtable;

	if ((state & TASK_JOIN_WAKER_MASK) == TASK_JW_REGISTERING ||
	    (state & TASK_JOIN_WAKER_MASK) == TASK_JW_WAITING)
		panic("task_deallocate: task %llu still holds a join waker",
		      (unsigned long long)t->id);
	/* Dropped while pending (nothing will ever wake it): its poll state
	 * may own other things (a child's join handle, a sleep) that must be
	 * released too.  The last reference gives exclusive access. */
	if (!(state & TASK_COMPLETED) && vt->drop_state)
		vt->drop_state(t);
	/* Never polled (a thief retired it cancelled): never listed. */
	if (atomic_load_explicit(&t->fresh, memory_order_relaxed))
		task_first_run(t);
	/* The registry unlinks it, then its hook and the free run. */
	registry_free(t, state);
}

void task_ref(struct task *t)
{
	/* relaxed: a new reference is made from an existing one, which keeps
	 * the task alive; handing it to another thread synchronises itself. */
	uint64_t old = atomic_fetch_add_explicit(&t->state, TASK_REF_ONE,
						 memory_order_relaxed);

	/* One compare for both: a count of 0 wraps to the top.  A task with
	 * no reference left may still be listed (registry.c) until it is
	 * freed: only task_ref_unless_zero() may take one from a list. */
	if (task_state_refs(old) - 1 >= TASK_REF_MAX - 1)
		panic("task_ref: task %llu %s", (unsigned long long)t->id,
		      task_state_refs(old) ? "reference count overflow" :
		      "has no reference left (use task_ref_unless_zero)");
}

bool task_ref_unless_zero(struct task *t)
{
	uint64_t old = atomic_load_explicit(&t->state, memory_order_relaxed);

	/* relaxed: as task_ref; the count seen nonzero means some owner
	 * still keeps the task, and our reference now does too. */
	do {
		if (task_state_refs(old) == 0)
			return false;
		if (task_state_refs(old) >= TASK_REF_MAX)
			panic("task_ref_unless_zero: task %llu reference count overflow",
			      (unsigned long long)t->id);
	} while (!atomic_compare_exchange_weak_explicit(&t->state, &old,
							old + TASK_REF_ONE,
							memory_order_relaxed,
							memory_order_relaxed));
	return true;
}

void task_unref(struct task *t)
{
	/* release: our uses of the task happen before its deallocation;
	 * pairs with the acquire fence below on the thread that frees it. */
	uint64_t old = atomic_fetch_sub_explicit(&t->state, TASK_REF_ONE,
						 memory_order_release);

	if (task_state_refs(old) == 0)
		panic("task_unref: task %llu has no references",
		      (unsigned long long)t->id);
	if (task_state_refs(old) > 1)
		return;
	/*
	 * acquire: pairs with the release decrements of every other owner
	 * (each RMW continues the release sequence this load reads from).
	 * A load instead of a fence, which ThreadSanitizer cannot model.
	 */
	(void)atomic_load_explicit(&t->state, memory_order_acquire);
	task_deallocate(t);
}

void task_prepare(struct task *t, const struct task_vtable *vt, uint64_t id,
		  struct scheduler *s, uint64_t flags, struct join_handle *jh,
		  const struct task_site *site, uint64_t born)
{
	uint64_t state = TASK_WOKEN | TASK_REF_ONE;

	if (vt == NULL || vt->poll == NULL)
		panic("task_prepare: task %llu has no poll function",
		      (unsigned long long)id);
	if (flags & ~(TASK_HEAP | TASK_HEAP_CLASS_MASK | TASK_PINNED))
		panic("task_prepare: task %llu: bad flags %#llx",
		      (unsigned long long)id, (unsigned long long)flags);
	state |= flags;
	if (jh) {
		state |= TASK_HAS_JOIN_HANDLE;
		state += TASK_REF_ONE;
		jh->task = t;
		jh->result = JOIN_OK;
	}
	/* Plain initialisation: the enqueue that follows publishes it.  The
	 * first line only: the second is task_first_run()'s. */
	atomic_init(&t->run_node.next, NULL);
	atomic_init(&t->state, state);
	atomic_init(&t->sched, s);
	t->vtable = vt;
	t->id = id;
	t->site = site;
	t->born = born;
	atomic_init(&t->polls, 0);
	atomic_init(&t->wait, TASK_WAIT_ANY);
	atomic_init(&t->held, 0);
	atomic_init(&t->fresh, 1);
}

/* The id's two parts (scheduler.h). */
#define ID_SHIFT	SCHED_ID_SHIFT
#define ID_SEQ_MASK	((1ull << ID_SHIFT) - 1)

char *task_id_str(uint64_t id, char *buf)
{
	uint64_t hi = id >> ID_SHIFT, seq = id & ID_SEQ_MASK;

	if (hi == 0)
		ksnprintf(buf, TASK_ID_STR, "i.%llu", (unsigned long long)seq);
	else
		ksnprintf(buf, TASK_ID_STR, "%llu.%llu",
			  (unsigned long long)(hi - 1), (unsigned long long)seq);
	return buf;
}

/* Decimal digits into *v (at least one, no overflow); the rest in *end. */
static bool parse_dec(const char *s, uint64_t *v, const char **end)
{
	uint64_t x = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	*end = p;
	return p != s;
}

int task_id_parse(const char *s, uint64_t *id)
{
	uint64_t hi, seq;
	const char *p;

	if (s[0] == 'i' && s[1] == '.') {
		hi = 0;
		p = s + 2;
	} else {
		if (!parse_dec(s, &hi, &p))
			return -EINVAL;
		if (*p == '\0') {
			*id = hi;	/* the plain 64-bit id */
			return 0;
		}
		if (*p++ != '.' || hi >= (1ull << (64 - ID_SHIFT)) - 1)
			return -EINVAL;
		hi++;
	}
	if (!parse_dec(p, &seq, &p) || *p != '\0' || seq > ID_SEQ_MASK)
		return -EINVAL;
	*id = hi << ID_SHIFT | seq;
	return 0;
}

struct task *task_current(void)
{
	struct scheduler *s = arch_cpu_sched();

	return s ? s->current : NULL;
}

/* ---- wakes ------------------------------------------------------------- */

/*
 * A wake that finds the task WOKEN already still changes the word with a
 * CAS (the same flags; by value, minus its reference), never just loads
 * it.  What the waker stored before waking must be seen by the poll that
 * WOKEN promises, and that poll starts with a CAS on this word: a plain
 * load could be satisfied while the waker's stores still sit in its store
 * buffer (x86; any C11 machine), the poll would miss them, return PENDING
 * and nobody would wake the task again.  With the CAS, either it comes
 * first in the word's order (the poll's acquire CAS then reads from our
 * release: the stores are seen) or the poll's start CAS does (ours fails,
 * sees POLLING and sets WOKEN: the task runs again).  Linux's
 * try_to_wake_up() puts a full barrier before its state check for the
 * same reason.  Found by tests/model (task_wake, TSO).
 */

/*
 * wake by value (consumes the waker's reference):
 *   COMPLETED          -> refs-1 (nothing to do; may free)
 *   WOKEN              -> refs-1 in the CAS (the promised poll sees us)
 *   POLLING            -> WOKEN, refs-1 (the scheduler re-enqueues it)
 *   idle               -> WOKEN, the reference passes to the run queue
 */
static void task_wake(struct task *t)
{
	uint64_t old = load_state(t), new;
	struct scheduler *s;
	bool held;

	for (;;) {
		/* Read before the CAS: once a POLLING task's reference is
		 * dropped, the poll may finish and free it. */
		s = bound_sched(t);
		held = task_held(t);
		if (old & TASK_COMPLETED) {
			task_unref(t);
			return;
		}
		new = old | TASK_WOKEN;
		if (old & (TASK_POLLING | TASK_WOKEN)) {
			/* The run queue (or the running poll) holds a
			 * reference too: ours is never the last here. */
			if (task_state_refs(old) < 2)
				panic("task_wake: task %llu %s with %llu refs",
				      (unsigned long long)t->id,
				      old & TASK_WOKEN ? "woken" : "polling",
				      (unsigned long long)task_state_refs(old));
			new -= TASK_REF_ONE;
		}
		if (transition(t, &old, new))
			break;
	}
	if (old & TASK_WOKEN)
		return;
	if (old & TASK_POLLING) {
		if (!held)
			sched_count_wake(s, t);
	} else {
		sched_enqueue_woken(bound_sched(t), t);
	}
}

/*
 * wake by reference:
 *   COMPLETED          -> nothing
 *   WOKEN              -> WOKEN (a CAS writing the same word)
 *   POLLING            -> WOKEN
 *   idle               -> WOKEN, refs+1 for the run queue
 */
void task_wake_by_ref(struct task *t)
{
	uint64_t old = load_state(t), new;

	for (;;) {
		if (old & TASK_COMPLETED)
			return;
		new = old | TASK_WOKEN;
		if (!(old & (TASK_POLLING | TASK_WOKEN)))
			new += TASK_REF_ONE;
		if (transition(t, &old, new))
			break;
	}
	if (old & TASK_WOKEN)
		return;
	if (old & TASK_POLLING) {
		if (!task_held(t))
			sched_count_wake(bound_sched(t), t);
	} else {
		sched_enqueue_woken(bound_sched(t), t);
	}
}

static void vt_wake(const void *data)
{
	task_wake((struct task *)data);
}

static void vt_wake_by_ref(const void *data)
{
	task_wake_by_ref((struct task *)data);
}

static const void *vt_clone(const void *data)
{
	task_ref((struct task *)data);
	return data;
}

static void vt_drop(const void *data)
{
	task_unref((struct task *)data);
}

const struct waker_vtable task_waker_vtable = {
	.wake = vt_wake,
	.wake_by_ref = vt_wake_by_ref,
	.clone = vt_clone,
	.drop = vt_drop,
};

struct waker task_waker(struct task *t)
{
	task_ref(t);
	return (struct waker){ &task_waker_vtable, t };
}

/* ---- polling and completion -------------------------------------------- */

/*
 * The COMPLETED state from `old` (POLLING already cleared): clears WOKEN,
 * sets HAS_OUTPUT if the poll returned READY, and claims a waiting join
 * waker (WAITING -> WOKEN) for the caller to wake after the CAS.
 */
static uint64_t completed_state(uint64_t old, bool output, bool *wake_joiner)
{
	uint64_t new = (old & ~(TASK_WOKEN | TASK_POLLING)) | TASK_COMPLETED;

	if (output)
		new |= TASK_HAS_OUTPUT;
	*wake_joiner = (old & TASK_JOIN_WAKER_MASK) == TASK_JW_WAITING;
	if (*wake_joiner)
		new = (new & ~TASK_JOIN_WAKER_MASK) | TASK_JW_WOKEN;
	return new;
}

static void drop_state(struct task *t)
{
	if (t->vtable->drop_state)
		t->vtable->drop_state(t);
}

static int poll_thunk(void *t, void *cx)
{
	return (int)((struct task *)t)->vtable->poll(t, cx);
}

static int drop_thunk(void *t, void *unused)
{
	(void)unused;
	drop_state(t);
	return 0;
}

/*
 * A task a CPU exception ended: its poll state may be half-changed, so
 * its drop_state runs guarded too; if that faults as well, what the
 * state holds (wait entries, wakers) is left, never freed.
 */
static void drop_faulted_state(struct task *t)
{
	char id[TASK_ID_STR];

	log_warn("sched: task %s (id %s) ended by a CPU exception in its "
		 "poll; its join handle reports JOIN_FAULTED", task_name(t),
		 task_id_str(t->id, id));
	if (t->vtable->drop_state &&
	    arch_poll_call(drop_thunk, t, NULL) == ARCH_POLL_FAULTED)
		log_warn("sched: task %s (id %s): its drop_state faulted too; "
			 "what its state holds is leaked", task_name(t), id);
}

/*
 * After a transition claimed JW_WOKEN, the field is ours alone.  A joiner
 * outside the runtime (its waker is not a task's: a thread blocked in a
 * join, as a benchmark's main thread or a host program's) is woken when
 * the batch of s's tick that completed its task ends, not at once: its
 * wake may be a system call and a thread switch, and a thread that joins
 * many tasks in order then wakes once for what the batch completed (its
 * wakers are the same: one is kept), where at once it woke for each task
 * it reached just before that task ended
 * (spawn_many_remote_busy1 at 2 workers on 2 CPUs: 190-330 wakes of the
 * main thread an iteration, 2.4-2.7 ms against 0.8; docs/PERFORMANCE.md).
 * A task joiner is woken at once (into the LIFO slot, if free).  s is
 * NULL outside a tick (a thief retiring a cancelled task): at once too.
 */
static void wake_joiner(struct scheduler *s, struct task *t)
{
	struct waker w = t->join_waker;

	t->join_waker = WAKER_NONE;
	if (s != NULL && w.vtable != &task_waker_vtable) {
		/* The same joiner again (a thread joining in order): one
		 * wake covers both. */
		for (unsigned i = 0; i < s->njoin_wakes; i++)
			if (waker_will_wake(&s->join_wakes[i], &w)) {
				waker_drop(&w);
				return;
			}
		if (s->njoin_wakes == SCHED_JOIN_WAKES)
			sched_wake_joiners(s);
		s->join_wakes[s->njoin_wakes++] = w;
		return;
	}
	waker_wake(&w);
}

/* Complete a queued, CANCELED task without polling it; drops the run-queue
 * reference.  False if it is not cancelled. */
static bool retire_cancelled(struct scheduler *s, struct task *t, uint64_t old)
{
	bool joiner, dropped = false;
	uint64_t new;

	for (;;) {
		if (!(old & TASK_CANCELED))
			return false;
		/* CANCELED is final and the task is ours (dequeued, not
		 * polled): release its poll state before anyone sees it
		 * COMPLETED. */
		if (!dropped) {
			drop_state(t);
			dropped = true;
		}
		new = completed_state(old, false, &joiner);
		if (transition(t, &old, new))
			break;
	}
	if (joiner)
		wake_joiner(s, t);
	task_unref(t);
	return true;
}

bool task_retire_if_cancelled(struct task *t)
{
	return retire_cancelled(NULL, t, load_state(t));
}

enum task_run_result task_run(struct scheduler *s, struct task *t)
{
	uint64_t old = load_state(t), new, start;
	struct waker self = { &task_waker_vtable, t };
	bool yielded = false;
	struct context cx = { &self, &yielded };
	enum task_run_result res;
	enum poll p;
	bool joiner = false, dropped = false, faulted = false, keep = false;
	bool traced = false, held = task_held(t), timed;
	int r;

	/*
	 * start: WOKEN -> POLLING, or CANCELED -> COMPLETED unpolled.  A task
	 * held since its yield (below) is POLLING already: unless a wake or
	 * a cancel came meanwhile, there is nothing to change.
	 */
	if (held)
		atomic_store_explicit(&t->held, 0, memory_order_relaxed);
	else if (atomic_load_explicit(&t->fresh, memory_order_relaxed))
		task_first_run(t);
	for (;;) {
		if (held ? (old & TASK_COMPLETED) || !(old & TASK_POLLING) :
		    (old & (TASK_POLLING | TASK_COMPLETED)) || !(old & TASK_WOKEN))
			panic("task_run: task %llu dequeued in state %#llx%s",
			      (unsigned long long)t->id, (unsigned long long)old,
			      held ? " (held since a yield)" : "");
		if (old & TASK_CANCELED) {
			/* Traced first, as a completing poll is (below). */
			if (!traced && (unlikely(s->trace != NULL) || trace_enabled())) {
				poll_trace(s, poll_timed(), s->poll_clock,
					   s->poll_clock, t->id, task_name(t),
					   TRACE_POLL_RETIRED);
				traced = true;
			}
			if (retire_cancelled(s, t, old))
				return TASK_RUN_RETIRED;
			continue;
		}
		if (held && !(old & TASK_WOKEN))
			break;
		new = (old & ~TASK_WOKEN) | TASK_POLLING;
		if (transition_alone(t, &old, new))
			break;
	}

	/* The queue's reference keeps `self` valid during the poll. */
	timed = poll_timed();
	start = poll_begin(s, t, timed);
	r = arch_poll_call(poll_thunk, t, &cx);
	poll_end(s, t, start, timed);
	if (r == ARCH_POLL_FAULTED) {
		faulted = true;
		p = POLL_READY;
		poll_owner_add(&s->pstats.faulted, 1);
	} else {
		p = (enum poll)r;
		/* It outlives its first poll: list it now, while the run
		 * queue's reference still keeps it ours (registry.c). */
		if (p == POLL_PENDING && t->home == NULL)
			registry_link(s, t);
	}

	/*
	 * A yield: the task goes back to a queue (sched_tick's yield chain)
	 * and stays POLLING all the way to its next poll, with no atomic
	 * read-modify-write at either end.  A wake meanwhile finds it
	 * POLLING and only sets WOKEN, which the next start clears with its
	 * CAS: that acquire reads the waker's release, as the start CAS of
	 * a queued task does.  A wake this load misses is seen there too.
	 * The held flag travels with the task through the queue (the
	 * queue's release and acquire order it) and tells that start.
	 */
	old = load_state(t);
	if (yielded && p == POLL_PENDING &&
	    (old & (TASK_POLLING | TASK_CANCELED)) == TASK_POLLING) {
		atomic_store_explicit(&t->held, 1, memory_order_relaxed);
		return old & TASK_WOKEN ? TASK_RUN_YIELDED_WOKEN :
					  TASK_RUN_YIELDED;
	}

	/* end: READY or CANCELED -> COMPLETED; woken meanwhile -> requeue. */
	for (;;) {
		if (!(old & TASK_POLLING))
			panic("task_run: task %llu not POLLING after poll",
			      (unsigned long long)t->id);
		if (p == POLL_READY || (old & TASK_CANCELED)) {
			/* Completion is now certain (all three are final). */
			if (!dropped) {
				if (faulted)
					drop_faulted_state(t);
				else
					drop_state(t);
				dropped = true;
				/* drop_state may have woken or referenced the
				 * task itself: decide on the word as it is now
				 * (transition_alone's store must not undo it). */
				old = load_state(t);
				continue;
			}
			new = completed_state(old, p == POLL_READY && !faulted,
					      &joiner);
			if (faulted)
				new |= TASK_FAULTED;
			res = TASK_RUN_DONE;
			/*
			 * The poll's trace event before the CAS that makes the
			 * completion visible: a joiner that dumps the trace
			 * once it sees it (`trace spawn 50`) must find it.
			 * Every other ending is traced by sched_tick, after.
			 */
			if (!traced && (unlikely(s->trace != NULL) || trace_enabled())) {
				poll_trace(s, timed, start, s->poll_clock, t->id,
					   atomic_load_explicit(&s->poll_name,
								memory_order_relaxed),
					   TRACE_POLL_READY);
				traced = true;
			}
		} else if (old & TASK_WOKEN) {
			/* A wake that came during a yielding poll is
			 * counted as that waker's; the yield still decides
			 * where the task goes. */
			new = old & ~TASK_POLLING;
			res = yielded ? TASK_RUN_YIELDED_WOKEN : TASK_RUN_REQUEUE;
		} else if (yielded) {
			/* A yield is a wake from the task itself, made here
			 * in the CAS that ends the poll; sched_tick counts
			 * it. */
			new = (old & ~TASK_POLLING) | TASK_WOKEN;
			res = TASK_RUN_YIELDED;
		} else {
			new = old & ~TASK_POLLING;
			res = TASK_RUN_PENDING;
		}
		/*
		 * Drop the run queue's reference in the same CAS (one atomic
		 * less per poll), unless a joiner must still be woken: the
		 * join waker is read after the CAS, and the joiner may drop
		 * the last other reference as soon as it sees COMPLETED.
		 */
		/*
		 * A completed task that others still hold (a join handle, a
		 * waker) leaves the registry in this core's next flush, which
		 * keeps the queue's reference until then: the last owner,
		 * wherever it runs, then frees it without touching a list.
		 */
		keep = res == TASK_RUN_DONE && t->home != NULL &&
		       task_state_refs(old) > 1;
		if (res == TASK_RUN_PENDING ||
		    (res == TASK_RUN_DONE && !joiner && !keep))
			new -= TASK_REF_ONE;
		if (transition_alone(t, &old, new))
			break;
	}
	if (joiner)
		wake_joiner(s, t);
	if (keep) {
		registry_completed(s, t);	/* it drops the reference */
	} else if (joiner) {
		task_unref(t);
	} else if ((res == TASK_RUN_PENDING || res == TASK_RUN_DONE) &&
		   task_state_refs(new) == 0) {
		/* The acq_rel CAS ordered every other owner's release. */
		task_deallocate(t);
	}
	return res;
}

/* ---- cancellation and join handles ------------------------------------- */

/*
 * cancel: COMPLETED or CANCELED -> nothing (false); else CANCELED + WOKEN;
 * an idle task also gets refs+1 and is enqueued so its scheduler retires it.
 */
bool task_cancel(struct task *t)
{
	uint64_t old = load_state(t), new;

	for (;;) {
		if (old & (TASK_COMPLETED | TASK_CANCELED))
			return false;
		new = old | TASK_CANCELED | TASK_WOKEN;
		if (!(old & (TASK_POLLING | TASK_WOKEN)))
			new += TASK_REF_ONE;
		if (transition(t, &old, new))
			break;
	}
	if (!(old & (TASK_POLLING | TASK_WOKEN)))
		sched_enqueue_woken(bound_sched(t), t);
	return true;
}

bool join_cancel(struct join_handle *jh)
{
	return jh->task ? task_cancel(jh->task) : false;
}

bool join_is_finished(const struct join_handle *jh)
{
	return jh->task == NULL || (task_state_load(jh->task) & TASK_COMPLETED);
}

/*
 * Drop the handle: clear HAS_JOIN_HANDLE; a stored join waker (WAITING)
 * becomes ours again (-> EMPTY) and is dropped; under WOKEN the completing
 * scheduler owns it.
 */
void join_drop(struct join_handle *jh)
{
	struct task *t = jh->task;
	uint64_t old, new;
	bool took;

	if (t == NULL)
		return;
	old = load_state(t);
	for (;;) {
		if (!(old & TASK_HAS_JOIN_HANDLE))
			panic("join_drop: task %llu has no join handle",
			      (unsigned long long)t->id);
		new = old & ~TASK_HAS_JOIN_HANDLE;
		took = (old & TASK_JOIN_WAKER_MASK) == TASK_JW_WAITING;
		if (took)
			new = (new & ~TASK_JOIN_WAKER_MASK) | TASK_JW_EMPTY;
		if (transition(t, &old, new))
			break;
	}
	if (took)
		waker_drop(&t->join_waker);
	jh->task = NULL;
	task_unref(t);
}

/* The task is COMPLETED (seen with acquire): copy out and release. */
static enum poll join_finish(struct join_handle *jh, uint64_t state,
			     void *out, size_t size)
{
	struct task *t = jh->task;
	const struct task_vtable *vt = t->vtable;

	if (state & TASK_HAS_OUTPUT) {
		if (out != NULL) {
			if (size != vt->output_size)
				panic("join_poll: task %llu output is %zu bytes, not %zu",
				      (unsigned long long)t->id, vt->output_size, size);
			memcpy(out, (char *)t + vt->output_offset, size);
		}
		jh->result = JOIN_OK;
	} else {
		jh->result = state & TASK_FAULTED ? JOIN_FAULTED : JOIN_CANCELLED;
	}
	join_drop(jh);
	return POLL_READY;
}

/*
 * Register: JW EMPTY/WAITING -> REGISTERING (we own the field), store the
 * waker, then REGISTERING -> WAITING.  If the task completed in between,
 * completion left REGISTERING alone: we set EMPTY, drop the waker, finish.
 */
enum poll join_poll(struct join_handle *jh, struct context *cx, void *out,
		    size_t size)
{
	struct task *t = jh->task;
	uint64_t old, new;

	if (t == NULL)
		return POLL_READY;
	old = load_state(t);
	for (;;) {
		if (old & TASK_COMPLETED)
			return join_finish(jh, old, out, size);
		if (cx->waker == NULL)
			return POLL_PENDING;	/* a check, nothing to register */
		if ((old & TASK_JOIN_WAKER_MASK) == TASK_JW_REGISTERING ||
		    (old & TASK_JOIN_WAKER_MASK) == TASK_JW_WOKEN)
			panic("join_poll: task %llu join waker state %#llx",
			      (unsigned long long)t->id, (unsigned long long)old);
		new = (old & ~TASK_JOIN_WAKER_MASK) | TASK_JW_REGISTERING;
		if (transition(t, &old, new))
			break;
	}
	/* Under JW_EMPTY the field holds nothing (task.h): set, not swap. */
	if ((old & TASK_JOIN_WAKER_MASK) == TASK_JW_EMPTY)
		t->join_waker = waker_clone(cx->waker);
	else if (!waker_will_wake(&t->join_waker, cx->waker)) {
		waker_drop(&t->join_waker);
		t->join_waker = waker_clone(cx->waker);
	}
	old = new;
	for (;;) {
		if (old & TASK_COMPLETED) {
			new = (old & ~TASK_JOIN_WAKER_MASK) | TASK_JW_EMPTY;
			if (!transition(t, &old, new))
				continue;
			waker_drop(&t->join_waker);
			return join_finish(jh, new, out, size);
		}
		new = (old & ~TASK_JOIN_WAKER_MASK) | TASK_JW_WAITING;
		if (transition(t, &old, new))
			return POLL_PENDING;
	}
}
