/*
 * trace_json.c - Chrome trace-event JSON from the trace rings (see
 * trace_json.h for the document).
 *
 * A core's records are read oldest first and paired as they come: a poll
 * begin waits for the end with the same id, an idle enter for its exit;
 * everything else is written at once.  Each JSON event is formatted into
 * one buffer and written in one call, its separator first, so the output
 * is a sequence of whole lines.
 */
#include "arch.h"
#include "clock.h"
#include "errno.h"
#include "kmalloc.h"
#include "lib/trace_json.h"

/* One JSON event line, and a task name in it (escaped, cut). */
#define LINE_MAX	320
#define NAME_MAX	48
#define NO_NAME		"task"
#define MULT_SHIFT	32

static const char *const poll_ends[] = {
	[TRACE_POLL_PENDING] = NULL,		/* the default: not written */
	[TRACE_POLL_READY] = "ready",
	[TRACE_POLL_REQUEUED] = "requeued",
	[TRACE_POLL_YIELDED] = "yielded",
	[TRACE_POLL_RETIRED] = "retired",
};

static const char *const wake_reasons[] = {
	[ARCH_WOKE_OTHER] = "other",
	[ARCH_WOKE_IPI] = "ipi",
	[ARCH_WOKE_TIMER] = "timer",
	[ARCH_WOKE_DEVICE] = "device",
};

/* Copy `s` into dst as the inside of a JSON string: quotes and
 * backslashes escaped, control bytes and non-ASCII as '?', cut. */
static const char *json_name(char *dst, size_t n, const char *s)
{
	size_t o = 0;

	if (s == NULL)
		s = NO_NAME;
	for (; *s && o + 3 < n; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			dst[o++] = '\\';
		dst[o++] = c < 0x20 || c > 0x7e ? '?' : (char)c;
	}
	dst[o] = '\0';
	return dst;
}

/* A stamp as "us.nnn" since the origin (saturating at the origin). */
static const char *us(const struct trace_json *j, char *buf, size_t n,
		      uint64_t ts)
{
	uint64_t ns = ts > j->origin ?
		      (uint64_t)(((unsigned __int128)(ts - j->origin) * j->mult) >>
				 MULT_SHIFT) : 0;

	ksnprintf(buf, n, "%llu.%03llu", (unsigned long long)(ns / NS_PER_US),
		  (unsigned long long)(ns % NS_PER_US));
	return buf;
}

