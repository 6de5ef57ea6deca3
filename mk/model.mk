# mk/model.mk - the model checker (tests/model/, docs/MODEL.md).
#
#   make model        every scenario deeper than `make test` does: every
#                     schedule within 3 preemptions, 20000 PCT schedules
#                     per memory model, and every mutation
#   make model-list   the scenarios and their mutations
#
# The code under test is the real lib/, sched/, timer/ and rt/ sources,
# compiled once more for the checker: -include tests/model/atomics.h turns
# every atomic operation into a call to the checker, tests/model/override
# (ahead of include/) puts checker locks behind spinlock.h, and
# -fsanitize=thread makes the compiler call the checker (not the
# ThreadSanitizer runtime, which is not linked) before each plain access.
# The scenarios are compiled the same way; the checker itself is not.
# `make test` runs the bounded search (bound 2) and the mutations.

MODEL_DIR	:= $(BUILD)/model
MODEL_BIN	:= $(MODEL_DIR)/model
MODEL_CODE	:= $(filter lib/fmt.c lib/log.c lib/random.c lib/clock.c lib/trace.c sched/% timer/% rt/%,\
		     $(PORTABLE_SRCS)) \
		   $(sort $(wildcard tests/model/scenario_*.c)) \
		   tests/model/selftest.c tests/model/waiter.c
MODEL_CHECKER	:= $(addprefix tests/model/,ctx.c engine.c memory.c locks.c \
		     shadow.c mutation.c trace.c arch_model.c main.c)
MODEL_OBJS	:= $(patsubst %.c,$(MODEL_DIR)/code/%.o,$(MODEL_CODE)) \
		   $(patsubst %.c,$(MODEL_DIR)/checker/%.o,$(MODEL_CHECKER))

MODEL_CFLAGS_CODE := -Itests/model/override $(COMMON_CFLAGS) -O1 \
		     -fno-omit-frame-pointer -fsanitize=thread \
		     --param=tsan-instrument-func-entry-exit=0 \
		     -include tests/model/atomics.h
MODEL_CFLAGS_CHECKER := $(COMMON_CFLAGS) -O2 -fno-omit-frame-pointer

# What `make test` runs (at most ~60 s here) and what `make model` runs.
MODEL_TEST_FLAGS  ?= --bound 2 --pct 1000
MODEL_DEEP_FLAGS  ?= --bound 3 --pct 20000

$(MODEL_DIR)/code/%.o: %.c | $(DEPS_HOST)
	@mkdir -p $(@D)
	$(HOST_CC) $(MODEL_CFLAGS_CODE) -c $< -o $@

$(MODEL_DIR)/checker/%.o: %.c | $(DEPS_HOST)
	@mkdir -p $(@D)
	$(HOST_CC) $(MODEL_CFLAGS_CHECKER) -c $< -o $@

$(MODEL_BIN): $(MODEL_OBJS)
	$(HOST_CC) $^ -o $@

-include $(shell find $(MODEL_DIR) -name '*.d' 2>/dev/null)

TEST_DEPS	+= $(MODEL_BIN)
TEST_CMDS	+= "$(MODEL_BIN) $(MODEL_TEST_FLAGS)"

#> model         the model checker, deeper: every schedule within 3 preemptions, 20000 PCT per memory model, the mutations
#> model-list    the model checker's scenarios and their mutations
.PHONY: model model-list
model: $(MODEL_BIN)
	$(MODEL_BIN) $(MODEL_DEEP_FLAGS)

model-list: $(MODEL_BIN)
	$(MODEL_BIN) --list
