/*
 * main.c - the model checker's command line and report.
 *
 *   model [--bound N] [--pct N] [--mode sc|tso|all] [--no-mutations]
 *         [--trace] [--list] [-v] [SCENARIO...]
 *   model --replay STRING          (or MODEL_REPLAY=STRING model)
 *
 * For each scenario and each memory model it runs under: a few PCT runs
 * to learn which locations are shared, every schedule within the
 * preemption bound (DFS), then --pct random PCT schedules.  One line each:
 *
 *   mpsc: 41234 schedules, bound 2, ok  (sc 9120 + tso 30114, pct 2000; 3.1 s)
 *
 * Then each mutation of the scenario runs the same search until the first
 * failure, which it must find:
 *
 *   mpsc/link_relaxed: caught after 37 schedules (sc, dfs): data race on ...
 *
 * A failure of a scenario prints its steps and a replay string; a mutation
 * that is not caught fails the run.  The last line counts both for
 * tools/run-tests: "model: N passed, M failed".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/model/checker.h"
#include "tests/model/scenarios.h"
#include "tests/model/selftest.h"

static const struct model_scenario *const scenarios[] = { MODEL_SCENARIOS };
#define NSCENARIOS	(sizeof(scenarios) / sizeof(scenarios[0]))

/* PCT runs before the DFS: they find most shared locations cheaply. */
#define WARMUP_RUNS	20

static struct {
	unsigned bound;
	unsigned long pct;
	unsigned modes;
	bool mutations;
	bool trace;
	bool stats;
	unsigned long max;	/* schedules per search before giving up */
	const char *argv0;
} opt = { 2, 200, MODEL_SC | MODEL_TSO, true, false, false, 5000000,
	  "model" };

