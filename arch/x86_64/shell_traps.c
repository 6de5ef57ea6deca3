/*
 * shell_traps.c - `dump traps [reset]`: trapstat.h's counters as a table.
 *
 * One row per core brought up, by bring-up number, then the sum.  `total`
 * adds every instruction column and the IPIs sent: the operations a VM
 * exit (or, under a deprivileging hypervisor, a trap) may cost.
 * `ipi-saved` (wakeups that needed no IPI) and `polled` (waits a halt
 * poll ended, no HLT) come after it and are not in it.
 * `reset` keeps a snapshot and later dumps print the difference, so no
 * core's counter is ever written by another.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/shell_traps.h"
#include "arch/x86_64/trapstat.h"
#include "errno.h"
#include "kmalloc.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "shell/out.h"

#define FIELDS	(sizeof(struct trapstat) / sizeof(uint64_t))

/* Snapshots taken by `reset`, by core number (allocated by the first
 * reset, NULL before); only the shell touches them. */
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

static void add(struct trapstat *a, const struct trapstat *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;

	for (size_t i = 0; i < FIELDS; i++)
		x[i] += y[i];
}

static void row(const struct shell_out *out, const char *name,
		const struct trapstat *t)
{
	shell_printf(out, "%5s %9llu %8llu %8llu %7llu %8llu %8llu %7llu %10llu %9llu %9llu\n",
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

int shell_traps_run(const struct shell_cmd *cmd, int argc, char **argv,
		    const struct shell_out *out)
{
	struct trapstat sum = { 0 };
	bool reset = false;

	if (argc > 1) {
		if (strcmp(argv[1], "reset") != 0)
			return shell_usage_error(out, cmd, "'%s': expected 'reset'",
						 argv[1]);
		reset = true;
	}
	if (reset) {
		if (!base)
			base = kzalloc(MAX_CPU_NUMBER * sizeof(*base));
		if (!base) {
			shell_puts(out, "error: dump traps: out of memory\n");
			return -ENOMEM;
		}
		for (unsigned n = 0; n < MAX_CPU_NUMBER; n++)
			(void)trapstat_of(n, &base[n]);
		shell_puts(out, "traps: counters reset\n");
		return 0;
	}
	shell_printf(out, "%5s %9s %8s %8s %7s %8s %8s %7s %10s %9s %9s\n", "core",
		     "irq-mask", "apic-rd", "apic-wr", "msr-wr", "hlt", "port-io",
		     "ipi", "total", "ipi-saved", "polled");
	for (unsigned n = 0; n < MAX_CPU_NUMBER; n++) {
		struct trapstat t;
		char name[8];

		if (!trapstat_of(n, &t))
			continue;
		if (base)
			sub(&t, &base[n]);
		add(&sum, &t);
		ksnprintf(name, sizeof(name), "%u", n);
		row(out, name, &t);
	}
	row(out, "all", &sum);
	return 0;
}
