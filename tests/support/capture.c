/*
 * capture.c - capture_stdout(): a temporary file stands in for stdout;
 * the dump sink (capture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/capture.h"

size_t capture_stdout(void (*fn)(void), char *out, size_t cap)
{
	FILE *tmp = tmpfile();
	int saved;
	size_t n;

	assert_non_null(tmp);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
	fn();
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, cap - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return n;
}

static char sink_text[CAPTURE_SINK_MAX];
static size_t sink_len;

void capture_sink_reset(void)
{
	sink_len = 0;
	sink_text[0] = '\0';
}

void capture_sink(const char *s, size_t n)
{
	assert_true(n < sizeof(sink_text) - sink_len);
	memcpy(sink_text + sink_len, s, n);
	sink_len += n;
	sink_text[sink_len] = '\0';
}

const char *capture_sink_text(void)
{
	return sink_text;
}
