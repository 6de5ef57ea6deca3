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

/* The vector COM1's IRQ is delivered on. */
#define SERIAL_RX_VECTOR	0x24

/*
 * Start receiving into `in`: install the handler, route the IRQ, enable
 * the UART's receive interrupt, and take bytes that arrived before.  Boot
 * core, once, interrupts disabled, after the runtime exists.
 */
void serial_rx_init(struct shell_input *in);

/*
 * Route COM1's IRQ 4 to SERIAL_RX_VECTOR on the boot core.  Today through
 * the legacy 8259 PIC (unmask IRQ 4; the handler sends the PIC EOI); once
 * the I/O APIC driver is in, ioapic_route_irq() and the LAPIC EOI.
 */
void serial_rx_route_irq(void);

/* Interrupts taken and bytes received since boot (for `dump arch`). */
uint64_t serial_rx_irqs(void);
uint64_t serial_rx_bytes(void);

#endif /* HYPHAE_X86_64_SERIAL_RX_H */
