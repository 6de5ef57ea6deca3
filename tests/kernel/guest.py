"""guest.py - boot a hyphae ISO in QEMU and talk to its serial shell.

Shared by tests/kernel/kvm-check, tests/kernel/smp-scale and
bench/kernel-traps.  One Guest is one QEMU process with the serial
console on pipes:

    g = Guest(iso, cpus=2, accel="tcg")       # or accel="kvm", cpu="qemu64"
    log = g.boot(timeout)                     # boot log up to the prompt
    out = g.command("spawn 10000", timeout)   # text between echo and prompt
    g.close()

accel "tcg" runs `-accel tcg[,thread=multi] -cpu max` as `make run`
does; "kvm" runs `-accel kvm -cpu CPU` (default qemu64: `-cpu host`
does not start on every KVM host).  kvm_usable() says whether /dev/kvm
can create a VM here, and why not.  Every wait is bounded and raises
Fail with what was seen last.
"""
import errno
import fcntl
import os
import re
import select
import subprocess
import time

PROMPT = "hyphae> "
TYPE_DELAY = 0.01

KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_API_VERSION = 12


class Fail(Exception):
    pass


def kvm_usable(path="/dev/kvm"):
    """(True, "") when /dev/kvm opens, speaks API 12 and creates a VM;
    else (False, one line saying why)."""
    if not os.path.exists(path):
        return False, "%s is missing (no KVM module bound on this host)" % path
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return False, "%s cannot be opened: %s" % (path, e.strerror)
    try:
        try:
            api = fcntl.ioctl(fd, KVM_GET_API_VERSION, 0)
        except OSError as e:
            return False, "%s: KVM_GET_API_VERSION failed: %s" % (path, e.strerror)
        if api != KVM_API_VERSION:
            return False, "%s speaks KVM API %d, not %d" % (path, api, KVM_API_VERSION)
        try:
            vm = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
        except OSError as e:
            return False, "%s cannot create a VM: %s" % (
                path, errno.errorcode.get(e.errno, e.strerror))
        os.close(vm)
        return True, ""
    finally:
        os.close(fd)


def qemu_command(iso, cpus, accel="tcg", cpu=None, mem="128M", qemu=None,
                 extra=()):
    qemu = qemu or os.environ.get("QEMU", "qemu-system-x86_64")
    if accel == "kvm":
        accel_args = ["-accel", "kvm", "-cpu", cpu or "qemu64"]
    else:
        accel_args = ["-accel", "tcg,thread=multi" if cpus > 1 else "tcg",
                      "-cpu", cpu or "max"]
    return [qemu, "-M", "pc", "-m", mem, "-smp", str(cpus)] + accel_args + [
        "-display", "none", "-no-reboot", "-boot", "d", "-monitor", "none",
        "-serial", "stdio", "-cdrom", iso,
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"] + list(extra)


class Guest:
    def __init__(self, iso, cpus, accel="tcg", cpu=None, mem="128M",
                 qemu=None, extra=()):
        self.cmd = qemu_command(iso, cpus, accel, cpu, mem, qemu, extra)
        self.cpus = cpus
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(self.cmd, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        os.set_blocking(self.p.stdout.fileno(), False)
        self.buf = ""      # everything received, \r and escapes removed
        self.pos = 0       # where the next expect() starts looking

    def pump(self, wait):
        r, _, _ = select.select([self.p.stdout], [], [], wait)
        if r:
            data = self.p.stdout.read()
            if data:
                text = data.decode("latin-1").replace("\r", "")
                self.buf += re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
                return True
        return False

    def expect(self, pattern, timeout, what):
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            if self.p.poll() is not None and self.pump(0):
                continue
            left = end - time.monotonic()
            if left <= 0 or self.p.poll() is not None:
                rc = self.p.poll()
                raise Fail("%s: no /%s/ %s; last output: %r" % (
                    what, pattern, "within %.0f s" % timeout if rc is None
                    else "before QEMU exited with status %d" % rc,
                    self.buf[self.pos:][-500:]))
            self.pump(min(left, 0.1))

    def settle(self, quiet=0.5, limit=10.0):
        """Read until nothing came for `quiet` seconds (late boot lines)."""
        end = time.monotonic() + limit
        last = time.monotonic()
        while time.monotonic() < end and time.monotonic() - last < quiet:
            if self.pump(0.05):
                last = time.monotonic()

    def boot(self, timeout):
        """Wait for the prompt; return the boot log (everything so far)."""
        self.expect(re.escape(PROMPT), timeout, "boot to the prompt")
        self.prompt_at = time.monotonic() - self.t0
        self.settle()
        self.pos = len(self.buf)
        return self.buf

    def type(self, text):
        for b in text.encode("latin-1"):
            self.p.stdin.write(bytes([b]))
            self.p.stdin.flush()
            time.sleep(TYPE_DELAY)

    def command(self, line, timeout=30.0):
        """Type a line; return the output between its echo and the prompt."""
        self.type(line + "\r")
        self.expect(re.escape(line) + "\n", timeout, "echo of %r" % line)
        start = self.pos
        self.expect(re.escape(PROMPT), timeout, "prompt after %r" % line)
        return self.buf[start:self.pos - len(PROMPT)]

    def cpu_seconds(self):
        """QEMU's user+system CPU time so far, from /proc."""
        with open("/proc/%d/stat" % self.p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


TRAP_COLUMNS = ("irq-mask", "apic-rd", "apic-wr", "msr-wr", "hlt", "port-io",
                "ipi", "total", "ipi-saved", "polled")


def parse_traps(out):
    """The `all` row of `dump traps` as {column: count}, or None."""
    header = re.search(r"^ *core +(.*)$", out, re.M)
    row = re.search(r"^ *all +([\d ]+)$", out, re.M)
    if not header or not row:
        return None
    names = header.group(1).split()
    return dict(zip(names, (int(x) for x in row.group(1).split())))


SPAWN_RX = r"spawn: (\d+) tasks done in ([\d.]+) (ns|us|ms|s) \(([\d.]+) (ns|us|ms|s) per task\) on (\d+) of (\d+) cores"
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def parse_spawn(out):
    """(tasks, total ns, ns per task, cores used, cores) or None."""
    m = re.search(SPAWN_RX, out)
    if not m:
        return None
    return (int(m.group(1)), float(m.group(2)) * UNIT_NS[m.group(3)],
            float(m.group(4)) * UNIT_NS[m.group(5)], int(m.group(6)),
            int(m.group(7)))


def parse_uptime(out):
    """Seconds from the shell's `uptime` ("up 0d 00:00:01.746830"), or Fail."""
    m = re.search(r"up (\d+)d (\d+):(\d+):(\d+)\.(\d+)", out)
    if not m:
        raise Fail("no uptime in %r" % out[-200:])
    d, h, mi, sec = (int(x) for x in m.groups()[:4])
    return ((d * 24 + h) * 60 + mi) * 60 + sec + float("0." + m.group(5))
