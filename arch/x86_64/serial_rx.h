/*
 * serial_rx.h - interrupt-driven receive on COM1.
 *
 * The UART raises ISA IRQ 4 when bytes wait (FIFO trigger level or the
 * character timeout); the handler drains the FIFO and hands each byte to
 * the sink the kernel gave serial_rx_init() (the shell's input ring), then
 * tells the sink a batch ended (the shell task's wakeup).  serial.c keeps
 * the line setup and polled output; this file only adds the receive path.
 */
#ifndef HYPHAE_X86_64_SERIAL_RX_H
#define HYPHAE_X86_64_SERIAL_RX_H

#include <stdint.h>

#include "arch/x86_64/vectors.h"

/* COM1's vector through the 8259 or through the I/O APIC. */
#define SERIAL_RX_VECTOR_PIC	VECTOR_PIC_IRQ(ISA_IRQ_COM1)
#define SERIAL_RX_VECTOR_IOAPIC	VECTOR_IOAPIC_IRQ(ISA_IRQ_COM1)

/*
 * Where received bytes go.  Both run in the interrupt handler (interrupts
 * off, on the core the IRQ is routed to), so they must be IRQ-safe:
 *   byte(ctx, b)  one received byte, in order;
 *   batch(ctx)    after the bytes of one interrupt, if there were any.
 */
struct serial_rx_sink {
	void (*byte)(void *ctx, uint8_t b);
	void (*batch)(void *ctx);
	void *ctx;
};

/*
 * Start receiving into `sink` (copied): route the IRQ to the calling core
 * (through the I/O APIC, or the 8259 PIC when no I/O APIC serves it),
 * install the handler, enable the UART's receive interrupt, and hand over
 * bytes that arrived before.  Boot core, once, interrupts disabled.
 */
void serial_rx_init(const struct serial_rx_sink *sink);

/* "I/O APIC", "8259 PIC" or "none": how the IRQ was routed. */
const char *serial_rx_route(void);

/* Interrupts taken, bytes received and UART overruns (bytes the
 * hardware lost before the handler ran) since boot, for `dump serial`. */
uint64_t serial_rx_irqs(void);
uint64_t serial_rx_bytes(void);
uint64_t serial_rx_overruns(void);

#endif /* HYPHAE_X86_64_SERIAL_RX_H */
