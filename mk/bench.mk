# mk/bench.mk - host benchmarks: bench/bench_*.c, built -O2 without
# sanitizers against the same portable code, run one after another.
BENCH_SRCS	:= $(sort $(wildcard bench/bench_*.c))
BENCH_BINS	:= $(patsubst %.c,$(BUILD)/host/rel/%,$(BENCH_SRCS))

.PHONY: bench
bench: $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

# The shell's `bench` in QEMU with -smp 1, 2 and 4, as one table.
.PHONY: kernel-bench
kernel-bench: $(BUILD)/hyphae.iso | $(DEPS_KERNEL)
	QEMU="$(QEMU)" bench/kernel-bench --iso $< --runs 3
