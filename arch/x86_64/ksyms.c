/*
 * ksyms.c - look up addresses in the embedded symbol table (ksyms.h).
 *
 * Binary search for the last symbol at or below the address; the address
 * belongs to it if it lies within the symbol's size (or, for symbols nm
 * gave no size, before the next symbol).
 */
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/ksyms.h"
#include "lib/string.h"

struct ksym {
	uint64_t addr;
	uint32_t name;		/* offset from the start of the names */
	uint32_t size;		/* 0: unknown */
};

/* Bounds of the .ksyms section (linker.ld). */
extern const uint8_t __ksyms_start[], __ksyms_end[];

static uint64_t ksyms_count(void)
{
	if ((size_t)(__ksyms_end - __ksyms_start) < sizeof(uint64_t))
		return 0;
	return *(const uint64_t *)(const void *)__ksyms_start;
}

static const struct ksym *ksyms_table(void)
{
	return (const struct ksym *)(const void *)(__ksyms_start + sizeof(uint64_t));
}

static const char *ksyms_name(const struct ksym *s, uint64_t count)
{
	const char *names = (const char *)(ksyms_table() + count);

	return names + s->name;
}

bool ksyms_lookup(uint64_t addr, const char **name, uint64_t *offset)
{
	uint64_t count = ksyms_count();
	const struct ksym *t = ksyms_table();
	uint64_t lo = 0, hi = count;

	if (count == 0 || addr < t[0].addr)
		return false;
	/* Invariant: t[lo].addr <= addr, and every entry >= hi is above it. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (t[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (t[lo].size ? addr - t[lo].addr >= t[lo].size
		       : lo + 1 == count)
		return false;
	*name = ksyms_name(&t[lo], count);
	*offset = addr - t[lo].addr;
	return true;
}

uint64_t ksyms_address(const char *name)
{
	uint64_t count = ksyms_count();
	const struct ksym *t = ksyms_table();

	for (uint64_t i = 0; i < count; i++)
		if (strcmp(ksyms_name(&t[i], count), name) == 0)
			return t[i].addr;
	return 0;
}
