# mk/benchcmp.mk - hyphae against its peers.
#
#   make bench-compare   run hyphae and tokio alternately (ROUNDS, default 5),
#                        the queue harness copy, the timer and memory
#                        benches; print the tables and write them into
#                        docs/PERFORMANCE.md (bench/compare does it all).
#
# bench/qbench/qbench.c is a copy of the queue peer's harness with hyphae's
# MPSC queue added.  It needs liburcu and Concurrency Kit, so it is built
# here rather than by the bench/bench_*.c wildcard of `make bench`.
ROUNDS		?= 5
WORKERS		?= 2
PEERS		?= ../shared/peers
QBENCH		:= $(BUILD)/host/rel/bench/qbench/qbench
BENCHCMP_BINS	:= $(BUILD)/host/rel/bench/bench_rt \
		   $(BUILD)/host/rel/bench/bench_timer \
		   $(BUILD)/host/rel/bench/bench_mem

$(QBENCH): bench/qbench/qbench.c $(BUILD)/host/rel/libhyphae.a | $(BUILD)/.deps-bench
	@mkdir -p $(@D)
	$(HOST_CC) -O2 -march=native -pthread -I. -Iinclude $< \
		$(BUILD)/host/rel/libhyphae.a -o $@ -lurcu-common -lck $(HOST_LDLIBS)

#> bench-compare hyphae against tokio and the C queues, alternating rounds (ROUNDS, WORKERS)
#> qbench        the queue harness alone
.PHONY: bench-compare qbench
qbench: $(QBENCH)
	$(QBENCH)

bench-compare: $(QBENCH) $(BENCHCMP_BINS)
	bench/compare --rounds $(ROUNDS) --workers $(WORKERS) --peers $(PEERS) \
		--build $(BUILD) --doc docs/PERFORMANCE.md
