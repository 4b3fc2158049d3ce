"""What bench/run_bench and bench/standard_workloads share: the machine's
description and one measured hmmsim run (wall and CPU time, peak RSS, its
stats.json flattened). Python 3, standard library only."""
import json
import os
import platform
import shutil
import subprocess
import sys
import time

GNU_TIME = "/usr/bin/time"


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model or platform.processor(),
            "kernel": platform.release(), "loadavg_start": os.getloadavg()}


def flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            out.update(flat(v, key))
        else:
            out[key] = v
    return out


def has_gnu_time():
    try:
        r = subprocess.run([GNU_TIME, "-f", "%M", "true"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        return r.returncode == 0 and r.stderr.strip().isdigit()
    except OSError:
        return False


def vm_hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


class Runner:
    """Runs hmmsim once and measures the run: wall time, CPU time, peak RSS.

    Peak RSS cannot be read from this process's children's rusage: Linux
    carries a process's high-water RSS across exec, so a child forked from
    Python starts with Python's RSS (about as large as hmmsim's). GNU time, a
    small process, forks hmmsim itself and reports that child's ru_maxrss.
    Without GNU time, /proc/<pid>/status VmHWM (per address space, so it
    starts afresh at exec) is polled every 5 ms until the process exits: a
    lower bound; CPU time then comes from os.wait4."""

    def __init__(self, binary, tmp):
        self.binary, self.tmp, self.count = binary, tmp, 0
        self.gnu_time = has_gnu_time()
        self.rss_method = ("GNU time %M: ru_maxrss of the hmmsim process" if self.gnu_time
                           else "VmHWM of /proc/<pid>/status polled every 5 ms (a lower bound)")

    def run(self, config, extra=()):
        """One `hmmsim run config extra`: {wall, cpu, rss (bytes), stats (flat)}."""
        self.count += 1
        out = os.path.join(self.tmp, f"out{self.count}")
        errpath = os.path.join(self.tmp, f"err{self.count}")
        usepath = os.path.join(self.tmp, f"usage{self.count}")
        # The simulator is measured, not the timeline's recording (docs/outputs.md gives its cost).
        cmd = [self.binary, "run", config, "--out", out, "-q", "--set", "run.timeline_max_events=0", *extra]
        with open(errpath, "w") as err:
            t0 = time.perf_counter()
            if self.gnu_time:
                rc = subprocess.call([GNU_TIME, "-q", "-f", "%M %U %S", "-o", usepath, *cmd],
                                     stdout=subprocess.DEVNULL, stderr=err)
                wall = time.perf_counter() - t0
            else:
                p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
                hwm = 0
                while True:
                    hwm = max(hwm, vm_hwm(p.pid))
                    pid, status, usage = os.wait4(p.pid, os.WNOHANG)
                    if pid:
                        break
                    time.sleep(0.005)
                wall = time.perf_counter() - t0
                p.returncode = rc = os.waitstatus_to_exitcode(status)
                cpu = usage.ru_utime + usage.ru_stime
        if rc != 0:
            with open(errpath) as err:
                sys.exit(f"{os.path.basename(sys.argv[0])}: {' '.join(cmd)} exited {rc}:\n{err.read()}")
        if self.gnu_time:
            with open(usepath) as f:
                kib, user, sys_s = f.read().split()[-3:]
            hwm, cpu = int(kib) * 1024, float(user) + float(sys_s)
        with open(os.path.join(out, "stats.json")) as f:
            stats = flat(json.load(f))
        shutil.rmtree(out, ignore_errors=True)
        return {"wall": wall, "cpu": cpu, "rss": hwm, "stats": stats}
