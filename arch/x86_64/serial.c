/*
 * serial.c - 16550 UART on COM1, polled.
 *
 * The divisor latch sets the rate (115200 / divisor); LCR selects 8 data
 * bits, no parity, one stop bit; the FIFOs are enabled and cleared.  No
 * interrupts yet (IER = 0): output waits for THR-empty in LSR, input polls
 * LSR's data-ready bit.  Reference: National Semiconductor PC16550D data
 * sheet; the register names (uart.h) are its.
 */
#include <stdint.h>

#include "arch/x86_64/serial.h"
#include "arch/x86_64/uart.h"

#define CONSOLE_BAUD	115200

void serial_init(void)
{
	unsigned divisor = UART_CLOCK_BAUD / CONSOLE_BAUD;

	uart_out(UART_IER, 0);
	uart_out(UART_LCR, LCR_DLAB);
	uart_out(UART_DLL, (uint8_t)(divisor & 0xff));
	uart_out(UART_DLM, (uint8_t)(divisor >> 8));
	uart_out(UART_LCR, LCR_8N1);
	uart_out(UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX | FCR_TRIGGER_14);
	uart_out(UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
}

void serial_putc(char c)
{
	while (!(uart_in(UART_LSR) & LSR_THR_EMPTY))
		__builtin_ia32_pause();
	uart_out(UART_THR, (uint8_t)c);
}

int serial_getc_nonblock(void)
{
	if (!(uart_in(UART_LSR) & LSR_DATA_READY))
		return -1;
	return uart_in(UART_RBR);
}

int serial_getc(void)
{
	int c;

	while ((c = serial_getc_nonblock()) < 0)
		__builtin_ia32_pause();
	return c;
}
