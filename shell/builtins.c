/*
 * builtins.c - echo, log, uptime, panic, and the heap statistics table
 * (see builtins.h).
 */
#include "arch.h"
#include "errno.h"
#include "lib/log.h"
#include "lib/string.h"
#include "panic.h"
#include "shell/builtins.h"
#include "clock.h"

#define SEC_PER_MIN	60ull
#define SEC_PER_HOUR	3600ull
#define SEC_PER_DAY	86400ull
/* The panic message as typed, cut to fit. */
#define SHELL_PANIC_MSG_MAX	200

static int cmd_echo(const struct shell_cmd *cmd, int argc, char **argv,
		    const struct shell_out *out)
{
	(void)cmd;
	for (int i = 1; i < argc; i++)
		shell_printf(out, "%s%s", i > 1 ? " " : "", argv[i]);
	shell_puts(out, "\n");
	return 0;
}

static int cmd_log(const struct shell_cmd *cmd, int argc, char **argv,
		   const struct shell_out *out)
{
	enum log_level lvl;

	if (argc == 1) {
		shell_printf(out, "log level: %s\n", log_level_name(log_get_level()));
		return 0;
	}
	if (log_parse_level(argv[1], &lvl) != 0)
		return shell_usage_error(out, cmd,
					 "unknown level '%s' (debug, info, warn, error)",
					 argv[1]);
	log_set_level(lvl);
	shell_printf(out, "log level: %s\n", log_level_name(lvl));
	return 0;
}

static int cmd_uptime(const struct shell_cmd *cmd, int argc, char **argv,
		      const struct shell_out *out)
{
	const struct clock *clk = arch_clock();
	uint64_t ns, s;

	(void)cmd;
	(void)argc;
	(void)argv;
	if (clock_ticks_to_ns(clk, clock_now(clk), &ns) != 0) {
		shell_puts(out, "error: uptime: clock value out of range\n");
		return -ERANGE;
	}
	s = ns / NS_PER_SEC;
	shell_printf(out, "up %llud %02llu:%02llu:%02llu.%06llu (%s)\n",
		     (unsigned long long)(s / SEC_PER_DAY),
		     (unsigned long long)(s % SEC_PER_DAY / SEC_PER_HOUR),
		     (unsigned long long)(s % SEC_PER_HOUR / SEC_PER_MIN),
		     (unsigned long long)(s % SEC_PER_MIN),
		     (unsigned long long)(ns % NS_PER_SEC / NS_PER_US),
		     clk->name);
	return 0;
}

static int cmd_panic(const struct shell_cmd *cmd, int argc, char **argv,
		     const struct shell_out *out)
{
	char msg[SHELL_PANIC_MSG_MAX];
	size_t len = 0;

	(void)cmd;
	(void)out;
	msg[0] = '\0';
	for (int i = 1; i < argc && len + 1 < sizeof(msg); i++) {
		if (i > 1)
			msg[len++] = ' ';
		len += strlcpy(msg + len, argv[i], sizeof(msg) - len);
		if (len >= sizeof(msg))
			len = sizeof(msg) - 1;
	}
	panic("shell: panic command: %s", msg);
}

#define KIB	1024u

void shell_print_heap_stats(const struct shell_out *out,
			    const struct heap_stats *st)
{
	shell_printf(out, "heap: %zu pages (%zu KiB) from the page source\n",
		     st->pages, st->bytes_from_pages / KIB);
	shell_printf(out, "  in use %zu bytes, free in slabs %zu bytes, "
		     "large: %zu allocations in %zu pages\n",
		     st->bytes_in_use, st->bytes_free, st->large_allocs,
		     st->large_pages);
	shell_printf(out, "  %5s %8s %6s %8s %8s %12s %12s\n", "class",
		     "per-slab", "slabs", "in-use", "free", "allocs", "frees");
	for (unsigned i = 0; i < st->nclasses && i < HEAP_NCLASSES; i++) {
		const struct heap_class_stats *c = &st->classes[i];

		if (c->slabs == 0 && c->allocs == 0)
			continue;
		shell_printf(out, "  %5zu %8zu %6zu %8zu %8zu %12llu %12llu\n",
			     c->size, c->per_slab, c->slabs, c->in_use, c->free,
			     (unsigned long long)c->allocs,
			     (unsigned long long)c->frees);
	}
}

static const struct shell_cmd builtins[] = {
	{ .name = "echo", .help = "print the arguments", .usage = "echo [ARG...]",
	  .run = cmd_echo, .max_args = SHELL_ARGS_ANY, .raw_args = true },
	{ .name = "log", .help = "show or set the log level",
	  .usage = "log [debug|info|warn|error]", .run = cmd_log, .max_args = 1 },
	{ .name = "uptime", .help = "time since boot", .usage = "uptime",
	  .run = cmd_uptime },
	{ .name = "panic", .help = "panic on purpose (prints the report, halts)",
	  .usage = "panic MESSAGE...", .run = cmd_panic, .min_args = 1,
	  .max_args = SHELL_ARGS_ANY, .raw_args = true },
};

int shell_register_builtins(struct shell_commands *reg)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++) {
		int err = shell_register(reg, &builtins[i]);

		if (err)
			return err;
	}
	return 0;
}
