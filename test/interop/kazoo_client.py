"""kazoo (Debian's python3-kazoo 2.8) against a synod node: test/interop/zookeeper-clients.test.ts
runs this with /usr/bin/python3.

Usage:
  kazoo_client.py basic HOSTS              CRUD with versions, ephemerals, sequential, watches, transactions
  kazoo_client.py recipes HOSTS THREADS    kazoo's recipes under contention from THREADS threads (one session each)
  kazoo_client.py worker HOSTS ID THREADS  one of several processes contending on the same recipes

Every mode prints one JSON object on its last line; a failed check raises (non-zero exit).
Mutual exclusion is checked by the holders themselves: whoever holds a lock (or a semaphore
lease, or leadership) creates an ephemeral marker that must not exist yet (or counts the markers),
so a broken recipe or server shows up as a NodeExistsError / a count above the limit.
"""
import json
import sys
import threading
import time
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoNodeError, NodeExistsError, NotEmptyError, RolledBackError
from kazoo.protocol.states import EventType

TIMEOUT_S = 60


def connect(hosts):
    client = KazooClient(hosts=hosts, timeout=10)
    client.start(timeout=15)
    return client


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def basic(hosts):
    zk = connect(hosts)
    root = "/kazoo-basic-" + uuid.uuid4().hex[:8]
    zk.create(root)
    # CRUD with versions.
    path = zk.create(root + "/node", b"v0")
    check(path == root + "/node", "create returns the path")
    data, stat = zk.get(path)
    check(data == b"v0" and stat.version == 0, "get after create")
    stat = zk.set(path, b"v1", version=0)
    check(stat.version == 1, "set bumps the version")
    try:
        zk.set(path, b"stale", version=0)
        check(False, "a stale version must fail")
    except BadVersionError:
        pass
    try:
        zk.create(path, b"dup")
        check(False, "NodeExists expected")
    except NodeExistsError:
        pass
    zk.create(path + "/child")
    try:
        zk.delete(path)
        check(False, "NotEmpty expected")
    except NotEmptyError:
        pass
    check(zk.get_children(path) == ["child"], "children")
    zk.delete(path, recursive=True)
    check(zk.exists(path) is None, "deleted")
    try:
        zk.get(path)
        check(False, "NoNode expected")
    except NoNodeError:
        pass
    # create with include_data (create2) and a data stat.
    created, stat = zk.create(root + "/with-stat", b"abc", include_data=True)
    check(stat.dataLength == 3, "create2 returns a stat")

    # Sequential naming.
    names = [zk.create(root + "/seq-", sequence=True) for _ in range(3)]
    check([n[-10:] for n in names] == ["0000000002", "0000000003", "0000000004"], "sequence numbers from the parent's cversion: %r" % names)

    # An ephemeral vanishes when its session closes; the watch fires once.
    other = connect(hosts)
    other.create(root + "/eph", b"x", ephemeral=True)
    events = []
    fired = threading.Event()

    def watcher(event):
        events.append((event.type, event.path))
        fired.set()

    check(zk.exists(root + "/eph", watch=watcher) is not None, "ephemeral visible to others")
    other.stop()
    other.close()
    check(fired.wait(10), "NodeDeleted after the owner's session closed")
    check(zk.exists(root + "/eph") is None, "ephemeral gone")

    # Watches fire once and in update order.
    zk.create(root + "/w", b"0")
    order = []
    got_two = threading.Event()

    def data_watch(event):
        order.append(("data", event.type))
        if len(order) == 2:
            got_two.set()

    def child_watch(event):
        order.append(("child", event.type))
        if len(order) == 2:
            got_two.set()

    zk.get(root + "/w", watch=data_watch)
    zk.get_children(root + "/w", watch=child_watch)
    writer = connect(hosts)
    writer.set(root + "/w", b"1")
    writer.create(root + "/w/kid")
    writer.set(root + "/w", b"2")
    writer.create(root + "/w/kid2")
    check(got_two.wait(10), "both watches fired")
    time.sleep(0.2)
    check(order == [("data", EventType.CHANGED), ("child", EventType.CHILD)], "once each, in update order: %r" % order)
    writer.stop()
    writer.close()

    # Transactions: commit, then a rollback that changes nothing.
    tx = zk.transaction()
    tx.create(root + "/tx")
    tx.create(root + "/tx/a", b"a")
    tx.set_data(root + "/tx", b"x", version=0)
    tx.check(root + "/tx/a", 0)
    results = tx.commit()
    check(results[0] == root + "/tx" and results[1] == root + "/tx/a", "commit results: %r" % results)
    tx = zk.transaction()
    tx.create(root + "/tx/b")
    tx.delete(root + "/tx/a")
    tx.check(root + "/tx", 42)
    results = tx.commit()
    check(isinstance(results[0], RolledBackError) and isinstance(results[2], BadVersionError), "rollback results: %r" % results)
    check(zk.exists(root + "/tx/b") is None and zk.exists(root + "/tx/a") is not None, "nothing applied")

    # sync, then a read sees everything before it.
    zk.sync(root)
    version = zk.server_version()
    zk.delete(root, recursive=True)
    zk.stop()
    zk.close()
    return {"ok": True, "server_version": list(version)}


def run_threads(count, target):
    errors = []

    def wrap(i):
        try:
            target(i)
        except BaseException as error:  # noqa: BLE001 - reported to the caller
            errors.append(repr(error))

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT_S)
        check(not t.is_alive(), "thread did not finish within %d s" % TIMEOUT_S)
    check(not errors, "thread errors: %r" % errors)


