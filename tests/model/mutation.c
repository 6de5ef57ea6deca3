/*
 * mutation.c - where a mutation applies.
 *
 * A mutation (model.h) names its site by file and a piece of the site's
 * source line, not by line number, so it survives edits elsewhere in the
 * file; activating it reads the file and finds that line.  A site whose
 * text is gone (or appears twice, without a function to choose) stops the
 * run with a message: the mutation must be updated with the code, never
 * silently test nothing.  Every atomic operation's call site (hooks.h)
 * caches whether it matches, so checking costs one comparison per step.
 *
 * Mutations are applied at run time by memory.c; the sources are never
 * patched, and the production build has no trace of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/model/checker.h"

#define MAX_LINES	8

static const struct model_mutation *active;
static int gen;
static int lines[MAX_LINES];
static unsigned nlines;
static unsigned long hits;

const char *mutation_kind_name(enum model_mut_kind k)
{
	switch (k) {
	case MUT_WEAKEN:	return "weaken";
	case MUT_SKIP:		return "skip";
	case MUT_SPLIT:		return "split";
	case MUT_FORCE:		return "force";
	case MUT_DEFER:		return "defer";
	case MUT_NOLOCK:	return "nolock";
	}
	return "?";
}

static void find_lines(const struct model_mutation *m)
{
	char path[512], buf[1024];
	const char *root = getenv("MODEL_SRCROOT");
	FILE *f;
	int line = 0;

	snprintf(path, sizeof(path), "%s%s%s", root ? root : "",
		 root ? "/" : "", m->file);
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "model: mutation %s: cannot read %s (run from "
			"the top of the tree or set MODEL_SRCROOT)\n", m->name,
			path);
		exit(2);
	}
	nlines = 0;
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		if (strstr(buf, m->text) && nlines < MAX_LINES)
			lines[nlines++] = line;
	}
	fclose(f);
	if (nlines == 0) {
		fprintf(stderr, "model: mutation %s: no line of %s contains "
			"\"%s\"; update the mutation with the code\n", m->name,
			m->file, m->text);
		exit(2);
	}
	if (nlines > 1 && m->func == NULL) {
		fprintf(stderr, "model: mutation %s: \"%s\" is on %u lines of "
			"%s; name the function\n", m->name, m->text, nlines,
			m->file);
		exit(2);
	}
}

void mutation_activate(const struct model_mutation *m)
{
	active = m;
	gen++;
	hits = 0;
	if (m)
		find_lines(m);
}

/* Does __FILE__ `file` name the source `want` ("./sched/mpsc.h" does)? */
static bool same_file(const char *file, const char *want)
{
	size_t a = strlen(file), b = strlen(want);

	return a >= b && strcmp(file + a - b, want) == 0 &&
	       (a == b || file[a - b - 1] == '/');
}

static bool matches(const struct model_site *s)
{
	bool on_line = false;

	for (unsigned i = 0; i < nlines; i++)
		if (s->line == lines[i])
			on_line = true;
	return on_line && same_file(s->file, active->file) &&
	       (active->func == NULL || strcmp(s->func, active->func) == 0);
}

const struct model_mutation *mutation_at(struct model_site *site)
{
	if (active == NULL)
		return NULL;
	if (site->mut_cache != gen) {
		site->mut_cache = gen;
		site->mut_match = matches(site);
	}
	if (!site->mut_match)
		return NULL;
	hits++;
	return active;
}

unsigned long mutation_hits(void)
{
	return hits;
}
