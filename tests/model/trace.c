/*
 * trace.c - the steps of one schedule, and how they are printed.
 *
 * Every operation a model thread performs, every store buffer drain,
 * preemption, yield, lock wait, wakeup and timer is one event.  A failing
 * schedule is printed one event per line:
 *
 *   step thread  operation         object            value         where
 *     41 waker   fetch_and acq_rel rt.idle[0]        1 -> 0        rt/rt.c:100 idle_test_and_clear
 *                                                                   | uint64_t old = atomic_fetch_and_explicit(...
 *
 * with the source line under the site.  Code addresses (plain accesses in
 * race reports) are turned into file:line by addr2line.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/model/checker.h"

static struct trace_ev *evs;
static unsigned nevs, cap;

void trace_reset(void)
{
	nevs = 0;
}

void trace_add(const struct trace_ev *e)
{
	if (nevs == cap) {
		cap = cap ? 2 * cap : 4096;
		evs = realloc(evs, cap * sizeof(*evs));
		if (evs == NULL)
			abort();
	}
	evs[nevs++] = *e;
}

const char *order_name(int order)
{
	switch (order) {
	case memory_order_relaxed:	return "relaxed";
	case memory_order_consume:	return "consume";
	case memory_order_acquire:	return "acquire";
	case memory_order_release:	return "release";
	case memory_order_acq_rel:	return "acq_rel";
	case memory_order_seq_cst:	return "seq_cst";
	default:			return "";
	}
}

static const char *rmw_name(unsigned op)
{
	static const char *const names[] = {
		[MODEL_RMW_XCHG] = "xchg", [MODEL_RMW_ADD] = "fetch_add",
		[MODEL_RMW_SUB] = "fetch_sub", [MODEL_RMW_AND] = "fetch_and",
		[MODEL_RMW_OR] = "fetch_or", [MODEL_RMW_XOR] = "fetch_xor",
	};

	return op < sizeof(names) / sizeof(names[0]) ? names[op] : "rmw";
}

/* ---- source lines -------------------------------------------------------- */

struct source {
	const char *path;	/* as in __FILE__ (a string literal) */
	char *text;
	char **lines;
	unsigned n;
};

static struct source sources[64];
static unsigned nsources;

static const struct source *source(const char *path)
{
	struct source *s;
	FILE *f;
	long len;

	for (unsigned i = 0; i < nsources; i++)
		if (sources[i].path == path || strcmp(sources[i].path, path) == 0)
			return &sources[i];
	if (nsources == sizeof(sources) / sizeof(sources[0]))
		return NULL;
	s = &sources[nsources++];
	s->path = path;
	f = fopen(path, "r");
	if (f == NULL)
		return s;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	s->text = malloc((size_t)len + 1);
	if (s->text && fread(s->text, 1, (size_t)len, f) == (size_t)len) {
		s->text[len] = '\0';
		s->lines = malloc(((size_t)len + 2) * sizeof(char *));
		if (s->lines) {
			char *p = s->text;

			s->lines[s->n++] = p;
			while ((p = strchr(p, '\n')) != NULL) {
				*p++ = '\0';
				s->lines[s->n++] = p;
			}
		}
	}
	fclose(f);
	return s;
}

/* The source text of file:line, leading blanks skipped, or "". */
static const char *source_line(const char *file, int line)
{
	const struct source *s = source(file);
	const char *p;

	if (s == NULL || line < 1 || (unsigned)line > s->n)
		return "";
	p = s->lines[line - 1];
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

const char *trace_symbolize(const void *pc, char *buf, size_t n)
{
	Dl_info info;
	char cmd[512], func[256] = "?", where[512] = "?";
	FILE *p;

	if (pc == NULL || !dladdr(pc, &info) || info.dli_fname == NULL) {
		snprintf(buf, n, "%p", pc);
		return buf;
	}
	/* The return address is just past the call: look up the call. */
	snprintf(cmd, sizeof(cmd), "addr2line -f -e '%s' %#lx 2>/dev/null",
		 info.dli_fname,
		 (unsigned long)((uintptr_t)pc - 1 - (uintptr_t)info.dli_fbase));
	p = popen(cmd, "r");
	if (p) {
		if (fgets(func, sizeof(func), p) && fgets(where, sizeof(where), p)) {
			func[strcspn(func, "\n")] = '\0';
			/* "file:line (discriminator 3)": the line is enough. */
			where[strcspn(where, " \n")] = '\0';
		}
		pclose(p);
	}
	/* Shorten an absolute path to the tree's relative one. */
	{
		const char *w = where;
		const char *dirs[] = { "/sched/", "/timer/", "/rt/", "/lib/",
				       "/tests/", "/include/" };

		for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			const char *d = strstr(where, dirs[i]);

			if (d) {
				w = d + 1;
				break;
			}
		}
		snprintf(buf, n, "%s %s", w, func);
	}
	return buf;
}

