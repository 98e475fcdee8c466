"""Process-tree accounting from /proc: CPU time and memory of a server and
every process it spawned (workers), without extra tools."""

import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    """Fields of /proc/<pid>/stat after the command name (which may hold
    spaces), so index 0 is the state, 1 the ppid, 11/12 utime/stime."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    return data[data.rindex(")") + 2:].split()


def tree(root):
    """root and all its live descendants."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            ppid = int(_stat_fields(name)[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if not os.path.exists(f"/proc/{pid}"):
            continue
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids):
    """user+system CPU of the given processes (all their threads), plus
    what they already reaped from dead children."""
    total = 0
    for pid in pids:
        try:
            f = _stat_fields(pid)
        except OSError:
            continue
        total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total / CLK_TCK


def _kib(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pids):
    """Sum of resident set sizes. Pages shared between forked workers are
    counted once per process, so this overstates prefork servers; see pss."""
    return sum(_kib(f"/proc/{p}/status", "VmRSS:") for p in pids)


def pss_kib(pids):
    """Sum of proportional set sizes: shared pages split between sharers,
    the fair total for a tree of forked processes."""
    return sum(_kib(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def machine_busy_seconds():
    """(busy, steal) CPU seconds of the whole machine so far, from the
    aggregate line of /proc/stat; busy includes irq, softirq and steal."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK, steal / CLK_TCK
