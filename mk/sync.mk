# mk/sync.mk - the async sync primitives (sched/semaphore, mutex, rwlock,
# wait_map, channel; timer/interval).
#
# bench_rt links its tokio::sync workloads from a second file
# (bench/rt_sync.c), before the library.
$(BUILD)/host/rel/bench/bench_rt: $(BUILD)/host/rel/bench/bench_rt.o \
		$(BUILD)/host/rel/bench/rt_sync.o $(BUILD)/host/rel/libhyphae.a
	$(HOST_CC) $(HOST_CFLAGS_rel) $^ -o $@ $(HOST_LDLIBS)

# README's example is tests/rt/readme_mutex.h, which test_readme_mutex
# builds and runs; `make test` checks README.md shows it as it is.
TEST_CMDS	+= 'tools/check-example README.md tests/rt/readme_mutex.h'
