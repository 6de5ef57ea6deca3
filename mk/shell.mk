# mk/shell.mk - shell/ extras on the host: the libFuzzer target.
#
# tests/fuzz/fuzz_shell.c drives the line editor, tokenizer, number and
# duration parsers and the command dispatcher with arbitrary bytes.  It is
# built with clang (-fsanitize=fuzzer,address,undefined) straight from the
# sources it exercises; `make test` runs it for a bounded number of inputs,
# `make fuzz` for FUZZ_TIME seconds.
FUZZ_TIME	?= 600
FUZZ_RUNS	?= 200000
FUZZ_DIR	:= $(BUILD)/host/fuzz
FUZZ_SHELL	:= $(FUZZ_DIR)/fuzz_shell
FUZZ_SHELL_SRCS	:= tests/fuzz/fuzz_shell.c shell/line.c shell/parse.c \
		   shell/command.c shell/out.c shell/shell.c lib/fmt.c \
		   lib/strlcpy.c
FUZZ_CFLAGS	:= -std=c11 -g -O1 -Wall -Wextra -Werror -I. -Iinclude \
		   -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
DEPS_FUZZ	:= $(BUILD)/.deps-fuzz

# lib/fmt.c refers to arch_console_write (kprintf); the fuzzer provides a
# stub so no host arch (and no cmocka) is linked in.
$(FUZZ_SHELL): $(FUZZ_SHELL_SRCS) $(wildcard shell/*.h lib/*.h) | $(DEPS_FUZZ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SHELL_SRCS) -o $@

# The bounded run starts from the seeds and a fresh scratch corpus each
# time, so its length does not creep up with a growing corpus.
FUZZ_SCRATCH	:= $(FUZZ_DIR)/corpus-test
TEST_DEPS	+= $(FUZZ_SHELL)
TEST_CMDS	+= "rm -rf $(FUZZ_SCRATCH) && mkdir -p $(FUZZ_SCRATCH) && \
		   $(FUZZ_SHELL) -runs=$(FUZZ_RUNS) -max_total_time=60 -seed=1 \
		   -max_len=600 $(FUZZ_SCRATCH) tests/fuzz/seeds"

$(FUZZ_DIR)/corpus:
	@mkdir -p $@

.PHONY: fuzz
fuzz: $(FUZZ_SHELL) | $(FUZZ_DIR)/corpus
	$(FUZZ_SHELL) -max_total_time=$(FUZZ_TIME) -max_len=600 $(FUZZ_DIR)/corpus tests/fuzz/seeds
