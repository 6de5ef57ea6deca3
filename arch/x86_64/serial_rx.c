/*
 * serial_rx.c - COM1 receive interrupt -> the kernel's byte sink.
 *
 * The 16550 keeps its interrupt line raised while any enabled condition
 * holds, and the 8259 (edge-triggered) only sees rising edges, so the
 * handler drains until IIR says nothing is pending; otherwise the line
 * would stay high and no further interrupt would come.  Received data
 * and the FIFO character timeout are the only sources enabled.  The
 * handler is the sink's single producer: IRQ 4 goes to one core and an
 * interrupt gate does not nest with itself.
 *
 * Routing: through the I/O APIC when one serves IRQ 4 (ioapic_route_irq
 * succeeds), else through the 8259 PIC the boot code remapped and masked.
 * Reference: PC16550D data sheet (IER, IIR, LSR); Intel 8259A data sheet
 * (OCW1 mask, OCW2 EOI); Intel 82093AA data sheet.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/serial_rx.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/uart.h"
#include "lib/log.h"
#include "panic.h"

/* At most this many bytes per interrupt: a stuck data-ready bit (no UART
 * behind the port) must not hang the core in the handler. */
#define RX_DRAIN_MAX	4096

/* Set once by serial_rx_init(), before the IRQ is unmasked. */
static struct serial_rx_sink rx_sink;
static void (*rx_eoi)(void);
static const char *rx_route = "none";
/* Relaxed counters: statistics. */
static atomic_uint_least64_t rx_irqs, rx_bytes, rx_overruns;

/* Move what the FIFO holds into the ring; returns bytes taken. */
static unsigned rx_drain(void)
{
	unsigned n = 0;

	for (; n < RX_DRAIN_MAX; n++) {
		uint8_t lsr = uart_in(UART_LSR);
		uint8_t b;

		/* Reading LSR clears OE: the UART lost bytes while this core
		 * had interrupts off too long (e.g. a long console write). */
		if (lsr & LSR_OVERRUN)
			atomic_fetch_add_explicit(&rx_overruns, 1,
						  memory_order_relaxed);
		if (!(lsr & LSR_DATA_READY))
			break;
		b = uart_in(UART_RBR);

		if (rx_sink.byte)
			rx_sink.byte(rx_sink.ctx, b);
	}
	return n;
}

static void serial_rx_irq(struct trap_frame *f)
{
	unsigned n = 0;

	(void)f;
	do
		n += rx_drain();
	while (!(uart_in(UART_IIR) & IIR_NO_INT) && n < RX_DRAIN_MAX);
	atomic_fetch_add_explicit(&rx_irqs, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&rx_bytes, n, memory_order_relaxed);
	if (n && rx_sink.batch)
		rx_sink.batch(rx_sink.ctx);
	rx_eoi();
}

/* Route IRQ 4 to this core: the I/O APIC if one serves it, else the PIC. */
static void serial_rx_route_irq(void)
{
	if (trap_set_handler(SERIAL_RX_VECTOR_IOAPIC, serial_rx_irq) != 0 ||
	    trap_set_handler(SERIAL_RX_VECTOR_PIC, serial_rx_irq) != 0)
		panic("serial_rx_route_irq: COM1's vectors refused");
	rx_eoi = lapic_eoi;
	if (ioapic_route_irq(ISA_IRQ_COM1, SERIAL_RX_VECTOR_IOAPIC,
			     arch_cpu_hwid()) == 0) {
		rx_route = "I/O APIC";
		return;
	}
	rx_eoi = pic_eoi;
	pic_unmask(ISA_IRQ_COM1);
	rx_route = "8259 PIC";
}

void serial_rx_init(const struct serial_rx_sink *sink)
{
	rx_sink = *sink;
	serial_rx_route_irq();
	uart_out(UART_IER, IER_RX_DATA);
	/* Bytes typed during boot: take them now, their edge is gone. */
	if (rx_drain() && rx_sink.batch)
		rx_sink.batch(rx_sink.ctx);
	log_info("serial: COM1 receive interrupt via the %s", rx_route);
}

const char *serial_rx_route(void)
{
	return rx_route;
}

uint64_t serial_rx_irqs(void)
{
	return atomic_load_explicit(&rx_irqs, memory_order_relaxed);
}

uint64_t serial_rx_overruns(void)
{
	return atomic_load_explicit(&rx_overruns, memory_order_relaxed);
}

uint64_t serial_rx_bytes(void)
{
	return atomic_load_explicit(&rx_bytes, memory_order_relaxed);
}
