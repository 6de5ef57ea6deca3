/*
 * console.h - what the serial console (console.c) shows beyond
 * arch_console_write(): how many bytes it has handed to the UART, so an
 * in-kernel test can check that a write of any length arrived whole.
 */
#ifndef HYPHAE_X86_64_CONSOLE_H
#define HYPHAE_X86_64_CONSOLE_H

#include <stdint.h>

/*
 * Bytes written to the UART through the console since boot, the "\r" of
 * each "\n" included.  Any context; a relaxed count, exact once the
 * writers it should include have returned.
 */
uint64_t console_bytes_out(void);

#endif /* HYPHAE_X86_64_CONSOLE_H */
