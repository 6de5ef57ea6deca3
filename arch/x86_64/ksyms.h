/*
 * ksyms.h - the kernel's own symbol table, for backtraces and panics.
 *
 * mk/kernel.mk links the kernel twice: the first image's text symbols
 * (`nm -n`) become a table (arch/x86_64/gen-ksyms.sh) placed in the
 * .ksyms section, last in the image, so no other address moves in the
 * second link.  Layout: u64 count, then count entries {u64 addr, u32 name
 * offset, u32 size} sorted by address, then the NUL-terminated names.
 */
#ifndef HYPHAE_X86_64_KSYMS_H
#define HYPHAE_X86_64_KSYMS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Find the function containing addr.  True and *name, *offset set when
 * found; false (e.g. the first link, which has no table).  Any context.
 */
bool ksyms_lookup(uint64_t addr, const char **name, uint64_t *offset);

/* The address of a function by name, or 0.  Linear scan; tests only. */
uint64_t ksyms_address(const char *name);

#endif /* HYPHAE_X86_64_KSYMS_H */
