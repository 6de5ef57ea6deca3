/*
 * serial.h - the 16550 UART on COM1: the kernel's console.
 *
 * 115200 baud, 8N1, FIFOs on.  Output is polled (wait for the transmit
 * holding register, then write); input is polled for now.  A later issue
 * turns input into an interrupt-driven line reader: serial_irq_enable()
 * is not here yet, serial_getc_nonblock() is what it will call.
 */
#ifndef HYPHAE_X86_64_SERIAL_H
#define HYPHAE_X86_64_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

/* Program COM1.  Boot core, first thing in kmain (boot.asm did a minimal
 * setup so early messages already work). */
void serial_init(void);

/* Write one byte, waiting for room.  Any context; no lock (see console.c). */
void serial_putc(char c);

/*
 * Write n bytes (each "\n" as "\r\n" when crlf), filling the transmit
 * FIFO after each THR-empty; returns the bytes written.  Any context; the
 * caller keeps writers apart (console.c's lock).
 */
size_t serial_write(const char *s, size_t n, bool crlf);

/* The next received byte, or -1 when none is waiting.  Any context. */
int serial_getc_nonblock(void);

/* The next received byte, spinning until one arrives. */
int serial_getc(void);

#endif /* HYPHAE_X86_64_SERIAL_H */
