/*
 * bench_mem.c - memory: bytes per task, per pending timer, per core slot,
 * and the heap in use before and after a 100,000-task run on WORKERS host
 * cores (env, default 2), which must return to its baseline.
 *
 * The heap is glibc's, read with mallinfo2() (uordblks + hblkhd).  For the
 * count to be exact the program re-executes itself with one malloc arena
 * and no per-thread cache (GLIBC_TUNABLES), so every thread's chunks are
 * counted and a freed chunk is free at once.  The 100k tasks each sleep
 * 1 ms on the runtime's timer, yield once and complete; "per sleeping
 * task" is the heap growth while all of them wait on the timer, divided by
 * their number.  Output: `NAME  N bytes`; exits 1 if the heap does not
 * return to the baseline.  Free task storage held by the task caches
 * (sched/task_cache.h) is not counted as in use; its size is printed.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "kmalloc.h"
#include "rt/rt.h"
#include "sched/channel.h"
#include "sched/mutex.h"
#include "sched/rwlock.h"
#include "sched/semaphore.h"
#include "sched/task.h"
#include "sched/wait_map.h"
#include "timer/interval.h"
#include "timer/sleep.h"
#include "tests/support/rt_harness.h"

#define NTASKS		100000u
#define SLEEP_NS	1000000ull
#define LONG_SLEEP_NS	3000000000ull
#define WAIT_LIMIT_S	30
#define TUNABLES	"glibc.malloc.arena_max=1:glibc.malloc.tcache_count=0"

static struct runtime *mem_rt;	/* the runtime measured, once started */

/* Heap bytes in live objects: in use, less the free task storage that the
 * task caches keep (rt_task_cache_bytes). */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd -
	       (mem_rt ? rt_task_cache_bytes(mem_rt) : 0);
}

struct sleeper {
	struct task task;
	unsigned pt;
	struct sleep sl;
};

static atomic_uint polled_once, finished;

static enum poll sleeper_poll(struct task *t, struct context *cx)
{
	struct sleeper *s = container_of(t, struct sleeper, task);

	TASK_BEGIN(s->pt);
	atomic_fetch_add_explicit(&polled_once, 1, memory_order_relaxed);
	TASK_AWAIT(sleep_poll(&s->sl, cx));
	TASK_YIELD();
	atomic_fetch_add_explicit(&finished, 1, memory_order_release);
	TASK_END;
}

static const struct task_vtable sleeper_vt = { .poll = sleeper_poll };

/* Spawn NTASKS sleepers of `ns` from outside (the injector). */
static void spawn_sleepers(struct runtime *rt, uint64_t ns)
{
	for (unsigned i = 0; i < NTASKS; i++) {
		struct sleeper init = { .pt = 0 };

		if (sleep_init_duration(&init.sl, &rt->timer, ns) ||
		    rt_spawn(rt, &sleeper_vt, &init, sizeof(init), NULL))
			abort();
	}
}

static void print_bytes(const char *name, size_t n)
{
	printf("%-36s %10zu bytes\n", name, n);
}

