/*
 * trapstat.c - reading the per-core trap counters (see trapstat.h).
 *
 * Each counter is written only by its own core, with one instruction;
 * another core reads it with one aligned 64-bit load, so a snapshot may
 * be a little behind but is never torn.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trapstat.h"

#define TRAPSTAT_FIELDS	(sizeof(struct trapstat) / sizeof(uint64_t))

static void add(struct trapstat *sum, const struct cpu *c)
{
	const volatile uint64_t *from = (const volatile uint64_t *)&c->trapstat;
	uint64_t *to = (uint64_t *)sum;

	for (size_t i = 0; i < TRAPSTAT_FIELDS; i++)
		to[i] += from[i];
}

bool trapstat_of(unsigned n, struct trapstat *out)
{
	const struct cpu *c = cpu_get(n);

	*out = (struct trapstat){ 0 };
	if (!c)
		return false;
	add(out, c);
	return true;
}

struct trapstat trapstat_total(void)
{
	struct trapstat sum = { 0 };
	/* Every number: a core that came online late may leave a gap. */
	for (unsigned n = 0; n < MAX_CPU_NUMBER; n++) {
		const struct cpu *c = cpu_get(n);

		if (c)
			add(&sum, c);
	}
	return sum;
}
