# mk/sync.mk - the async sync primitives (sched/semaphore, mutex, rwlock,
# wait_map, channel; timer/interval).
#
# bench_rt links its tokio::sync workloads from a second file
# (bench/rt_sync.c), before the library.
$(BUILD)/host/rel/bench/bench_rt: $(BUILD)/host/rel/bench/bench_rt.o \
		$(BUILD)/host/rel/bench/rt_sync.o $(BUILD)/host/rel/libhyphae.a
	$(HOST_CC) $(HOST_CFLAGS_rel) $^ -o $@ $(HOST_LDLIBS)