int main(int argc, char **argv)
{
	static struct harness h;
	unsigned nworkers = 2;
	struct runtime *rt;
	size_t base0, base, peak, after;
	void *probe;
	const char *e;

	(void)argc;
	if (!getenv("HYPHAE_BENCH_MEM_CHILD")) {
		setenv("HYPHAE_BENCH_MEM_CHILD", "1", 1);
		setenv("GLIBC_TUNABLES", TUNABLES, 1);
		execv("/proc/self/exe", argv);
		perror("bench_mem: execv");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((e = getenv("WORKERS")) && atoi(e) > 0 && atoi(e) <= MAX_CORES)
		nworkers = (unsigned)atoi(e);
	printf("# bench_mem: %u workers, heap = mallinfo2 uordblks+hblkhd (%s)\n",
	       nworkers, TUNABLES);

	print_bytes("task_header", sizeof(struct task));
	probe = kmalloc(sizeof(struct task));
	print_bytes("task_heap_empty", malloc_usable_size(probe) + sizeof(size_t));
	kfree(probe);
	print_bytes("sleeping_task_struct", sizeof(struct sleeper));
	probe = kmalloc(sizeof(struct sleeper));
	print_bytes("sleeping_task_heap", malloc_usable_size(probe) + sizeof(size_t));
	kfree(probe);
	print_bytes("timer_entry", sizeof(struct timer_entry));
	print_bytes("sleep", sizeof(struct sleep));
	print_bytes("rt_slot", sizeof(struct rt_slot));
	print_bytes("rt_slots_array", sizeof(((struct runtime *)0)->slots));
	print_bytes("runtime", sizeof(struct runtime));
	print_bytes("scheduler", sizeof(struct scheduler));
	print_bytes("semaphore", sizeof(struct semaphore));
	print_bytes("semaphore_waiter", sizeof(struct semaphore_waiter));
	print_bytes("mutex", sizeof(struct mutex));
	print_bytes("rwlock", sizeof(struct rwlock));
	print_bytes("wait_map", sizeof(struct wait_map));
	print_bytes("wait_map_entry", sizeof(struct wait_map_entry));
	print_bytes("channel", sizeof(struct channel));
	print_bytes("channel_sender", sizeof(struct channel_sender));
	print_bytes("channel_slot_u64", CHANNEL_SLOT_SIZE(sizeof(uint64_t)));
	print_bytes("interval", sizeof(struct interval));

	h_start(&h, nworkers);
	rt = h.rt;
	mem_rt = rt;
	/* The baseline: the cores running, no task spawned yet, so no task
	 * storage is cached anywhere. */
	task_cache_depot_trim();
	base0 = heap_in_use();

	/* Bytes per sleeping task: all NTASKS wait on a long sleep.  Cached
	 * storage is subtracted, so this is live bytes (cached blocks are
	 * counted at their class size, glibc's chunk headers not). */
	base = heap_in_use();
	spawn_sleepers(rt, LONG_SLEEP_NS);
	if (!h_wait_for(&polled_once, NTASKS, WAIT_LIMIT_S * 1000))
		goto stuck;
	peak = heap_in_use();
	print_bytes("heap_per_sleeping_task", (peak - base) / NTASKS);
	if (!h_wait_for(&finished, NTASKS, WAIT_LIMIT_S * 1000))
		goto stuck;

	/* The 100,000-task run: 1 ms sleeps, a yield, completion.  Relaxed
	 * resets: the spawns' release enqueues publish them. */
	atomic_store_explicit(&polled_once, 0, memory_order_relaxed);
	atomic_store_explicit(&finished, 0, memory_order_relaxed);
	spawn_sleepers(rt, SLEEP_NS);
	peak = heap_in_use();
	if (!h_wait_for(&finished, NTASKS, WAIT_LIMIT_S * 1000))
		goto stuck;
	print_bytes("task_cache_after_100k_tasks", rt_task_cache_bytes(rt));

	/* Exact accounting: stop the cores (each drains its cache into the
	 * depot), give the depot back, compare with the baseline. */
	h_stop(&h);
	task_cache_depot_trim();
	after = heap_in_use();
	print_bytes("heap_before_100k_tasks", base0);
	print_bytes("heap_right_after_spawning_100k", peak);
	print_bytes("heap_after_100k_tasks", after);
	mem_rt = NULL;
	h_free(&h);
	if (after != base0) {
		printf("# bench_mem: heap did not return to its baseline (%+lld bytes)\n",
		       (long long)after - (long long)base0);
		return 1;
	}
	printf("# bench_mem: heap back to baseline\n");
	return 0;
stuck:
	printf("# bench_mem: tasks did not finish within %d s\n", WAIT_LIMIT_S);
	return 1;
}
