/*
 * uart.h - the 16550 UART's registers, and COM1.
 *
 * serial.c (the console's output and line setup) and serial_rx.c (the
 * receive interrupt) both program COM1 through these.  Reference: PC16550D
 * data sheet (registers, FIFO control, line status).
 */
#ifndef HYPHAE_X86_64_UART_H
#define HYPHAE_X86_64_UART_H

#include <stdint.h>

#include "arch/x86_64/x86.h"

#define COM1_BASE	0x3f8

#define UART_RBR	0	/* receive buffer (read, DLAB=0) */
#define UART_THR	0	/* transmit holding (write, DLAB=0) */
#define UART_DLL	0	/* divisor latch low (DLAB=1) */
#define UART_IER	1	/* interrupt enable (DLAB=0) */
#define   IER_RX_DATA	  0x01	/* data available / FIFO timeout */
#define UART_DLM	1	/* divisor latch high (DLAB=1) */
#define UART_IIR	2	/* interrupt identification (read) */
#define   IIR_NO_INT	  0x01	/* bit 0 set: nothing pending */
#define   IIR_FIFO_MASK	  0xc0
#define   IIR_FIFO_ON	  0xc0	/* a 16550A with working FIFOs */
#define UART_FCR	2	/* FIFO control (write) */
#define   FCR_ENABLE	  0x01
#define   FCR_CLEAR_RX	  0x02
#define   FCR_CLEAR_TX	  0x04
#define   FCR_TRIGGER_14  0xc0	/* RX interrupt at 14 bytes */
#define UART_LCR	3	/* line control */
#define   LCR_8N1	  0x03
#define   LCR_DLAB	  0x80
#define UART_MCR	4	/* modem control */
#define   MCR_DTR	  0x01
#define   MCR_RTS	  0x02
#define   MCR_OUT2	  0x08	/* gates the IRQ line on PCs */
#define UART_LSR	5	/* line status */
#define   LSR_DATA_READY  0x01
#define   LSR_OVERRUN	  0x02	/* the FIFO was full: a byte was lost */
#define   LSR_THR_EMPTY	  0x20

#define UART_FIFO_SIZE	16	/* bytes the transmit FIFO takes at once */
#define UART_CLOCK_BAUD	115200	/* divisor 1 */

static inline uint8_t uart_in(unsigned reg)
{
	return inb((uint16_t)(COM1_BASE + reg));
}

static inline void uart_out(unsigned reg, uint8_t v)
{
	outb((uint16_t)(COM1_BASE + reg), v);
}

#endif /* HYPHAE_X86_64_UART_H */
