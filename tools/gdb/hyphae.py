# tools/gdb/hyphae.py - gdb commands that read hyphae's runtime from memory.
#
# Loaded by build/gdbinit (make debug); in gdb: `source tools/gdb/hyphae.py`.
# Every command reads memory only (no function is called in the target),
# so they work on a kernel stopped anywhere, even in a panic:
#   hy-rt      the runtime table the shell's `rt` prints: cores, queues,
#              counters, the injector
#   hy-tasks   live tasks: each core's registry (every task whose home it
#              is: id, name, state, polls, spawn site), what each core is
#              polling, and the injector's queue (tasks no core has taken
#              yet are in no registry)
#   hy-cpus    each core: runtime slot, APIC id, state, interrupts taken,
#              and where it is stopped (a short backtrace)
#   hy-log     the log ring: the last lines the kernel logged
#   hy-timer   the timer wheel: pending entries per level, expired, the
#              wheel's now and the next deadline
# Like Linux's scripts/gdb (lx-ps, lx-dmesg).  Symbols come from the ELF's
# DWARF, so the commands follow the structs as they change.

import gdb

STATES = {0: "unclaimed", 1: "running", 2: "idle", 3: "stopped"}
TASK_FLAGS = [(1 << 0, "POLLING"), (1 << 1, "WOKEN"), (1 << 2, "COMPLETED"),
              (1 << 3, "CANCELED"), (1 << 4, "JOIN"), (1 << 7, "OUTPUT")]
TASK_REF_SHIFT = 16
MAX_LIST = 4096          # nodes walked per queue at most (a broken list ends)


def static(name):
    """A file-static or global variable by name, as a gdb.Value."""
    sym = gdb.lookup_static_symbol(name) or gdb.lookup_global_symbol(name)
    if sym is None:
        raise gdb.GdbError("hyphae: no symbol %r (is the kernel ELF loaded?)" % name)
    return sym.value()


def runtime():
    rt = static("global_rt")
    if int(rt) == 0:
        raise gdb.GdbError("hyphae: no runtime yet (rt_set_global has not run)")
    return rt.dereference()


def u(v):
    return int(v)


def cstr(ptr, limit=48):
    """A C string at ptr, read from memory up to its NUL (at most limit)."""
    addr = u(ptr)
    if addr == 0:
        return "?"
    inf = gdb.selected_inferior()
    for n in (limit, 16, 1):
        try:
            raw = bytes(inf.read_memory(addr, n))
            return raw.split(b"\0")[0].decode("latin-1")
        except gdb.MemoryError:
            continue
    return "<bad name 0x%x>" % addr


def claimed(rt):
    n = u(rt["next_slot"])
    return min(n, len_slots(rt))


def len_slots(rt):
    t = rt["slots"].type
    return t.range()[1] + 1