def contend(hosts, base, threads, tag, rounds=5):
    """Lock, Semaphore, Counter and Queue contention: the part shared by threads and processes."""
    stats = {"lock": 0, "semaphore": 0, "counter": 0, "queued": 0, "consumed": []}
    lock = threading.Lock()

    def worker(i):
        zk = connect(hosts)
        try:
            for r in range(rounds):
                with zk.Lock(base + "/lock", "%s-%d" % (tag, i)):
                    zk.create(base + "/lock-holder", ephemeral=True)  # NodeExistsError if two hold it
                    time.sleep(0.002)
                    zk.delete(base + "/lock-holder")
                    with lock:
                        stats["lock"] += 1
                with zk.Semaphore(base + "/sem", "%s-%d" % (tag, i), max_leases=2):
                    marker = zk.create(base + "/sem-holders/h-", ephemeral=True, sequence=True, makepath=True)
                    holders = len(zk.get_children(base + "/sem-holders"))
                    check(holders <= 2, "%d semaphore holders with 2 leases" % holders)
                    time.sleep(0.002)
                    zk.delete(marker)
                    with lock:
                        stats["semaphore"] += 1
                counter = zk.Counter(base + "/counter")
                counter += 1
                with lock:
                    stats["counter"] += 1
                zk.Queue(base + "/queue").put(("%s-%d-%d" % (tag, i, r)).encode())
                with lock:
                    stats["queued"] += 1
            queue = zk.Queue(base + "/queue")
            for _ in range(rounds):
                item = queue.get()
                while item is None:
                    time.sleep(0.01)
                    item = queue.get()
                with lock:
                    stats["consumed"].append(item.decode())
        finally:
            zk.stop()
            zk.close()

    run_threads(threads, worker)
    return stats


def recipes(hosts, threads):
    base = "/kazoo-recipes-" + uuid.uuid4().hex[:8]
    zk = connect(hosts)
    zk.ensure_path(base)
    stats = contend(hosts, base, threads, "t")
    check(stats["lock"] == threads * 5 and stats["semaphore"] == threads * 5, "every round held the lock and a lease")
    check(zk.Counter(base + "/counter").value == threads * 5, "counter: %r" % zk.Counter(base + "/counter").value)
    check(sorted(stats["consumed"]) == sorted("t-%d-%d" % (i, r) for i in range(threads) for r in range(5)), "each queued item consumed once")

    # Election: each contender leads once, never two at a time.
    led = []

    def elect(i):
        client = connect(hosts)
        try:
            election = client.Election(base + "/election", "c%d" % i)

            def lead():
                client.create(base + "/leader", ephemeral=True)
                led.append(i)
                time.sleep(0.01)
                client.delete(base + "/leader")

            election.run(lead)
        finally:
            client.stop()
            client.close()

    run_threads(threads, elect)
    check(sorted(led) == list(range(threads)), "each contender led once: %r" % led)

    # Barrier: waiters block until it is removed.
    barrier = zk.Barrier(base + "/barrier")
    barrier.create()
    passed = []

    def wait_barrier(i):
        client = connect(hosts)
        try:
            check(client.Barrier(base + "/barrier").wait(20), "barrier released")
            passed.append(i)
        finally:
            client.stop()
            client.close()

    waiters = threading.Thread(target=run_threads, args=(threads, wait_barrier))
    waiters.start()
    time.sleep(0.5)
    check(passed == [], "nobody passes a standing barrier")
    barrier.remove()
    waiters.join(TIMEOUT_S)
    check(len(passed) == threads, "everyone passed the removed barrier")

    # DoubleBarrier: nobody leaves before everyone entered.
    entered = []
    left = []

    def double(i):
        client = connect(hosts)
        try:
            db = client.DoubleBarrier(base + "/double", threads)
            db.enter()
            entered.append(time.monotonic())
            time.sleep(0.05)
            db.leave()
            left.append(time.monotonic())
        finally:
            client.stop()
            client.close()

    run_threads(threads, double)
    check(len(entered) == threads and max(entered) <= min(left), "all entered before any left")

    # Party: everyone sees everyone.
    sizes = []
    joined = threading.Barrier(threads)

    def party(i):
        client = connect(hosts)
        try:
            p = client.Party(base + "/party", "member-%d" % i)
            p.join()
            joined.wait(20)
            deadline = time.time() + 10
            while len(p) < threads and time.time() < deadline:
                time.sleep(0.05)
            sizes.append(len(p))
            joined.wait(20)
            p.leave()
        finally:
            client.stop()
            client.close()

    run_threads(threads, party)
    check(sizes == [threads] * threads, "party sizes %r" % sizes)
    zk.delete(base, recursive=True)
    zk.stop()
    zk.close()
    return {"ok": True, "threads": threads, "lock": stats["lock"], "semaphore": stats["semaphore"], "counter": stats["counter"], "elected": len(led)}


def worker(hosts, ident, threads):
    base = "/kazoo-processes"
    zk = connect(hosts)
    zk.ensure_path(base)
    zk.stop()
    zk.close()
    stats = contend(hosts, base, threads, "p%s" % ident)
    return {"ok": True, "id": ident, "lock": stats["lock"], "semaphore": stats["semaphore"], "counter": stats["counter"], "queued": stats["queued"], "consumed": stats["consumed"]}


def main():
    mode, hosts = sys.argv[1], sys.argv[2]
    if mode == "basic":
        result = basic(hosts)
    elif mode == "recipes":
        result = recipes(hosts, int(sys.argv[3]))
    elif mode == "worker":
        result = worker(hosts, sys.argv[3], int(sys.argv[4]))
    elif mode == "counter":
        zk = connect(hosts)
        result = {"value": zk.Counter(sys.argv[3]).value}
        zk.stop()
    else:
        raise SystemExit("unknown mode " + mode)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
