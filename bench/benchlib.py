"""benchlib.py - what the benchmark (bench/run.py) and the load test (tests/run_load.py) share:
a server process on loopback, wrk driven by bench/wrk.lua, resident memory, the machine.

Standard library only.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
WRK_LUA = os.path.join(HERE, "wrk.lua")
LISTEN_RE = re.compile(r"listening on http://([0-9.]+):(\d+)")
SIGN_PATH = "/cds-services/myositis-order-sign"


class Server:
    """A server started with --port 0: its stderr goes to a file, read for the port."""

    def __init__(self, argv, log_path, timeout=20, env=None):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.log, env=env)
        self.port = None
        deadline = time.monotonic() + timeout
        while self.port is None and time.monotonic() < deadline and self.proc.poll() is None:
            with open(log_path, "r", errors="replace") as f:
                m = LISTEN_RE.search(f.read())
            if m:
                self.port = int(m.group(2))
            else:
                time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RuntimeError(f"{argv[0]} did not start: {self.tail()}")
        self.url = f"http://127.0.0.1:{self.port}"

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        """Resident memory (VmRSS) in kB, from /proc."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def stop(self, timeout=30):
        """SIGTERM, then the exit status (None when it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.log.close()
        return rc

    def tail(self, n=3):
        with open(self.log_path, "r", errors="replace") as f:
            return " | ".join(f.read().splitlines()[-n:])


def served(base_url):
    """Requests the server has answered, from its /metrics (the /metrics calls left out)."""
    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(None, 1)[1]) for line in text.splitlines()
               if line.startswith("myocds_http_requests_total{")
               and 'endpoint="metrics"' not in line)


def write_bodies(path, entries):
    """The WRK_BODIES file of bench/wrk.lua: (url path, body file) pairs."""
    with open(path, "w") as f:
        for url_path, body in entries:
            f.write(f"{url_path}\t{os.path.abspath(body)}\n")
    return path


def run_wrk(url, bodies, threads, conns, duration, quota=0, statuses=False, timeout_s=10,
            pause_ms=0, on_poll=None):
    """Runs wrk with bench/wrk.lua; returns its WRK_RESULT as a dict (plus "rps").
    With quota, wrk stops once that many responses came back (duration is then a bound),
    and on_poll(), if given, is called every 50 ms while it runs;
    with pause_ms, each connection waits that long before each request (a light load)."""
    done_dir = tempfile.mkdtemp(prefix="myocds-wrk-")
    env = dict(os.environ, WRK_BODIES=bodies, WRK_THREADS=str(threads), WRK_DONE=done_dir,
               WRK_QUOTA=str(quota), WRK_STATUS="1" if statuses else "0",
               WRK_DELAY_MS=str(pause_ms))
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", f"--timeout={timeout_s}s",
           "-s", WRK_LUA, url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        while quota and proc.poll() is None:
            if len(os.listdir(done_dir)) >= threads:
                time.sleep(0.2)  # the threads leave their loops; then only main gets the signal
                proc.send_signal(signal.SIGINT)
                break
            if on_poll is not None:
                on_poll()
            time.sleep(0.05)
        out = proc.communicate(timeout=duration + 60)[0].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(done_dir, ignore_errors=True)
    m = re.search(r"^WRK_RESULT (\{.*\})$", out, re.M)
    if not m:
        raise RuntimeError(f"wrk gave no result: {out[-500:]}")
    res = json.loads(m.group(1))
    res["rps"] = res["requests"] / (res["duration_us"] / 1e6) if res["duration_us"] else 0.0
    res["socket_errors"] = sum(v for k, v in res["errors"].items() if k != "status")
    return res


def machine():
    """nproc, CPU model, RAM and kernel, as one line."""
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return (f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1048576:.1f} GiB RAM, "
            f"Linux {os.uname().release}")


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]
