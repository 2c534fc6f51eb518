"""Mount namespace ids, for the benchmarks' private namespace.

A new mount namespace can be bound (preserved) into another only when its
id is larger. On a real host the snaps' namespaces are preserved in PID 1's,
the oldest of all, so that always holds. Since Linux 6.18 ids are handed out
from per-CPU batches, and a namespace created now on one CPU may get a
smaller id than one created a moment ago on another. The benchmarks build
and preserve namespaces inside a private namespace of their own, made just
before: made on the wrong CPU, every cold launch that runs on another one
meets the case a real host never has (Debian's snap-confine fails it, ours
unshares again, which costs time). So the private namespace is made on the
CPU whose new namespaces get the smallest ids:

  python3 bench/nsorder.py oldest-cpu   the CPU to make it on
  python3 bench/nsorder.py check        inside it: exits 1, saying so,
                                        when a new namespace on some CPU
                                        would get a smaller id than its own

On a kernel without NS_GET_MNTNS_ID (before 6.7) ids only grow: oldest-cpu
prints the first allowed CPU and check passes.
"""
import ctypes
import fcntl
import os
import struct
import sys

NS_GET_MNTNS_ID = (2 << 30) | (8 << 16) | (0xB7 << 8) | 0x5
CLONE_NEWNS = 0x00020000
libc = ctypes.CDLL(None, use_errno=True)


def own_id():
    """The id of the calling process's mount namespace, or None."""
    fd = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    try:
        return struct.unpack("Q", fcntl.ioctl(fd, NS_GET_MNTNS_ID, b"\0" * 8))[0]
    except OSError:
        return None
    finally:
        os.close(fd)


def new_id_on(cpu):
    """The id a mount namespace made now on `cpu` gets (in a child)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.sched_setaffinity(0, {cpu})
            if libc.unshare(CLONE_NEWNS) != 0:
                raise OSError(ctypes.get_errno(), "unshare")
            os.write(w, str(own_id()).encode())
        finally:
            os._exit(0)
    os.close(w)
    out = os.read(r, 64).decode()
    os.close(r)
    os.waitpid(pid, 0)
    return None if out in ("", "None") else int(out)


def online_cpus():
    """Every online CPU (not just those this process may run on)."""
    cpus = []
    for part in open("/sys/devices/system/cpu/online").read().strip().split(","):
        first, _, last = part.partition("-")
        cpus.extend(range(int(first), int(last or first) + 1))
    return cpus


def main():
    cpus = online_cpus()
    if sys.argv[1:] == ["oldest-cpu"]:
        ids = {cpu: new_id_on(cpu) for cpu in cpus}
        known = {cpu: i for cpu, i in ids.items() if i is not None}
        print(min(known, key=known.get) if known else cpus[0])
    elif sys.argv[1:] == ["check"]:
        mine = own_id()
        younger = {cpu: new_id_on(cpu) for cpu in cpus} if mine is not None else {}
        bad = [f"cpu {cpu}: {i}" for cpu, i in younger.items() if i is not None and i < mine]
        if bad:
            print(f"WARNING: new mount namespaces get ids below this one's ({mine}): {', '.join(bad)}; "
                  "cold launches on those CPUs meet a case a real host never has")
            sys.exit(1)
    else:
        sys.exit("usage: nsorder.py oldest-cpu | check")


if __name__ == "__main__":
    main()
