/*
 * trace_json.h - the trace rings as Chrome trace-event JSON, which
 * Perfetto (ui.perfetto.dev) and chrome://tracing open.
 *
 * One process ("hyphae"), one thread per core ("cpu0", ...).  A poll is a
 * complete event ("X") named after its task, category "poll"; idle
 * stretches ("idle"), steals ("steal", "injector") are complete events
 * too; spawns, wakes (on the woken core's lane, from which core or
 * interrupt), IPIs, timer firings and faults are instant events ("i").  A
 * poll or idle stretch still open at the end is a begin event ("B").
 * Polls traced with poll timing off carry only their batch's start: a
 * batch's polls are spread evenly, in order, from that start to the
 * core's next later stamp (the next batch, a steal, idle), and each says
 * "untimed":1 in its args.
 * Timestamps are microseconds with nanosecond decimals since the trace's
 * origin (trace_epoch).  One event per line, each line one write (a log
 * line from another core can only fall between lines):
 *
 *   {"traceEvents":[
 *   {"ph":"M","pid":0,"name":"process_name","args":{"name":"hyphae"}}
 *   ,{"ph":"X","pid":0,"tid":1,"ts":12.345,"dur":0.210,"name":"spawn",...}
 *   ],"otherData":{"cores":4,"events":2,"lost":0,"torn":0,...}}
 *
 * A ring that wrapped gets an instant "lost N events" at the start of its
 * lane, and otherData counts what was lost over all cores.  Reference:
 * the Trace Event Format (Google, docs.google.com "Trace Event Format").
 */
#ifndef HYPHAE_LIB_TRACE_JSON_H
#define HYPHAE_LIB_TRACE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "lib/fmt.h"
#include "lib/trace.h"

/* What a trace_json_write() put out. */
struct trace_json_stats {
	unsigned cores;		/* lanes (cores with a ring) */
	uint64_t records;	/* ring events read */
	uint64_t events;	/* JSON events written, metadata excluded */
	uint64_t lost;		/* ring events lost to wrapping */
	uint64_t torn;		/* ring events dropped as torn */
	uint64_t bytes;		/* JSON bytes written */
};

/* A poll or idle stretch whose end has not been read yet. */
struct trace_json_open {
	bool open;
	uint64_t ts, id;
	const char *name;
};

/* One core's records on their way out (trace_json_core_start/step). */
struct trace_json_lane {
	unsigned core;
	const struct trace_record *recs;
	size_t n, next;
	struct trace_json_open poll, idle;
	/* The untimed polls of one batch (POLL events sharing the batch's
	 * start, trace_poll_untimed()): spread over [ts, end] in order. */
	struct {
		uint64_t ts, end;
		size_t n, i;
	} batch;
};

/* The writer's state while it goes over the cores. */
struct trace_json {
	const struct fmt_out *out;
	uint64_t origin;	/* stamp at JSON time 0 */
	uint64_t mult;		/* ns per stamp, 32.32 fixed point */
	bool named;		/* process_name written */
	bool any;		/* an element written (commas) */
	struct trace_json_stats st;
};

/*
 * Write every core's ring as one JSON document to `out`, copying each
 * ring out first (a ring may be written meanwhile: torn events are
 * dropped and counted).  Fills *st if not NULL.  0, or -ENOMEM when the
 * copy buffer cannot be allocated (nothing written).  Task context.
 */
int __must_check trace_json_write(const struct fmt_out *out,
				  struct trace_json_stats *st);

/*
 * The same in steps, for callers with their own records (tests): begin,
 * then each core's records oldest first with what the copy found (rd:
 * lost and torn counts), then end.  A timestamp ts is (ts - origin) *
 * ns / stamps nanoseconds into the trace.  Task context.
 */
void trace_json_begin(struct trace_json *j, const struct fmt_out *out,
		      uint64_t origin, uint64_t ns, uint64_t stamps);
void trace_json_core(struct trace_json *j, unsigned core,
		     const struct trace_record *recs, size_t n,
		     const struct trace_read *rd);
void trace_json_end(struct trace_json *j);

/*
 * trace_json_core() in steps, for a writer that yields between them (the
 * shell's dump): start writes the lane's header, each step at most `max`
 * records; true once the lane is done (its open slices written).  recs
 * must stay valid until then.  Task context.
 */
void trace_json_core_start(struct trace_json *j, struct trace_json_lane *l,
			   unsigned core, const struct trace_record *recs,
			   size_t n, const struct trace_read *rd);
bool trace_json_core_step(struct trace_json *j, struct trace_json_lane *l,
			  size_t max);

#endif /* HYPHAE_LIB_TRACE_JSON_H */
