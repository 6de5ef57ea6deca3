/*
 * serial.c - 16550 UART on COM1, polled.
 *
 * The divisor latch sets the rate (115200 / divisor); LCR selects 8 data
 * bits, no parity, one stop bit; the FIFOs are enabled and cleared.  No
 * interrupts (IER = 0): output waits for THR-empty in LSR, then writes
 * up to 16 bytes (THR-empty in FIFO mode means the whole transmit FIFO is
 * free), so a line costs one LSR read per 16 bytes, not one per byte;
 * each is a VM exit under a hypervisor.  Input polls LSR's data-ready
 * bit.  Reference: National Semiconductor PC16550D data sheet; the
 * register names (uart.h) are its.
 */
#include <stdint.h>

#include "arch/x86_64/serial.h"
#include "arch/x86_64/trapstat.h"
#include "arch/x86_64/uart.h"

#define CONSOLE_BAUD	115200

/* Bytes the transmitter takes once THR-empty is seen: the whole FIFO
 * (THRE in FIFO mode means the FIFO is empty), or one without FIFOs.
 * Set once by serial_init(). */
static unsigned tx_burst = 1;

/* serial_init() runs before GS is set: only the others count their
 * port I/O (uart_in/uart_out themselves are uart.h's). */
static inline void uart_out_counted(unsigned reg, uint8_t v)
{
	TRAPSTAT_INC(port_io);
	uart_out(reg, v);
}

static inline uint8_t uart_in_counted(unsigned reg)
{
	TRAPSTAT_INC(port_io);
	return uart_in(reg);
}

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
	if ((uart_in(UART_IIR) & IIR_FIFO_MASK) == IIR_FIFO_ON)
		tx_burst = UART_FIFO_SIZE;
}

/* Wait for THR-empty, then up to tx_burst bytes without looking again. */
struct tx {
	unsigned room;
};

static void tx_put(struct tx *t, char c)
{
	if (t->room == 0) {
		while (!(uart_in_counted(UART_LSR) & LSR_THR_EMPTY))
			__builtin_ia32_pause();
		t->room = tx_burst;
	}
	uart_out_counted(UART_THR, (uint8_t)c);
	t->room--;
}

size_t serial_write(const char *s, size_t n, bool crlf)
{
	struct tx t = { 0 };
	size_t out = n;

	for (size_t i = 0; i < n; i++) {
		if (crlf && s[i] == '\n') {
			tx_put(&t, '\r');
			out++;
		}
		tx_put(&t, s[i]);
	}
	return out;
}

void serial_putc(char c)
{
	while (!(uart_in_counted(UART_LSR) & LSR_THR_EMPTY))
		__builtin_ia32_pause();
	uart_out_counted(UART_THR, (uint8_t)c);
}

int serial_getc_nonblock(void)
{
	if (!(uart_in_counted(UART_LSR) & LSR_DATA_READY))
		return -1;
	return uart_in_counted(UART_RBR);
}

int serial_getc(void)
{
	int c;

	while ((c = serial_getc_nonblock()) < 0)
		__builtin_ia32_pause();
	return c;
}
