/*
 * trapstat.c - reading the per-core trap counters (see trapstat.h).
 *
 * Each counter is written only by its own core, with one instruction;
 * another core reads it with one aligned 64-bit load, so a snapshot may
 * be a little behind but is never torn.  The table (`dump traps`): one
 * row per core brought up, by bring-up number, then the sum.  `total`
 * adds every instruction column and the IPIs sent: the operations a VM
 * exit (or, under a deprivileging hypervisor, a trap) may cost.
 * `ipi-saved` (wakeups that needed no IPI) and `polled` (waits a halt
 * poll ended, no HLT) come after it and are not in it.  A reset keeps a
 * snapshot and later dumps print the difference, so no core's counter is
 * ever written by another.
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trapstat.h"
#include "errno.h"
#include "kmalloc.h"
#include "lib/fmt.h"

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
	for (unsigned n = 0; n < MAX_CORES; n++) {
		const struct cpu *c = cpu_get(n);

		if (c)
			add(&sum, c);
	}
	return sum;
}

/* ---- the table (`dump traps`) -------------------------------------------- */

#define FIELDS	TRAPSTAT_FIELDS

/* Snapshots taken by trapstat_reset(), by core number (allocated by the
 * first reset, NULL before); only the shell's task touches them. */
static struct trapstat *base;

static uint64_t total(const struct trapstat *t)
{
	return t->irq_mask + t->apic_read + t->apic_write + t->msr_write +
	       t->hlt + t->port_io + t->ipi;
}

static void sub(struct trapstat *a, const struct trapstat *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;

	for (size_t i = 0; i < FIELDS; i++)
		x[i] -= y[i];
}

static void add_stat(struct trapstat *a, const struct trapstat *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;

	for (size_t i = 0; i < FIELDS; i++)
		x[i] += y[i];
}

static void row(const struct fmt_out *out, const char *name,
		const struct trapstat *t)
{
	fmt_printf(out, "%5s %9llu %8llu %8llu %7llu %8llu %8llu %7llu %10llu %9llu %9llu\n",
		     name, (unsigned long long)t->irq_mask,
		     (unsigned long long)t->apic_read,
		     (unsigned long long)t->apic_write,
		     (unsigned long long)t->msr_write,
		     (unsigned long long)t->hlt,
		     (unsigned long long)t->port_io,
		     (unsigned long long)t->ipi,
		     (unsigned long long)total(t),
		     (unsigned long long)t->ipi_saved,
		     (unsigned long long)t->polled);
}

int trapstat_reset(void)
{
	if (!base)
		base = kzalloc(MAX_CORES * sizeof(*base));
	if (!base)
		return -ENOMEM;
	for (unsigned n = 0; n < MAX_CORES; n++)
		(void)trapstat_of(n, &base[n]);
	return 0;
}

void trapstat_dump(const struct fmt_out *out)
{
	struct trapstat sum = { 0 };

	fmt_printf(out, "%5s %9s %8s %8s %7s %8s %8s %7s %10s %9s %9s\n", "core",
		   "irq-mask", "apic-rd", "apic-wr", "msr-wr", "hlt", "port-io",
		   "ipi", "total", "ipi-saved", "polled");
	for (unsigned n = 0; n < MAX_CORES; n++) {
		struct trapstat t;
		char name[8];

		if (!trapstat_of(n, &t))
			continue;
		if (base)
			sub(&t, &base[n]);
		add_stat(&sum, &t);
		ksnprintf(name, sizeof(name), "%u", n);
		row(out, name, &t);
	}
	row(out, "all", &sum);
}
