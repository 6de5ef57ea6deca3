/*
 * dump.c - the runtime as the shell's `rt` shows it: one row per core
 * (queues and counters), then per core its wakeups, injector takes,
 * kicks, faults and longest poll; `rt -h` adds the poll-time histograms.
 * Everything is a relaxed snapshot: counters move while it prints.
 */
#include <stdarg.h>
#include <stdatomic.h>

#include "arch.h"
#include "config.h"
#include "lib/fmt.h"
#include "rt/rt_internal.h"

/* Cores per block of the histogram table (its columns). */
#define HIST_COLUMNS	8

struct dump_buf {
	void (*out)(const char *s, size_t n);
};

static void __printf(2, 3) dump_line(struct dump_buf *d, const char *fmt, ...)
{
	char line[200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	d->out(line, (size_t)n);
}

/* A counter for the dump: relaxed, it is a snapshot. */
static unsigned long long rd(_Atomic uint64_t *c)
{
	return (unsigned long long)atomic_load_explicit(c, memory_order_relaxed);
}

static const char *const state_names[] = {
	[RT_CORE_UNCLAIMED] = "unclaimed",
	[RT_CORE_RUNNING] = "running",
	[RT_CORE_IDLE] = "idle",
	[RT_CORE_STOPPED] = "stopped",
};

static bool slot_ready(struct rt_slot *slot)
{
	/* acquire: pairs with the release store in rt_core_new(). */
	return atomic_load_explicit(&slot->initialised, memory_order_acquire);
}

static void dump_counters(struct dump_buf *d, struct runtime *rt, unsigned n)
{
	ticks_t now = clock_now(rt->clock);

	dump_line(d, "%4s %5s %-9s %7s %9s %9s %9s %8s %8s %9s %8s %5s\n",
		  "core", "apic", "state", "queued", "spawned", "polled",
		  "completed", "stol-in", "stol-out", "woken", "turns", "idle%");
	for (unsigned i = 0; i < n; i++) {
		struct rt_slot *slot = &rt->slots[i];
		struct scheduler *sc = &slot->sched;
		uint64_t start, idle, since, busy_pct10;
		int state;

		if (!slot_ready(slot))
			continue;
		state = atomic_load_explicit(&slot->state, memory_order_relaxed);
		start = atomic_load_explicit(&slot->run_ticks_start,
					     memory_order_relaxed);
		idle = atomic_load_explicit(&slot->idle_ticks, memory_order_relaxed);
		/* A core asleep right now: count the stretch so far too. */
		since = atomic_load_explicit(&slot->idle_since, memory_order_relaxed);
		if (since && now > since)
			idle += now - since;
		busy_pct10 = (start && now > start) ?
			     idle * 1000 / (now - start) : 0;
		dump_line(d, "%4u %5u %-9s %7llu %9llu %9llu %9llu %8llu %8llu "
			  "%9llu %8llu %3llu.%llu\n",
			  i, (unsigned)slot->hwid,
			  state >= 0 && state <= RT_CORE_STOPPED ?
				state_names[state] : "?",
			  (unsigned long long)sched_queued(sc),
			  (unsigned long long)sched_spawned(sc),
			  rd(&sc->polled),
			  rd(&sc->completed),
			  rd(&sc->stolen_in),
			  rd(&sc->stolen_out),
			  rd(&sc->woken_internal) + rd(&sc->woken_external),
			  rd(&slot->timer_turns),
			  (unsigned long long)(busy_pct10 / 10),
			  (unsigned long long)(busy_pct10 % 10));
	}
}

/* Per core: what the first table has no room for, and the longest poll. */
static void dump_polls(struct dump_buf *d, struct runtime *rt, unsigned n)
{
	dump_line(d, "%4s %7s %8s %6s %7s %6s %7s %7s  %s\n", "core", "listed",
		  "wakeups", "inj", "pulled", "kicked", "faulted", "reports",
		  "longest poll");
	for (unsigned i = 0; i < n; i++) {
		struct rt_slot *slot = &rt->slots[i];
		struct sched_poll_stats *ps = &slot->sched.pstats;
		uint64_t longest;
		const char *name;
		char took[24], id[TASK_ID_STR];

		if (!slot_ready(slot))
			continue;
		longest = rd(&ps->longest);
		name = atomic_load_explicit(&ps->longest_name, memory_order_relaxed);
		dump_line(d, "%4u %7zu %8llu %6llu %7llu %6llu %7llu %7llu  "
			  "%s%s%s%s%s\n", i,
			  sched_registry_count(&slot->sched), rd(&slot->wakeups),
			  rd(&slot->from_injector), rd(&slot->sched.pulled_in),
			  rd(&slot->kicks),
			  rd(&ps->faulted), rd(&slot->reports),
			  name ? fmt_ns(took, sizeof(took),
					arch_cycles_to_ns(longest)) : "-",
			  name ? " " : "", name ? name : "",
			  name ? " " : "",
			  name ? task_id_str(rd(&ps->longest_id), id) : "");
	}
}

void rt_dump(struct runtime *rt, void (*out)(const char *s, size_t n))
{
	struct dump_buf d = { out };
	unsigned n = rt_claimed(rt);
	uint64_t wd = rt_watchdog_get(rt);
	char wds[24];

	dump_line(&d, "cores: %u/%u active, %u idle\n", rt_active_cores(rt),
		  MAX_CORES,
		  atomic_load_explicit(&rt->idle_count, memory_order_relaxed));
	dump_line(&d, "injector: %llu queued, %llu injected\n",
		  (unsigned long long)injector_queued(&rt->injector),
		  rd(&rt->injector.injected));
	dump_counters(&d, rt, n);
	dump_polls(&d, rt, n);
	dump_line(&d, "watchdog: %s\n",
		  wd ? fmt_ns(wds, sizeof(wds), wd) : "off");
	dump_line(&d, "poll timing: %s\n", sched_poll_timing() ? "on" :
		  "off (no poll times, busy times or histograms; `timing on`)");
	dump_line(&d, "task cache: %zu KiB on the cores, %zu KiB in the depot\n",
		  (rt_task_cache_bytes(rt) - task_cache_depot_bytes()) / 1024,
		  task_cache_depot_bytes() / 1024);
	timer_dump(&rt->timer, out);
}

/* One block of the histogram table: cores [first, first + cols). */
static void dump_hist_block(struct dump_buf *d, struct runtime *rt,
			    const unsigned *cores, unsigned cols)
{
	char line[200], lo[24], head[16];
	int len;

	len = ksnprintf(line, sizeof(line), "%-14s", "poll time");
	for (unsigned c = 0; c < cols; c++) {
		ksnprintf(head, sizeof(head), "core %u", cores[c]);
		len += ksnprintf(line + len, sizeof(line) - (size_t)len,
				 " %12s", head);
	}
	dump_line(d, "%s\n", line);
	for (unsigned b = 0; b < SCHED_POLL_BUCKETS; b++) {
		bool any = false;

		for (unsigned c = 0; c < cols; c++)
			any |= rd(&rt->slots[cores[c]].sched.pstats.hist[b]) != 0;
		if (!any)
			continue;
		len = ksnprintf(line, sizeof(line), "%s%-11s",
				b == SCHED_POLL_BUCKETS - 1 ? ">= " : "<  ",
				fmt_ns(lo, sizeof(lo), arch_cycles_to_ns(
					b == SCHED_POLL_BUCKETS - 1 ? 1ull << b :
					2ull << b)));
		for (unsigned c = 0; c < cols; c++)
			len += ksnprintf(line + len, sizeof(line) - (size_t)len,
					 " %12llu",
					 rd(&rt->slots[cores[c]].sched.pstats.hist[b]));
		dump_line(d, "%s\n", line);
	}
}

void rt_dump_polls(struct runtime *rt, void (*out)(const char *s, size_t n))
{
	struct dump_buf d = { out };
	unsigned n = rt_claimed(rt), cores[HIST_COLUMNS], cols = 0;

	dump_line(&d, "polls by duration (log2 buckets; a poll's time includes "
		  "the scheduler's own work for it):\n");
	if (!sched_poll_timing())
		dump_line(&d, "poll timing is off: only polls timed while it "
			  "was on are counted (`timing on`)\n");
	for (unsigned i = 0; i < n; i++) {
		if (!slot_ready(&rt->slots[i]))
			continue;
		cores[cols++] = i;
		if (cols == HIST_COLUMNS) {
			dump_hist_block(&d, rt, cores, cols);
			cols = 0;
		}
	}
	if (cols)
		dump_hist_block(&d, rt, cores, cols);
	dump_polls(&d, rt, n);
}

size_t rt_task_cache_bytes(struct runtime *rt)
{
	unsigned n = rt_claimed(rt);
	size_t bytes = task_cache_depot_bytes();

	for (unsigned i = 0; i < n; i++)
		if (slot_ready(&rt->slots[i]))
			bytes += task_cache_bytes(&rt->slots[i].sched.cache);
	return bytes;
}