struct result {
	unsigned long dfs, pct, restarts;
	bool failed, truncated;
	enum strategy strat;	/* of the failure */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *mode_name(unsigned mode)
{
	return mode == MODEL_TSO ? "tso" : "sc";
}

static uint64_t seed_of(const char *a, const char *b, unsigned mode,
			unsigned long i)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *p = a; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	for (const char *p = b ? b : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h ^ ((uint64_t)mode << 56) ^ (i * 0x9e3779b97f4a7c15ull);
}

/* ---- replay strings --------------------------------------------------------- */

/*
 * scenario:mode:mutation:steps.  The steps are the run's step stream
 * (engine_record): a letter per step for the thread taking it (a: thread
 * 1), an upper-case letter for a drain of that thread's store buffer,
 * each followed by a repeat count when it repeats.
 */
static void replay_string(char *buf, size_t n)
{
	size_t len;

	len = (size_t)snprintf(buf, n, "%s:%s:%s:", M.scn->name,
			       mode_name(M.mode), M.mut ? M.mut->name : "-");
	for (unsigned long i = 0; i < M.rec_n && len < n - 24;) {
		uint8_t c = M.rec[i];
		unsigned long run = 1;

		while (i + run < M.rec_n && M.rec[i + run] == c)
			run++;
		len += (size_t)snprintf(buf + len, n - len, "%c",
					(c & OPT_FLUSH ? 'A' : 'a') +
					(c & ~OPT_FLUSH) - 1);
		if (run > 1)
			len += (size_t)snprintf(buf + len, n - len, "%lu", run);
		i += run;
	}
}

static void report_failure(const struct result *r, bool steps)
{
	static char replay[1 << 16];

	printf("%s%s%s [%s, %s]: FAILED after %lu schedules\n  %s\n",
	       M.scn->name, M.mut ? "/" : "", M.mut ? M.mut->name : "",
	       mode_name(M.mode), r->strat == STRAT_DFS ? "dfs" :
	       r->strat == STRAT_PCT ? "pct" : "replay",
	       r->dfs + r->pct, M.msg);
	if (steps)
		trace_print();
	replay_string(replay, sizeof(replay));
	printf("  replay: MODEL_REPLAY='%s' %s\n", replay, opt.argv0);
	fflush(stdout);
}

/* ---- the search ----------------------------------------------------------- */

static bool run(struct result *r, enum strategy s)
{
	bool ok = engine_run_once();

	if (s == STRAT_DFS)
		r->dfs++;
	else
		r->pct++;
	if (!ok) {
		r->failed = true;
		r->strat = s;
	}
	return ok;
}

static void dfs(struct result *r)
{
	M.strat = STRAT_DFS;
	M.bound = opt.bound;
	engine_reset_search();
	for (;;) {
		if (!run(r, STRAT_DFS))
			return;
		if (M.share_dirty) {
			/* A new shared location: its points were missed. */
			engine_reset_search();
			r->restarts++;
			continue;
		}
		if (r->dfs >= opt.max ||
		    (M.scn->max_dfs && r->dfs >= M.scn->max_dfs)) {
			r->truncated = true;
			return;
		}
		if (!engine_dfs_next())
			return;
	}
}

static void pct(struct result *r, unsigned long runs, bool *dirty)
{
	M.strat = STRAT_PCT;
	for (unsigned long i = 0; i < runs; i++) {
		M.rng = seed_of(M.scn->name, M.mut ? M.mut->name : NULL, M.mode,
				r->pct);
		M.share_dirty = false;
		if (!run(r, STRAT_PCT))
			return;
		if (M.share_dirty)
			*dirty = true;
	}
}

/* Search one scenario under one memory model; false on a failure. */
static bool explore(const struct model_scenario *s, unsigned mode,
		    const struct model_mutation *m, struct result *r)
{
	bool dirty = false;

	memset(r, 0, sizeof(*r));
	M.scn = s;
	M.mode = mode;
	M.mut = m;
	M.max_steps_seen = 0;
	M.fair_yields = 0;
	mutation_activate(m);
	mem_reset_search();
	pct(r, WARMUP_RUNS, &dirty);
	if (r->failed)
		return false;
	for (unsigned round = 0; round < 8; round++) {
		dfs(r);
		if (r->failed)
			break;
		dirty = false;
		pct(r, opt.pct, &dirty);
		/* PCT met a location the DFS thought private: again (unless
		 * the DFS was cut anyway). */
		if (r->failed || !dirty || r->truncated)
			break;
	}
	return !r->failed;
}

static unsigned modes_of(const struct model_scenario *s,
			 const struct model_mutation *m)
{
	unsigned modes = m && m->modes ? m->modes : s->modes;

	return modes & opt.modes;
}

static bool check_scenario(const struct model_scenario *s)
{
	unsigned long total = 0, per[2] = { 0, 0 }, pcts = 0;
	double t0 = now_s();
	bool truncated = false;
	struct result r;

	for (unsigned mi = 0; mi < 2; mi++) {
		unsigned mode = mi ? MODEL_TSO : MODEL_SC;

		if (!(modes_of(s, NULL) & mode))
			continue;
		if (!explore(s, mode, NULL, &r)) {
			report_failure(&r, true);
			return false;
		}
		per[mi] = r.dfs;
		pcts += r.pct;
		if (opt.stats) {
			printf("  %s [%s]: longest schedule %lu steps, %lu DFS "
			       "restarts, %lu forced yields; shared locations:\n",
			       s->name, mode_name(mode), M.max_steps_seen,
			       r.restarts, M.fair_yields);
			mem_print_shared();
		}
		total += r.dfs + r.pct;
		truncated |= r.truncated;
	}
	printf("%s: %lu schedules, bound %u, ok  (sc %lu + tso %lu dfs, "
	       "%lu pct; %.1f s)", s->name, total, opt.bound, per[0], per[1],
	       pcts, now_s() - t0);
	if (truncated)
		printf("  [dfs cut at %lu per model]",
		       s->max_dfs && s->max_dfs < opt.max ? s->max_dfs : opt.max);
	printf("\n");
	if (!(s->modes & MODEL_TSO) && (opt.modes & MODEL_TSO))
		printf("  (no tso: %s)\n", s->why_no_tso);
	fflush(stdout);
	return true;
}

static bool check_mutation(const struct model_scenario *s,
			   const struct model_mutation *m)
{
	unsigned long total = 0, hits = 0;
	double t0 = now_s();
	struct result r;

	for (unsigned mi = 0; mi < 2; mi++) {
		unsigned mode = mi ? MODEL_TSO : MODEL_SC;

		if (!(modes_of(s, m) & mode))
			continue;
		if (!explore(s, mode, m, &r)) {
			printf("%s/%s: caught after %lu schedules (%s, %s; %.1f s): "
			       "%.160s\n", s->name, m->name, total + r.dfs + r.pct,
			       mode_name(mode),
			       r.strat == STRAT_DFS ? "dfs" : "pct",
			       now_s() - t0, M.msg);
			if (opt.trace)
				report_failure(&r, true);
			fflush(stdout);
			return true;
		}
		total += r.dfs + r.pct;
		hits += mutation_hits();
	}
	printf("%s/%s: NOT caught in %lu schedules (its site ran %lu times): "
	       "%s\n", s->name, m->name, total, hits, m->what);
	fflush(stdout);
	return false;
}

/* The litmus tests come out as they must, or nothing else is worth much. */
static bool selftest(void)
{
	unsigned long total = 0;
	double t0 = now_s();
	unsigned bad = 0;
	struct result r;

	for (unsigned i = 0; i < model_n_litmus; i++) {
		const struct model_litmus *l = &model_litmus[i];

		for (unsigned mi = 0; mi < 2; mi++) {
			unsigned mode = mi ? MODEL_TSO : MODEL_SC;
			bool want = mi ? l->fails_tso : l->fails_sc;
			bool failed = !explore(&l->s, mode, NULL, &r);

			total += r.dfs + r.pct;
			if (failed == want)
				continue;
			bad++;
			printf("selftest %s [%s]: %s, expected %s\n", l->s.name,
			       mode_name(mode), failed ? "fails" : "passes",
			       want ? "a failure" : "a pass");
			if (failed)
				report_failure(&r, true);
		}
	}
	if (bad == 0)
		printf("selftest: %u litmus tests as expected under sc and tso "
		       "(%lu schedules, %.1f s)\n", model_n_litmus, total,
		       now_s() - t0);
	return bad == 0;
}

/* ---- replay ------------------------------------------------------------ */

static int replay(const char *str)
{
	char name[64], mode[8], mut[64];
	const char *p = str;
	const struct model_scenario *s = NULL;
	const struct model_mutation *m = NULL;
	static uint8_t choices[1 << 22];
	unsigned long n = 0;
	struct result r = { 0 };

	if (sscanf(str, "%63[^:]:%7[^:]:%63[^:]:", name, mode, mut) != 3) {
		fprintf(stderr, "model: bad replay string\n");
		return 2;
	}
	for (unsigned i = 0; i < 3; i++)
		p = strchr(p, ':') + 1;
	for (unsigned i = 0; i < NSCENARIOS; i++)
		if (strcmp(scenarios[i]->name, name) == 0)
			s = scenarios[i];
	if (s == NULL) {
		fprintf(stderr, "model: no scenario %s\n", name);
		return 2;
	}
	if (strcmp(mut, "-") != 0) {
		for (unsigned i = 0; i < s->n_mutations; i++)
			if (strcmp(s->mutations[i].name, mut) == 0)
				m = &s->mutations[i];
		if (m == NULL) {
			fprintf(stderr, "model: no mutation %s/%s\n", name, mut);
			return 2;
		}
	}
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
		uint8_t c = *p >= 'a' ? (uint8_t)(*p - 'a' + 1) :
			    (uint8_t)(OPT_FLUSH | (*p - 'A' + 1));
		unsigned long run = 1;

		p++;

		if (*p >= '0' && *p <= '9')
			run = strtoul(p, (char **)&p, 10);
		while (run-- && n < sizeof(choices))
			choices[n++] = c;
	}
	if (*p) {
		fprintf(stderr, "model: bad replay string at \"%.20s\"\n", p);
		return 2;
	}
	M.scn = s;
	M.mode = strcmp(mode, "tso") == 0 ? MODEL_TSO : MODEL_SC;
	M.mut = m;
	mutation_activate(m);
	mem_reset_search();
	M.strat = STRAT_REPLAY;
	M.replay = choices;
	M.replay_n = n;
	if (engine_run_once()) {
		printf("%s [%s]: the replayed schedule passes\n", s->name, mode);
		trace_print();
		return 0;
	}
	r.strat = STRAT_REPLAY;
	report_failure(&r, true);
	return 1;
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr,
		"usage: model [--bound N] [--pct N] [--mode sc|tso|all] [--max N]\n"
		"             [--no-mutations] [--trace] [--list] [-v] [SCENARIO...]\n"
		"       model --replay STRING   (or MODEL_REPLAY=STRING model)\n");
	exit(2);
}

