"""Several claimers on one database file never take the same job; a SIGKILL loses nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

from lossy_desktop.queue import JobContext, JobRecord, Ok, Result, Runner
from lossy_desktop.services import Services

ROOT = Path(__file__).resolve().parents[1]


def test_threads_with_their_own_connections_never_claim_the_same_job(data_dir: Path) -> None:
    jobs, claimers = 1500, 6
    with Services.open(data_dir) as svc:
        for i in range(jobs):
            svc.queue.insert("w", {"i": i}, queue="stress")
    opened = [Services.open(data_dir) for _ in range(claimers)]
    claimed: list[list[int]] = [[] for _ in opened]
    errors: list[BaseException] = []
    barrier = threading.Barrier(claimers)

    def claim_loop(index: int) -> None:
        queue, rng = opened[index].queue, random.Random(index)
        try:
            barrier.wait()
            while True:
                batches = queue.claim("stress", rng.randint(1, 8))
                if not batches:
                    return
                for [job] in batches:
                    claimed[index].append(job.id)
                    queue.complete(job.id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=claim_loop, args=(i,)) for i in range(claimers)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for svc in opened:
            svc.close()
    assert not errors, errors
    every = [job_id for ids in claimed for job_id in ids]
    duplicates = [job_id for job_id, n in Counter(every).items() if n > 1]
    assert duplicates == []
    assert len(every) == jobs
    assert sum(1 for ids in claimed if ids) >= 2  # the work really was shared
    with Services.open(data_dir) as svc:
        assert svc.queue.counts("stress")["completed"] == jobs
        assert {j.attempt for j in svc.queue.list_jobs(queue="stress", limit=jobs)} == {1}


CLAIMER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from lossy_desktop.services import Services

    marks = Path(sys.argv[2])
    with Services.open(sys.argv[1]) as svc:
        first = True
        while True:
            batches = svc.queue.claim("stress", 3)
            if not batches:
                break
            for [job] in batches:
                print(job.id, flush=True)
                svc.queue.complete(job.id)
            if first:  # a barrier: every claimer holds some work before any goes on
                first = False
                (marks / str(os.getpid())).touch()
                deadline = time.monotonic() + 60
                while len(list(marks.iterdir())) < int(sys.argv[3]):
                    assert time.monotonic() < deadline, "the other claimers never started"
                    time.sleep(0.005)
    """
)


def test_processes_on_one_file_never_claim_the_same_job(data_dir: Path, tmp_path: Path) -> None:
    """Across processes only SQLite's BEGIN IMMEDIATE keeps claims apart."""
    jobs, claimers = 600, 3
    marks = tmp_path / "claimers"
    marks.mkdir()
    with Services.open(data_dir) as svc:
        for i in range(jobs):
            svc.queue.insert("w", {"i": i}, queue="stress")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(data_dir), str(marks), str(claimers)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(claimers)
    ]
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            outputs.append([int(line) for line in out.split()])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
    every = [job_id for ids in outputs for job_id in ids]
    assert len(every) == jobs and len(set(every)) == jobs
    assert all(outputs), [len(ids) for ids in outputs]  # every process really claimed
    with Services.open(data_dir) as svc:
        assert svc.queue.counts("stress")["completed"] == jobs


class Recorder:
    name, queue, group_limit = "w", "automation", 1

    def __init__(self, log: list[int], lock: threading.Lock) -> None:
        self._log, self._lock = log, lock

    def perform(self, jobs: list[JobRecord], ctx: JobContext) -> dict[int, Result]:
        with self._lock:
            self._log.extend(j.id for j in jobs)
        return {j.id: Ok() for j in jobs}


def test_several_runners_on_one_file_run_each_job_once(data_dir: Path) -> None:
    jobs = 300
    with Services.open(data_dir) as svc:
        svc.settings.set("automation_rate_allowed", 1000)
        svc.settings.set("automation_concurrency", 4)
    opened = [Services.open(data_dir) for _ in range(3)]
    ran: list[int] = []
    lock = threading.Lock()
    runners = [
        Runner(s.queue, [Recorder(ran, lock)], s.settings, rescue_orphans=False) for s in opened
    ]
    try:
        for runner in runners:
            runner.start()
        for i in range(jobs):  # round-robin, so every runner is woken by its own inserts
            opened[i % 3].queue.insert("w", {"i": i})
        for runner in runners:
            runner.run_until_idle(timeout=120)
    finally:
        for runner in runners:
            runner.stop()
        for s in opened:
            s.close()
    assert len(ran) == jobs and len(set(ran)) == jobs


CHILD = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from lossy_desktop.queue import Ok, Runner
    from lossy_desktop.services import Services

    data, marks = Path(sys.argv[1]), Path(sys.argv[2])
    svc = Services.open(data)
    svc.settings.set("automation_rate_allowed", 1000)
    svc.settings.set("automation_concurrency", 3)
    ids = [svc.queue.insert("w", {"i": i}).id for i in range(10)]

    class Worker:
        name, queue, group_limit = "w", "automation", 1

        def perform(self, jobs, ctx):
            job = jobs[0]
            if job.args["i"] < 4:
                return {job.id: Ok()}
            (marks / str(job.id)).write_text("running")
            threading.Event().wait()  # hangs until the process is killed

    Runner(svc.queue, [Worker()], svc.settings).start()
    threading.Event().wait()
    """
)


def test_sigkill_while_jobs_execute_loses_none(data_dir: Path, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), str(marks)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while len(list(marks.iterdir())) < 3:  # three jobs are mid-flight
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never got three jobs running"
            time.sleep(0.02)  # polling a file the child writes; not a fixed wait
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
        if child.stderr:
            child.stderr.close()

    with Services.open(data_dir) as svc:
        counts = svc.queue.counts()
        assert counts["completed"] == 4
        assert counts["executing"] == 3  # cut off mid-flight
        assert counts["available"] == 3
        cut_off = {int(p.name) for p in marks.iterdir()}
        ran: list[int] = []
        runner = Runner(svc.queue, [Recorder(ran, threading.Lock())], svc.settings)
        try:
            runner.run_until_idle(timeout=60)  # start() rescues the orphans
        finally:
            runner.stop()
        assert svc.queue.counts()["completed"] == 10
        assert cut_off <= set(ran) and len(ran) == 6
        for job_id in cut_off:
            job = svc.queue.get(job_id)
            assert job is not None and job.attempt == 2
            assert job.errors[0]["kind"] == "orphaned"
