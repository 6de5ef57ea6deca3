/*
 * config.h - the limits the whole tree shares, defined once.
 */
#ifndef HYPHAE_CONFIG_H
#define HYPHAE_CONFIG_H

/*
 * Processors hyphae runs on at most: the runtime's slot array, the ACPI
 * processor table, the APIC id tables and the host's threads all have
 * this many entries.  A 513th core is refused (rt_core_new panics, the
 * MADT parser ignores it with a log line).
 */
#define MAX_CORES	512

#endif /* HYPHAE_CONFIG_H */