static void __printf(2, 3) emit(struct trace_json *j, const char *fmt, ...)
{
	char line[LINE_MAX];
	va_list ap;
	size_t o = 0;
	int r;

	if (j->any)
		line[o++] = ',';
	va_start(ap, fmt);
	r = kvsnprintf(line + o, sizeof(line) - o - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	o += (size_t)r < sizeof(line) - o - 1 ? (size_t)r : sizeof(line) - o - 2;
	line[o++] = '\n';
	j->out->write(j->out->ctx, line, o);
	j->st.bytes += o;
	j->any = true;
}

/* An event (not metadata): counted. */
#define event(j, ...)	do { (j)->st.events++; emit((j), __VA_ARGS__); } while (0)

static void core_name(char *buf, size_t n, uint32_t core)
{
	ksnprintf(buf, n, "cpu%u", (unsigned)core);
}

void trace_json_begin(struct trace_json *j, const struct fmt_out *out,
		      uint64_t origin, uint64_t ns, uint64_t stamps)
{
	if (ns == 0 || stamps == 0)
		ns = stamps = 1;
	/* A 32.32 multiplier (no 128-bit division in the kernel): keep ns
	 * below 2^31 so ns << 32 fits; the precision lost is below 2^-31. */
	while (ns >= (1ull << 31)) {
		ns >>= 1;
		stamps >>= 1;
	}
	*j = (struct trace_json){ .out = out, .origin = origin,
				  .mult = stamps ? (ns << MULT_SHIFT) / stamps :
					  1ull << MULT_SHIFT };
	out->write(out->ctx, "{\"traceEvents\":[\n", 17);
	j->st.bytes = 17;
}

/* ,"cat":"CAT" for a category, nothing for a poll (the default). */
static const char *cat_field(char *buf, size_t n, const char *cat)
{
	if (cat == NULL)
		return "";
	ksnprintf(buf, n, ",\"cat\":\"%s\"", cat);
	return buf;
}

static void complete(struct trace_json *j, unsigned core, const char *name,
		     const char *cat, uint64_t t0, uint64_t t1,
		     const char *args)
{
	char ts[24], dur[24], c[24];
	uint64_t d = t1 > t0 ? t1 - t0 : 0;
	struct trace_json z = { .origin = 0, .mult = j->mult };

	event(j, "{\"ph\":\"X\",\"pid\":0,\"tid\":%u,\"ts\":%s,\"dur\":%s,"
	      "\"name\":\"%s\"%s,\"args\":{%s}}", core,
	      us(j, ts, sizeof(ts), t0), us(&z, dur, sizeof(dur), d), name,
	      cat_field(c, sizeof(c), cat), args);
}

static void begin(struct trace_json *j, unsigned core, const char *name,
		  const char *cat, uint64_t t0, const char *args)
{
	char ts[24], c[24];

	event(j, "{\"ph\":\"B\",\"pid\":0,\"tid\":%u,\"ts\":%s,\"name\":\"%s\""
	      "%s,\"args\":{%s}}", core, us(j, ts, sizeof(ts), t0), name,
	      cat_field(c, sizeof(c), cat), args);
}

/* Thread-scoped (the default scope), no category: the name says it. */
static void instant(struct trace_json *j, unsigned core, const char *name,
		    uint64_t t, const char *args)
{
	char ts[24];

	event(j, "{\"ph\":\"i\",\"pid\":0,\"tid\":%u,\"ts\":%s,"
	      "\"name\":\"%s\",\"args\":{%s}}", core,
	      us(j, ts, sizeof(ts), t), name, args);
}

/* A poll whose end was read: a complete event named after its task. */
static void poll_slice(struct trace_json *j, unsigned core,
		       const struct trace_json_open *p, uint64_t end_ts,
		       const char *how)
{
	char name[NAME_MAX], args[64];

	/* Most polls end pending: say only the other endings. */
	if (how)
		ksnprintf(args, sizeof(args), "\"id\":%llu,\"end\":\"%s\"",
			  (unsigned long long)p->id, how);
	else
		ksnprintf(args, sizeof(args), "\"id\":%llu",
			  (unsigned long long)p->id);
	complete(j, core, json_name(name, sizeof(name), p->name), NULL,
		 p->ts, end_ts, args);
}

/* Does record r end the run of a batch's untimed polls that began at ts?
 * A poll of another batch (or a timed one), or what a core does between
 * ticks. */
static bool ends_batch(const struct trace_record *r, uint64_t ts)
{
	switch (r->type) {
	case TRACE_POLL:
		return r->ts != ts || !trace_poll_untimed(r->a);
	case TRACE_POLL_BEGIN:
	case TRACE_STEAL:
	case TRACE_INJECT:
	case TRACE_IDLE_ENTER:
	case TRACE_IDLE_EXIT:
	case TRACE_TIMERS:
		return true;
	default:
		return false;
	}
}

/* span * i / n (i <= n) without overflow or a 128-bit division (the
 * kernel has none); n is at most a ring's events. */
static uint64_t share(uint64_t span, size_t i, size_t n)
{
	return span / n * i + span % n * i / n;
}

/*
 * An untimed poll (recs[k]): the k-th of its batch's run gets its share
 * of the time from the batch's start to the end of the run, the first
 * later stamp of the record that ends it, or of the run's own records
 * (spawns, wakes and IPIs in between).  A run the copy ends is drawn as
 * far as its last stamp.
 */
static void untimed_poll(struct trace_json *j, struct trace_json_lane *l,
			 const struct trace_record *r, size_t k)
{
	struct trace_json_open p = { true, 0, r->x,
				     (const char *)(uintptr_t)r->y };
	unsigned how = trace_poll_how(r->a);
	char name[NAME_MAX], args[80];
	uint64_t span;

	if (l->batch.i >= l->batch.n || l->batch.ts != r->ts) {
		uint64_t end = r->ts;
		size_t n = 0;

		for (size_t m = k; m < l->n; m++) {
			const struct trace_record *q = &l->recs[m];

			if (ends_batch(q, r->ts)) {
				if (q->ts > end)
					end = q->ts;
				break;
			}
			if (q->type == TRACE_POLL)
				n++;
			else if (q->ts > end)
				end = q->ts;
		}
		l->batch.ts = r->ts;
		l->batch.end = end;
		l->batch.n = n;
		l->batch.i = 0;
	}
	span = l->batch.end - l->batch.ts;
	p.ts = l->batch.ts + share(span, l->batch.i, l->batch.n);
	l->batch.i++;
	if (how < ARRAY_SIZE(poll_ends) && poll_ends[how])
		ksnprintf(args, sizeof(args),
			  "\"id\":%llu,\"end\":\"%s\",\"untimed\":1",
			  (unsigned long long)p.id, poll_ends[how]);
	else
		ksnprintf(args, sizeof(args), "\"id\":%llu,\"untimed\":1",
			  (unsigned long long)p.id);
	complete(j, l->core, json_name(name, sizeof(name), p.name), NULL, p.ts,
		 l->batch.ts + share(span, l->batch.i, l->batch.n), args);
}

static void one(struct trace_json *j, unsigned core,
		const struct trace_record *r, struct trace_json_open *poll,
		struct trace_json_open *idle)
{
	char name[NAME_MAX], args[96], who[24];

	switch (r->type) {
	case TRACE_SPAWN:
		ksnprintf(args, sizeof(args), "\"id\":%llu,\"task\":\"%s\"",
			  (unsigned long long)r->x,
			  json_name(name, sizeof(name),
				    (const char *)(uintptr_t)r->y));
		instant(j, core, "spawn", r->ts, args);
		break;
	case TRACE_POLL_BEGIN:
		/* Its predecessor's end was torn away: close it here. */
		if (poll->open)
			poll_slice(j, core, poll, r->ts, "unknown");
		*poll = (struct trace_json_open){ true, r->ts, r->x,
					     (const char *)(uintptr_t)r->y };
		break;
	case TRACE_POLL: {
		struct trace_json_open whole = { true, r->ts, r->x,
						 (const char *)(uintptr_t)r->y };
		unsigned how = trace_poll_how(r->a);

		poll_slice(j, core, &whole, r->ts + trace_poll_stamps(r->a),
			   how < ARRAY_SIZE(poll_ends) ? poll_ends[how] : "?");
		break;
	}
	case TRACE_POLL_END:
		/* An end whose begin was lost (wrapped) is left out. */
		if (poll->open && poll->id == r->x)
			poll_slice(j, core, poll, r->ts,
				   r->a < ARRAY_SIZE(poll_ends) ? poll_ends[r->a] : "?");
		poll->open = false;
		break;
	case TRACE_WAKE:
		/* On the woken core's lane, saying who woke it. */
		core_name(who, sizeof(who), core);
		ksnprintf(args, sizeof(args), "\"id\":%llu,\"from\":\"%s%s\"",
			  (unsigned long long)r->x,
			  r->a & TRACE_WAKE_IRQ ? "irq on " : "", who);
		instant(j, r->a & TRACE_WAKE_CORE_MASK, "wake", r->ts, args);
		break;
	case TRACE_STEAL:
	case TRACE_INJECT:
		core_name(who, sizeof(who), r->a);
		if (r->type == TRACE_STEAL)
			ksnprintf(args, sizeof(args), "\"tasks\":%llu,\"from\":\"%s\"",
				  (unsigned long long)r->x, who);
		else
			ksnprintf(args, sizeof(args), "\"tasks\":%llu",
				  (unsigned long long)r->x);
		complete(j, core, trace_type_name(r->type), "steal",
			 r->y && r->y <= r->ts ? r->y : r->ts, r->ts, args);
		break;
	case TRACE_IDLE_ENTER:
		*idle = (struct trace_json_open){ true, r->ts, 0, NULL };
		break;
	case TRACE_IDLE_EXIT:
		if (idle->open) {
			ksnprintf(args, sizeof(args), "\"woke\":\"%s\"",
				  r->a < ARRAY_SIZE(wake_reasons) ?
				  wake_reasons[r->a] : "?");
			complete(j, core, "idle", "idle", idle->ts, r->ts, args);
		}
		idle->open = false;
		break;
	case TRACE_IPI:
		core_name(who, sizeof(who), r->a);
		ksnprintf(args, sizeof(args), "\"to\":\"%s\"", who);
		instant(j, core, "ipi", r->ts, args);
		break;
	case TRACE_TIMERS:
		ksnprintf(args, sizeof(args), "\"fired\":%llu",
			  (unsigned long long)r->x);
		instant(j, core, "timers", r->ts, args);
		break;
	case TRACE_FAULT:
		if (r->a == TRACE_FAULT_PANIC)
			ksnprintf(args, sizeof(args), "\"id\":%llu,\"what\":\"panic\"",
				  (unsigned long long)r->x);
		else
			ksnprintf(args, sizeof(args), "\"id\":%llu,\"vector\":%u",
				  (unsigned long long)r->x, (unsigned)r->a);
		instant(j, core, "fault", r->ts, args);
		break;
	default:
		ksnprintf(args, sizeof(args), "\"type\":%u", (unsigned)r->type);
		instant(j, core, "unknown", r->ts, args);
		break;
	}
}

void trace_json_core_start(struct trace_json *j, struct trace_json_lane *l,
			   unsigned core, const struct trace_record *recs,
			   size_t n, const struct trace_read *rd)
{
	char name[NAME_MAX], args[96];

	*l = (struct trace_json_lane){ .core = core, .recs = recs, .n = n };
	j->st.cores++;
	j->st.records += n;
	j->st.lost += rd->lost;
	j->st.torn += rd->torn;
	if (n == 0 && rd->lost == 0 && rd->torn == 0)
		return;
	if (!j->named) {
		emit(j, "{\"ph\":\"M\",\"pid\":0,\"name\":\"process_name\","
		     "\"args\":{\"name\":\"hyphae\"}}");
		j->named = true;
	}
	core_name(name, sizeof(name), core);
	emit(j, "{\"ph\":\"M\",\"pid\":0,\"tid\":%u,\"name\":\"thread_name\","
	     "\"args\":{\"name\":\"%s\"}}", core, name);
	emit(j, "{\"ph\":\"M\",\"pid\":0,\"tid\":%u,\"name\":\"thread_sort_index\","
	     "\"args\":{\"sort_index\":%u}}", core, core);
	if (rd->lost || rd->torn) {
		ksnprintf(name, sizeof(name), "lost %llu events",
			  (unsigned long long)(rd->lost + rd->torn));
		ksnprintf(args, sizeof(args), "\"wrapped\":%llu,\"torn\":%llu",
			  (unsigned long long)rd->lost, (unsigned long long)rd->torn);
		instant(j, core, name, n ? recs[0].ts : j->origin, args);
	}
}

bool trace_json_core_step(struct trace_json *j, struct trace_json_lane *l,
			  size_t max)
{
	char name[NAME_MAX], args[96];

	for (; l->next < l->n && max; l->next++, max--) {
		const struct trace_record *r = &l->recs[l->next];

		if (r->type == TRACE_POLL && trace_poll_untimed(r->a))
			untimed_poll(j, l, r, l->next);
		else
			one(j, l->core, r, &l->poll, &l->idle);
	}
	if (l->next < l->n)
		return false;
	/* Still going when the copy was taken (or the core stopped). */
	if (l->poll.open) {
		ksnprintf(args, sizeof(args), "\"id\":%llu",
			  (unsigned long long)l->poll.id);
		begin(j, l->core, json_name(name, sizeof(name), l->poll.name), NULL,
		      l->poll.ts, args);
	}
	if (l->idle.open)
		begin(j, l->core, "idle", "idle", l->idle.ts, "");
	l->poll.open = l->idle.open = false;
	return true;
}

void trace_json_core(struct trace_json *j, unsigned core,
		     const struct trace_record *recs, size_t n,
		     const struct trace_read *rd)
{
	struct trace_json_lane l;

	trace_json_core_start(j, &l, core, recs, n, rd);
	(void)trace_json_core_step(j, &l, n);
}

void trace_json_end(struct trace_json *j)
{
	char tail[LINE_MAX];
	int n;

	n = ksnprintf(tail, sizeof(tail),
		      "],\"displayTimeUnit\":\"ns\",\"otherData\":{\"cores\":%u,"
		      "\"events\":%llu,\"lost\":%llu,\"torn\":%llu,"
		      "\"ring_events\":%u,\"ring_event_bytes\":%zu}}\n",
		      j->st.cores, (unsigned long long)j->st.events,
		      (unsigned long long)j->st.lost,
		      (unsigned long long)j->st.torn, TRACE_RING_EVENTS,
		      sizeof(struct trace_event));
	j->out->write(j->out->ctx, tail, (size_t)n);
	j->st.bytes += (size_t)n;
}

int trace_json_write(const struct fmt_out *out, struct trace_json_stats *st)
{
	struct trace_record *recs = kmalloc(TRACE_RING_EVENTS * sizeof(*recs));
	unsigned cores = trace_cores();
	struct trace_json j;
	uint64_t ns, stamps;

	if (recs == NULL)
		return -ENOMEM;
	trace_rate(&ns, &stamps);
	trace_json_begin(&j, out, trace_epoch(), ns, stamps);
	for (unsigned c = 0; c < cores; c++) {
		struct trace_ring *r = trace_ring_of(c);
		struct trace_read rd;

		if (r == NULL)
			continue;
		trace_ring_copy(r, recs, TRACE_RING_EVENTS, &rd);
		trace_json_core(&j, c, recs, rd.copied, &rd);
	}
	trace_json_end(&j);
	kfree(recs);
	if (st)
		*st = j.st;
	return 0;
}