class HyRt(gdb.Command):
    """hy-rt: the runtime table (as the shell's `rt`), read from memory."""

    def __init__(self):
        super().__init__("hy-rt", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        rt = runtime()
        n = claimed(rt)
        inj = rt["injector"]
        print("cores: %d/%d active, %d idle" % (u(rt["active"]), len_slots(rt),
                                               u(rt["idle_count"])))
        # injector_queued(): injected + untaken, modulo 2^64.
        queued = (u(inj["injected"]) + u(inj["untaken"])) % (1 << 64)
        print("injector: %d queued, %d injected" % (queued,
                                                   u(inj["injected"])))
        print("%4s %5s %-9s %7s %9s %9s %9s %8s %8s %9s %8s %8s" %
              ("core", "apic", "state", "queued", "spawned", "polled",
               "completed", "stol-in", "stol-out", "woken", "wakeups",
               "polling"))
        for i in range(n):
            s = rt["slots"][i]
            if not u(s["initialised"]):
                continue
            sc = s["sched"]
            print("%4d %5d %-9s %7d %9d %9d %9d %8d %8d %9d %8d %8s" % (
                i, u(s["hwid"]), STATES.get(u(s["state"]), "?"),
                u(sc["queued"]), u(sc["spawned"]), u(sc["polled"]),
                u(sc["completed"]), u(sc["stolen_in"]), u(sc["stolen_out"]),
                u(sc["woken_internal"]) + u(sc["woken_external"]),
                u(s["wakeups"]),
                task_id(polling(sc)) if polling(sc) else "-"))


SCHED_ID_SHIFT = 40     # sched/scheduler.h: (core + 1) << 40 | sequence


def task_id(i):
    """A task id as `tasks` prints it: C.N, or i.N for the injector's."""
    core = i >> SCHED_ID_SHIFT
    seq = i & ((1 << SCHED_ID_SHIFT) - 1)
    return "%d.%d" % (core - 1, seq) if core else "i.%d" % seq


def polling(sc):
    """The id of the task scheduler sc is polling right now, or 0: the
    owner's poll_seq is odd while a poll runs (sched/poll.h)."""
    return u(sc["poll_id"]) if u(sc["poll_seq"]) & 1 else 0


def task_name(t):
    """Its name as task_name() (sched/task.h) makes it: the spawn site's,
    else the vtable's, else "task"."""
    site = t["site"]
    if u(site) and u(site["name"]):
        return cstr(site["name"])
    vt = t["vtable"]
    if u(vt) and u(vt["name"]):
        return cstr(vt["name"])
    return "task"


def task_line(t):
    """One task (a struct task) in words."""
    state = u(t["state"])
    flags = "|".join(n for b, n in TASK_FLAGS if state & b) or "idle"
    site = t["site"]
    where = ("%s:%d" % (cstr(site["file"], 64), u(site["line"]))
             if u(site) else "?")
    return "task %-8s %-16s %-22s refs %d, %d polls, %s" % (
        task_id(u(t["id"])), task_name(t), flags, state >> TASK_REF_SHIFT,
        u(t["polls"]), where)


def registry_tasks(sc):
    """The tasks in scheduler sc's registry (its circular list at
    reg_head; the `tasks` walk's cursors are skipped)."""
    task_t = gdb.lookup_type("struct task")
    off = None
    for f in task_t.fields():
        if f.name == "reg":
            off = f.bitpos // 8
    head = sc["reg_head"].address
    node = sc["reg_head"]["next"]
    out, seen = [], 0
    while u(node) and u(node) != u(head) and seen < MAX_LIST:
        if not u(node.dereference()["cursor"]):
            t = gdb.Value(u(node) - off).cast(task_t.pointer()).dereference()
            out.append(t)
        node = node.dereference()["next"]
        seen += 1
    return out, seen >= MAX_LIST


def queue_tasks(q):
    """The tasks linked in an MPSC queue, from the consumer's end."""
    task_ptr = gdb.lookup_type("struct task").pointer()
    node = q["tail"]
    stub = u(q["stub"])
    out, seen = [], 0
    while u(node) and seen < MAX_LIST:
        if u(node) != stub:
            # run_node is the task's first member.
            out.append(node.cast(task_ptr).dereference())
        node = node["next"]
        seen += 1
    return out, seen >= MAX_LIST


class HyTasks(gdb.Command):
    """hy-tasks: live tasks - each core's registry and what it polls, and
    the injector's queue."""

    def __init__(self):
        super().__init__("hy-tasks", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        rt = runtime()
        total = 0
        for i in range(claimed(rt)):
            s = rt["slots"][i]
            if not u(s["initialised"]):
                continue
            sc = s["sched"]
            cur = polling(sc)
            tasks, cut = registry_tasks(sc)
            print("cpu%d: polling %s, %d queued, %d live%s" % (
                i, "task %s" % task_id(cur) if cur else "nothing", u(sc["queued"]),
                len(tasks), " (list cut)" if cut else ""))
            for t in tasks:
                print("  " + task_line(t))
            total += len(tasks)
        tasks, cut = queue_tasks(rt["injector"]["queue"])
        print("injector: %d queued, in no registry yet%s" % (
            len(tasks), " (list cut)" if cut else ""))
        for t in tasks:
            print("  " + task_line(t))
        print("%d live tasks" % (total + len(tasks)))
        # The tasks being polled, from the stopped cores' stacks (only
        # if the frame's `t` is one of the polled ids: -O2 may have
        # reused its register).
        polled = {polling(rt["slots"][i]["sched"])
                  for i in range(claimed(rt))} - {0}
        for th in sorted(gdb.selected_inferior().threads(), key=lambda t: t.num):
            t = polled_task(th)
            if t is not None and u(t["id"]) in polled:
                print("vCPU %d is inside the poll of %s" % (th.num, task_line(t)))


def polled_task(thread):
    """The struct task a stopped vCPU is polling (task_run's t), or None."""
    old = gdb.selected_thread()
    try:
        thread.switch()
        f = gdb.newest_frame()
        while f is not None:
            if f.name() == "task_run":
                try:
                    t = f.read_var("t")
                    if t.is_optimized_out or u(t) == 0:
                        return None
                    return t.dereference()
                except (ValueError, gdb.error):
                    return None
            f = f.older()
    except gdb.error:
        return None
    finally:
        if old is not None:
            old.switch()
    return None


class HyCpus(gdb.Command):
    """hy-cpus: each core (QEMU vCPU): runtime slot, APIC id, state,
    interrupts taken, and its backtrace where it is stopped."""

    def __init__(self):
        super().__init__("hy-cpus", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        depth = int(arg) if arg.strip() else 6
        try:
            rt = runtime()
        except gdb.GdbError:
            rt = None
        cpu_ptr = gdb.lookup_type("struct cpu").pointer()
        old = gdb.selected_thread()
        for th in sorted(gdb.selected_inferior().threads(), key=lambda t: t.num):
            th.switch()
            try:
                gs = u(gdb.parse_and_eval("$gs_base"))
            except gdb.error:
                gs = 0
            head = "vCPU %d" % th.num
            if gs:
                c = gdb.Value(gs).cast(cpu_ptr).dereference()
                idx = u(c["index"])
                state = "?"
                if rt is not None and idx < claimed(rt) and \
                        u(rt["slots"][idx]["initialised"]):
                    state = STATES.get(u(rt["slots"][idx]["state"]), "?")
                head += ": cpu%d (bring-up %d, apic %d), %s, %d interrupts" % (
                    idx, u(c["number"]), u(c["hwid"]), state, u(c["interrupts"]))
            else:
                head += ": no per-core block yet (GS base 0)"
            print(head)
            frame, n = gdb.newest_frame(), 0
            while frame is not None and n < depth:
                sal = frame.find_sal()
                where = ("%s:%d" % (sal.symtab.filename, sal.line)
                         if sal.symtab else "")
                print("  #%d 0x%016x %s %s" % (n, frame.pc(),
                                                frame.name() or "??", where))
                try:
                    frame = frame.older()
                except gdb.error:
                    break
                n += 1
        if old is not None:
            old.switch()


class HyLog(gdb.Command):
    """hy-log [N]: the last N (default all) lines of the kernel's log ring."""

    def __init__(self):
        super().__init__("hy-log", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        ring = static("log_ring")
        lines = ring["lines"]
        size = lines.type.range()[1] + 1
        end = u(ring["next"])
        want = int(arg) if arg.strip() else size
        start = max(0, end - min(want, size))
        words = lines[0]["text"].type.range()[1] + 1
        print("log ring: %d lines written, the last %d:" % (end, end - start))
        for i in range(start, end):
            line = lines[i % size]
            if u(line["seq"]) != 2 * i + 2:
                print("(line %d is being written)" % i)
                continue
            n = u(line["len"])
            raw = b"".join(u(line["text"][w]).to_bytes(8, "little")
                           for w in range(min(words, (n + 7) // 8)))
            print(raw[:n].decode("latin-1").rstrip("\n"))


class HyTimer(gdb.Command):
    """hy-timer: the global timer wheel: entries per level, the next deadline."""

    def __init__(self):
        super().__init__("hy-timer", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        tp = static("global_timer")
        if u(tp) == 0:
            raise gdb.GdbError("hyphae: no global timer yet")
        t = tp.dereference()
        w = t["wheel"]
        clock = t["clock"].dereference()
        tick_ns = u(clock["tick_ns"])
        levels = w["pending"].type.range()[1] + 1
        slots = w["occupied"][0].type.sizeof * 8
        now = u(w["now"])
        hint = u(t["next_hint"])
        print("timer: clock %s, %d ns a tick, wheel at tick %d, lock %s" % (
            cstr(clock["name"]), tick_ns, now,
            "held" if lock_held(t["lock"]) else "free"))
        total = 0
        for lv in range(levels):
            span = slots ** lv
            pend = u(w["pending"][lv])
            total += pend
            print("  level %d: %6d pending, slots of %s, occupied %016x" % (
                lv, pend, ns_words(span * tick_ns), u(w["occupied"][lv])))
        print("  expired, not fired yet: %d" % u(w["expired_count"]))
        try:
            wd = u(runtime()["wd_timer_on"])
        except gdb.GdbError:
            wd = 0
        print("  of them the stuck-poll watchdog's entry: %d" % wd)
        if hint == 0xffffffffffffffff:
            print("next deadline: none (%d pending)" % total)
        else:
            print("next deadline: tick %d, %s after the wheel's now (%d pending)" % (
                hint, ns_words(max(hint - now, 0) * tick_ns), total))


def lock_held(lock):
    for f in lock.type.fields():
        v = lock[f.name]
        try:
            return u(v) != 0
        except gdb.error:
            continue
    return False


def ns_words(ns):
    for unit, div in (("s", 10 ** 9), ("ms", 10 ** 6), ("us", 10 ** 3)):
        if ns >= div:
            return "%g %s" % (round(ns / div, 3), unit)
    return "%d ns" % ns


HyRt()
HyTasks()
HyCpus()
HyLog()
HyTimer()
print("hyphae: hy-rt, hy-tasks, hy-cpus, hy-log, hy-timer loaded")
