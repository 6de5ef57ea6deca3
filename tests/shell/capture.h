/*
 * capture.h - a struct shell_out that appends into a buffer, for tests.
 * Header-only; included by the shell tests.
 */
#ifndef HYPHAE_TESTS_SHELL_CAPTURE_H
#define HYPHAE_TESTS_SHELL_CAPTURE_H

#include <string.h>

#include "shell/out.h"

#define CAPTURE_MAX	65536

struct capture {
	char buf[CAPTURE_MAX];
	size_t len;
	size_t writes;
	struct shell_out out;
};

static inline void capture_write(void *ctx, const char *s, size_t n)
{
	struct capture *c = ctx;

	c->writes++;
	if (n > sizeof(c->buf) - 1 - c->len)
		n = sizeof(c->buf) - 1 - c->len;
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->buf[c->len] = '\0';
}

static inline void capture_reset(struct capture *c)
{
	c->len = 0;
	c->writes = 0;
	c->buf[0] = '\0';
	c->out.write = capture_write;
	c->out.ctx = c;
}

#endif /* HYPHAE_TESTS_SHELL_CAPTURE_H */
