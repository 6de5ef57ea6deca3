# mk/bench.mk - host benchmarks: bench/bench_*.c, built -O2 without
# sanitizers against the same portable code, run one after another; and
# the shell's `bench` in QEMU.  (mk/benchcmp.mk: hyphae against its peers.)
#
#> bench         host benchmarks (`NAME  NS ns/iter` lines)
#> kernel-bench  the shell's bench in QEMU with -smp 1, 2 and 4, as one table
BENCH_SRCS	:= $(sort $(wildcard bench/bench_*.c))
BENCH_BINS	:= $(patsubst %.c,$(BUILD)/host/rel/%,$(BENCH_SRCS))

# bench_rt's tokio::sync workloads are a second file, linked before the
# archives (a pattern rule's $^ would put it after them, and the linker
# would not take the archive members it needs).
$(BUILD)/host/rel/bench/bench_rt: $(BUILD)/host/rel/bench/bench_rt.o \
		$(BUILD)/host/rel/bench/rt_sync.o $(BUILD)/host/rel/libsupport.a \
		$(BUILD)/host/rel/libhyphae.a
	$(HOST_CC) $(HOST_CFLAGS_rel) $^ -o $@ $(HOST_LDLIBS)

.PHONY: bench
bench: $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

.PHONY: kernel-bench
kernel-bench: $(BUILD)/hyphae.iso | $(DEPS_KERNEL)
	QEMU="$(QEMU)" bench/kernel-bench --iso $< --runs 3
