/*
 * serial_rx.h - interrupt-driven receive on COM1, feeding the shell.
 *
 * The UART raises IRQ 4 when bytes wait (FIFO trigger level or the
 * character timeout); the handler drains the FIFO into the shell's input
 * ring (shell/task.h) and wakes the shell task.  serial.c keeps the
 * line setup and polled output; this file only adds the receive path.
 */
#ifndef HYPHAE_X86_64_SERIAL_RX_H
#define HYPHAE_X86_64_SERIAL_RX_H

#include <stdint.h>

struct shell_input;

/* COM1's vector: through the 8259 (remapped to 0x20 + IRQ) or the I/O
 * APIC (lapic.h's IRQ_VECTOR_BASE + IRQ). */
#define SERIAL_RX_VECTOR_PIC	0x24
#define SERIAL_RX_VECTOR_IOAPIC	0x34

/*
 * Start receiving into `in`: install the handler, route the IRQ, enable
 * the UART's receive interrupt, and take bytes that arrived before.  Boot
 * core, once, interrupts disabled, after the runtime exists.
 */
void serial_rx_init(struct shell_input *in);

/*
 * Route COM1's IRQ 4 to the calling core and install the handler: through
 * the I/O APIC (ioapic_route_irq, LAPIC EOI) when that driver is linked
 * and has an I/O APIC, else through the 8259 PIC (unmask IRQ 4, PIC EOI).
 * Boot core, interrupts off.
 */
void serial_rx_route_irq(void);

/* "I/O APIC", "8259 PIC" or "none": how the IRQ was routed. */
const char *serial_rx_route(void);

/* Interrupts taken, bytes received and UART overruns (bytes the
 * hardware lost before the handler ran) since boot, for `dump serial`. */
uint64_t serial_rx_irqs(void);
uint64_t serial_rx_bytes(void);
uint64_t serial_rx_overruns(void);

#endif /* HYPHAE_X86_64_SERIAL_RX_H */