static void list(void)
{
	for (unsigned i = 0; i < NSCENARIOS; i++) {
		const struct model_scenario *s = scenarios[i];

		printf("%-14s %s\n", s->name, s->what);
		for (unsigned j = 0; j < s->n_mutations; j++)
			printf("  %-22s %s %s:\"%s\": %s\n", s->mutations[j].name,
			       mutation_kind_name(s->mutations[j].kind),
			       s->mutations[j].file, s->mutations[j].text,
			       s->mutations[j].what);
	}
}

int main(int argc, char **argv)
{
	const char *only[NSCENARIOS + 1], *rep = getenv("MODEL_REPLAY");
	unsigned nonly = 0, passed = 0, failed = 0;

	opt.argv0 = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--bound") == 0 && i + 1 < argc)
			opt.bound = (unsigned)atoi(argv[++i]);
		else if (strcmp(a, "--pct") == 0 && i + 1 < argc)
			opt.pct = strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--max") == 0 && i + 1 < argc)
			opt.max = strtoul(argv[++i], NULL, 10);
		else if (strcmp(a, "--mode") == 0 && i + 1 < argc) {
			const char *m = argv[++i];

			opt.modes = strcmp(m, "sc") == 0 ? MODEL_SC :
				    strcmp(m, "tso") == 0 ? MODEL_TSO :
				    MODEL_SC | MODEL_TSO;
		} else if (strcmp(a, "--no-mutations") == 0)
			opt.mutations = false;
		else if (strcmp(a, "--trace") == 0)
			opt.trace = true;
		else if (strcmp(a, "--stats") == 0)
			opt.stats = true;
		else if (strcmp(a, "--replay") == 0 && i + 1 < argc)
			rep = argv[++i];
		else if (strcmp(a, "--list") == 0) {
			list();
			return 0;
		} else if (strcmp(a, "-v") == 0)
			M.verbose = true;
		else if (a[0] == '-' || nonly == NSCENARIOS)
			usage();
		else
			only[nonly++] = a;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	engine_init();
	if (rep && *rep)
		return replay(rep);
	if (selftest())
		passed++;
	else
		failed++;

	for (unsigned i = 0; i < NSCENARIOS; i++) {
		const struct model_scenario *s = scenarios[i];
		bool want = nonly == 0;

		for (unsigned j = 0; j < nonly; j++)
			if (strcmp(only[j], s->name) == 0)
				want = true;
		if (!want)
			continue;
		if (check_scenario(s))
			passed++;
		else
			failed++;
		if (!opt.mutations)
			continue;
		for (unsigned j = 0; j < s->n_mutations; j++) {
			if (check_mutation(s, &s->mutations[j]))
				passed++;
			else
				failed++;
		}
	}
	printf("model: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
