# mk/fuzz.mk - the libFuzzer target over the shell's input path.
#
# tests/fuzz/fuzz_shell.c drives the line editor, tokenizer, number and
# duration parsers and the command dispatcher with arbitrary bytes.  It
# links a clang build of the portable code (libhyphae.a's sources, built
# with -fsanitize=fuzzer-no-link,address,undefined): the linker takes from
# it only what the shell needs.  `make test` runs it for a bounded number
# of inputs, `make fuzz` for FUZZ_TIME seconds.
#
#> fuzz          a long libFuzzer run over the shell (FUZZ_TIME seconds, default 600)

FUZZ_TIME	?= 600
FUZZ_RUNS	?= 200000
FUZZ_DIR	:= $(BUILD)/host/fuzz
FUZZ_SHELL	:= $(FUZZ_DIR)/fuzz_shell
FUZZ_SANITIZE	:= address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS	:= $(COMMON_CFLAGS) -O1 -fsanitize=fuzzer-no-link,$(FUZZ_SANITIZE)
FUZZ_LIB	:= $(FUZZ_DIR)/libhyphae.a
FUZZ_LIB_SRCS	:= $(filter-out lib/string.c,$(PORTABLE_SRCS))
DEPS_FUZZ	:= $(BUILD)/.deps-fuzz

$(FUZZ_DIR)/%.o: %.c | $(DEPS_FUZZ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(patsubst %.c,$(FUZZ_DIR)/%.o,$(FUZZ_LIB_SRCS))
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_SHELL): $(FUZZ_DIR)/tests/fuzz/fuzz_shell.o $(FUZZ_LIB)
	$(FUZZ_CC) -fsanitize=fuzzer,$(FUZZ_SANITIZE) $^ -o $@

-include $(shell find $(FUZZ_DIR) -name '*.d' 2>/dev/null)

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
