# mk/benchcmp.mk - hyphae against its peers.
#
#   make bench-compare   run hyphae and the tokio peer alternately (ROUNDS,
#                        default 5) at each worker count of WORKERS (default
#                        2; e.g. WORKERS=1,2,4 gives one table per count),
#                        the queue harness, the timer and memory benches;
#                        print the tables and write them to
#                        $(BUILD)/bench/compare.md (bench/compare does it all).
#   make bench-doc       the same, then write the tables into the marked
#                        sections of docs/PERFORMANCE.md.
#   make bench-peers     build the peers only.
#
# The peers are the project's own (bench/peers/): the tokio harness, built
# offline by cargo from Debian's packaged crates in a copy under $(BUILD),
# and bench/qbench/qbench.c, the C queue harness, which needs liburcu and
# Concurrency Kit and so is built here rather than by the bench/bench_*.c
# wildcard of `make bench`.  tools/deps bench installs what they need.
ROUNDS		?= 5
WORKERS		?= 2
DEPS_BENCH	:= $(BUILD)/.deps-bench
QBENCH		:= $(BUILD)/host/rel/bench/qbench/qbench
TOKIO_PEER_SRC	:= bench/peers/tokio
TOKIO_PEER_DIR	:= $(BUILD)/bench/peers/tokio
TOKIO_PEER	:= $(TOKIO_PEER_DIR)/target/release/tokio-peer
BENCHCMP_BINS	:= $(BUILD)/host/rel/bench/bench_rt \
		   $(BUILD)/host/rel/bench/bench_timer \
		   $(BUILD)/host/rel/bench/bench_mem \
		   $(BUILD)/host/rel/bench/rtt \
		   $(QBENCH) $(TOKIO_PEER)
BENCHCMP_ARGS	= --rounds $(ROUNDS) --workers $(WORKERS) --build $(BUILD) --prebuilt

$(QBENCH): bench/qbench/qbench.c $(BUILD)/host/rel/libhyphae.a | $(DEPS_BENCH)
	@mkdir -p $(@D)
	$(HOST_CC) -O2 -march=native -pthread -I. -Iinclude $< \
		$(BUILD)/host/rel/libhyphae.a -o $@ -lurcu-common -lck $(HOST_LDLIBS)

# cargo writes Cargo.lock next to Cargo.toml, so it runs on a copy.  The
# copy's .cargo/config.toml points cargo at /usr/share/cargo/registry.
$(TOKIO_PEER): $(TOKIO_PEER_SRC)/Cargo.toml $(TOKIO_PEER_SRC)/.cargo/config.toml \
		$(wildcard $(TOKIO_PEER_SRC)/src/*.rs) | $(DEPS_BENCH)
	@rm -rf $(TOKIO_PEER_DIR)/src $(TOKIO_PEER_DIR)/.cargo
	@mkdir -p $(TOKIO_PEER_DIR)
	cp -r $(TOKIO_PEER_SRC)/Cargo.toml $(TOKIO_PEER_SRC)/.cargo \
		$(TOKIO_PEER_SRC)/src $(TOKIO_PEER_DIR)/
	cd $(TOKIO_PEER_DIR) && cargo build --release --offline --quiet
	@touch $@

#> bench-compare hyphae against tokio and the C queues, alternating rounds (ROUNDS=5, WORKERS=2 or 1,2,4); tables in $(BUILD)/bench/
#> bench-doc     bench-compare, then its tables into docs/PERFORMANCE.md
#> bench-peers   build the peers only (bench/peers/tokio, bench/qbench)
#> qbench        the queue harness alone
.PHONY: bench-compare bench-doc bench-peers qbench
bench-peers: $(QBENCH) $(TOKIO_PEER)

qbench: $(QBENCH)
	$(QBENCH)

bench-compare: $(BENCHCMP_BINS)
	bench/compare $(BENCHCMP_ARGS)

# The memory table quotes the kernel image's size, so the doc's run builds it.
bench-doc: $(BENCHCMP_BINS) $(BUILD)/hyphae.elf
	bench/compare $(BENCHCMP_ARGS) --doc docs/PERFORMANCE.md
