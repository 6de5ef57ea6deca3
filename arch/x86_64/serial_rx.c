/*
 * serial_rx.c - COM1 receive interrupt -> the shell's input ring.
 *
 * The 16550 keeps its interrupt line raised while any enabled condition
 * holds, and the 8259 (edge-triggered) only sees rising edges, so the
 * handler drains until IIR says nothing is pending; otherwise the line
 * would stay high and no further interrupt would come.  Received data
 * and the FIFO character timeout are the only sources enabled.  The
 * handler is the ring's single producer: IRQ 4 goes to one core and an
 * interrupt gate does not nest with itself.
 *
 * Routing: through the I/O APIC when its driver is linked and finds one
 * (weak references, so this file builds before and after that driver
 * lands), else through the 8259 PIC the boot code remapped and masked.
 * Reference: PC16550D data sheet (IER, IIR, LSR); Intel 8259A data sheet
 * (OCW1 mask, OCW2 EOI); Intel 82093AA data sheet.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/serial_rx.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"
#include "lib/log.h"
#include "panic.h"
#include "shell/task.h"

#define COM1_BASE	0x3f8
#define COM1_IRQ	4
#define UART_RBR	0	/* receive buffer (read, DLAB=0) */
#define UART_IER	1	/* interrupt enable (DLAB=0) */
#define   IER_RX_DATA	  0x01	/* data available / FIFO timeout */
#define UART_IIR	2	/* interrupt identification (read) */
#define   IIR_NO_INT	  0x01	/* bit 0 set: nothing pending */
#define UART_LSR	5	/* line status */
#define   LSR_DATA_READY  0x01
#define   LSR_OVERRUN	  0x02	/* the FIFO was full: a byte was lost */
/* At most this many bytes per interrupt: a stuck data-ready bit (no UART
 * behind the port) must not hang the core in the handler. */
#define RX_DRAIN_MAX	4096

/* 8259 master: mask register and end-of-interrupt. */
#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC_EOI		0x20

/* The I/O APIC and LAPIC drivers, if linked (ioapic.h, lapic.h). */
int ioapic_route_irq(unsigned irq, uint8_t vector, uint32_t dest_apic)
	__attribute__((weak));
void lapic_eoi(void) __attribute__((weak));

static struct shell_input *rx_input;
/* Set once by serial_rx_route_irq(), before the IRQ is unmasked. */
static void (*rx_eoi)(void);
static const char *rx_route = "none";
/* Relaxed counters: statistics. */
static atomic_uint_least64_t rx_irqs, rx_bytes, rx_overruns;

static inline uint8_t uart_in(unsigned reg)
{
	return inb((uint16_t)(COM1_BASE + reg));
}

static inline void uart_out(unsigned reg, uint8_t v)
{
	outb((uint16_t)(COM1_BASE + reg), v);
}

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

		if (rx_input)
			(void)shell_input_push(rx_input, b);
	}
	return n;
}

static void pic_eoi(void)
{
	outb(PIC1_CMD, PIC_EOI);
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
	if (n && rx_input)
		shell_input_wake(rx_input);
	rx_eoi();
}

void serial_rx_route_irq(void)
{
	if (ioapic_route_irq && lapic_eoi) {
		rx_eoi = lapic_eoi;
		if (trap_set_handler(SERIAL_RX_VECTOR_IOAPIC, serial_rx_irq) == 0 &&
		    ioapic_route_irq(COM1_IRQ, SERIAL_RX_VECTOR_IOAPIC,
				     arch_cpu_hwid()) == 0) {
			rx_route = "I/O APIC";
			return;
		}
	}
	/* The boot code remapped the PIC to 0x20 and masked everything:
	 * unmask IRQ 4 only (OCW1). */
	rx_eoi = pic_eoi;
	if (trap_set_handler(SERIAL_RX_VECTOR_PIC, serial_rx_irq) != 0)
		panic("serial_rx_route_irq: vector 0x%x refused",
		      SERIAL_RX_VECTOR_PIC);
	outb(PIC1_DATA, (uint8_t)(inb(PIC1_DATA) & ~(1u << COM1_IRQ)));
	rx_route = "8259 PIC";
}

void serial_rx_init(struct shell_input *in)
{
	rx_input = in;
	serial_rx_route_irq();
	uart_out(UART_IER, IER_RX_DATA);
	/* Bytes typed during boot: take them now, their edge is gone. */
	if (rx_drain())
		shell_input_wake(in);
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