/* ---- printing ------------------------------------------------------------ */

static void describe(const struct trace_ev *e, char *op, size_t opn,
		     char *val, size_t valn)
{
	char a[96], b[96];
	const char *ord = order_name(e->order);

	op[0] = val[0] = '\0';
	switch (e->kind) {
	case EV_LOAD:
		snprintf(op, opn, "load %s", ord);
		snprintf(val, valn, "= %s%s", shadow_value(e->v1, e->size, a, sizeof(a)),
			 e->flags & EVF_FROM_SB ? " (own buffer)" : "");
		break;
	case EV_STORE:
		snprintf(op, opn, "store %s", ord);
		snprintf(val, valn, "<- %s%s", shadow_value(e->v2, e->size, a, sizeof(a)),
			 e->flags & EVF_BUFFERED ? " (buffered)" : "");
		break;
	case EV_INIT:
		snprintf(op, opn, "init");
		snprintf(val, valn, "<- %s%s", shadow_value(e->v2, e->size, a, sizeof(a)),
			 e->flags & EVF_BUFFERED ? " (buffered)" : "");
		break;
	case EV_RMW:
		snprintf(op, opn, "%s %s", rmw_name(e->rmw), ord);
		snprintf(val, valn, "%s -> %s", shadow_value(e->v1, e->size, a, sizeof(a)),
			 shadow_value(e->v2, e->size, b, sizeof(b)));
		break;
	case EV_CAS_OK:
		snprintf(op, opn, "cas %s", ord);
		snprintf(val, valn, "%s -> %s", shadow_value(e->v1, e->size, a, sizeof(a)),
			 shadow_value(e->v2, e->size, b, sizeof(b)));
		break;
	case EV_CAS_FAIL:
		snprintf(op, opn, "cas fails %s", ord);
		snprintf(val, valn, "= %s, not %s", shadow_value(e->v1, e->size, a, sizeof(a)),
			 shadow_value(e->v2, e->size, b, sizeof(b)));
		break;
	case EV_FENCE:
		snprintf(op, opn, "fence %s", ord);
		break;
	case EV_FLUSH:
		snprintf(op, opn, "drain (store visible)");
		snprintf(val, valn, "<- %s", shadow_value(e->v2, e->size, a, sizeof(a)));
		break;
	case EV_LOCK:		snprintf(op, opn, "lock"); break;
	case EV_LOCK_WAIT:	snprintf(op, opn, "lock: held, blocks"); break;
	case EV_UNLOCK:		snprintf(op, opn, "unlock"); break;
	case EV_TRYLOCK_FAIL:	snprintf(op, opn, "trylock: held"); break;
	case EV_YIELD:		snprintf(op, opn, "yield (spins)"); break;
	case EV_FAIR:		snprintf(op, opn, "yield (ran %d steps)", FAIR_LIMIT); break;
	case EV_BLOCK:		snprintf(op, opn, "blocks"); break;
	case EV_WAKE:		snprintf(op, opn, "arch_wake"); break;
	case EV_WFI:		snprintf(op, opn, "wait_for_interrupt"); break;
	case EV_WFI_RET:	snprintf(op, opn, "wakes up"); break;
	case EV_TIMER:		snprintf(op, opn, "timer interrupt"); break;
	case EV_EXIT:		snprintf(op, opn, "ends"); break;
	case EV_NOTE:		snprintf(op, opn, "note"); break;
	default:		snprintf(op, opn, "?"); break;
	}
	if (e->note) {
		size_t l = strlen(val);

		snprintf(val + l, valn - l, "%s%s", l ? "  " : "", e->note);
	}
}

void trace_print(void)
{
	printf("  %5s %-8s %-26s %-28s %s\n", "step", "thread", "operation",
	       "object", "value");
	for (unsigned i = 0; i < nevs; i++) {
		const struct trace_ev *e = &evs[i];
		char op[64], val[256], obj[96] = "";

		if (e->kind == EV_SWITCH) {
			printf("  ----- %s preempts -----\n", M.t[e->tid].name);
			continue;
		}
		describe(e, op, sizeof(op), val, sizeof(val));
		if (e->addr)
			shadow_name(e->addr, obj, sizeof(obj));
		printf("  %5u %-8s %-26s %-28s %s%s\n", i, M.t[e->tid].name, op,
		       obj, val, e->flags & EVF_MUTATED ? "  [mutated]" : "");
		if (e->site) {
			const char *f = e->site->file;

			if (f[0] == '.' && f[1] == '/')
				f += 2;
			printf("  %46s%s:%d %s\n", "", f, e->site->line,
			       e->site->func);
			if (*source_line(e->site->file, e->site->line))
				printf("  %46s| %.90s\n", "",
				       source_line(e->site->file, e->site->line));
		}
	}
}
