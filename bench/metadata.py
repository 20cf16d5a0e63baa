#!/usr/bin/env python3
"""bench/metadata's helper: writes the seeding plan, measures over HTTP, and
prints the side-by-side table. Standard library only.

  metadata.py plan SCALE PLAN_FILE META_FILE   the tree to seed (deterministic)
  metadata.py measure BASE_URL TOKEN TOKEN_B META_FILE IDS_FILE OUT_JSON
  metadata.py table ENGINE=JSON...             the side-by-side table
"""
import hashlib
import http.client
import json
import multiprocessing
import os
import random
import sys
import time
import urllib.parse

# ---- names: realistic, in several scripts ----
WORDS = [
    # Latin (English, French, German, Spanish)
    "report", "invoice", "budget", "meeting", "notes", "draft", "final", "summary", "photo",
    "holiday", "contract", "presentation", "résumé", "Übersicht", "año", "café", "plan",
    "design", "backup", "scan", "Rechnung", "facture", "receipt", "timesheet", "Protokoll",
    # Cyrillic
    "отчёт", "договор", "счёт", "фото", "заметки", "бюджет", "встреча", "проект",
    "черновик", "презентация",
    # CJK
    "報告書", "会議", "写真", "予算", "契約書", "資料", "设计", "项目", "计划", "总结",
    # Arabic, Greek, Hebrew
    "تقرير", "فاتورة", "ميزانية", "اجتماع", "ملاحظات", "صور", "عقد", "مشروع",
    "έκθεση", "τιμολόγιο", "σημειώσεις", "דוח", "חשבונית", "פגישה",
]
EXTS = ["pdf", "docx", "xlsx", "jpg", "png", "txt", "md", "pptx", "zip", "mp4", "heic", "csv"]
RARE = "zanzibar"   # in a handful of names only
SOURCES = 8         # distinct small contents uploaded over HTTP


def plan(scale, plan_path, meta_path):
    rnd = random.Random(14)
    n_folders = max(200, int(100_000 * scale))
    n_files = max(2000, int(1_000_000 * scale))
    big = max(500, int(50_000 * scale))          # direct children of the big folders
    big = int(os.environ.get("BIG") or big)      # BIG=50000: full-size big folders at any SCALE
    work_items = max(1000, int(100_000 * scale))  # the subtree binned, restored, moved
    folders = []   # (idx, parent, name, depth)
    files = {}     # folder idx -> count
    seq = [0]

    def fname(i):
        w = rnd.sample(WORDS, 2)
        return f"{w[0]} {w[1]} {2015 + i % 10}-{1 + i % 12:02d} {i}.{EXTS[i % len(EXTS)]}"

    def folder(parent, depth, name=None):
        idx = len(folders)
        seq[0] += 1
        if name is None:
            w = rnd.sample(WORDS, 2)
            name = f"{w[0].capitalize()} {w[1]} {seq[0]}"
        folders.append((idx, parent, name, depth))
        return idx

    archive = folder(-1, 1, "Archive 2015–2024")
    projects = folder(-1, 1, "Projects")
    work = folder(-1, 1, "Work")
    target = folder(-1, 1, "Moved here")
    # The 20-deep chain.
    deep = -1
    for d in range(20):
        deep = folder(deep, d + 1, f"{WORDS[d * 3 % len(WORDS)]} level {d + 1}")
    # Work: the bin/restore/move subtree, about work_items items, 5 levels.
    work_folders = [work]
    n_work_folders = max(10, work_items // 100)
    for _ in range(n_work_folders - 1):
        p = rnd.choice(work_folders[-200:] if rnd.random() < 0.5 else work_folders)
        d = next(f[3] for f in (folders[p],))
        work_folders.append(folder(p, d + 1) if d < 6 else folder(work, 2))
    for i in range(work_items - n_work_folders):
        f = rnd.choice(work_folders)
        files[f] = files.get(f, 0) + 1
    # Projects: big direct children, a fifth folders, the rest files.
    proj_sub = [folder(projects, 2) for _ in range(big // 5)]
    files[projects] = big - len(proj_sub)
    files[archive] = big
    # The rest: a random tree (shallow-biased, up to 12 deep) and its files.
    general = proj_sub[:]
    while len(folders) < n_folders:
        p = rnd.choice(general) if general and rnd.random() < 0.8 else -1
        d = folders[p][3] if p >= 0 else 0
        general.append(folder(p if d < 12 else -1, d + 1 if d < 12 else 1))
    used = sum(files.values())
    for i in range(max(0, n_files - used)):
        f = rnd.choice(general)
        files[f] = files.get(f, 0) + 1
    with open(plan_path, "w", encoding="utf-8") as out:
        for idx, parent, name, _ in folders:
            out.write(f"D\t{idx}\t{parent}\t{name}\n")
        i = 0
        rare_left = 5
        for f in sorted(files):
            src = rnd.randrange(SOURCES)
            for _ in range(files[f]):
                name = fname(i)
                if rare_left and rnd.random() < 0.0005:
                    name = f"{RARE} expedition notes {i}.txt"
                    rare_left -= 1
                out.write(f"F\t{f}\t{src}\t{name}\n")
                i += 1
    meta = {"archive": archive, "projects": projects, "work": work, "target": target,
            "deep": deep, "big": big, "folders": len(folders), "files": i,
            "work_items": work_items}
    json.dump(meta, open(meta_path, "w"))
    print(f"plan: {len(folders)} folders, {i} files, big folders {big} children, "
          f"work subtree {work_items} items")


# ---- measuring ----
class Client:
    def __init__(self, base, token):
        u = urllib.parse.urlparse(base)
        self.host, self.port, self.prefix = u.hostname, u.port, u.path.rstrip("/")
        self.headers = {"Authorization": "Bearer " + token}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def call(self, method, path, body=None):
        h = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        self.conn.request(method, self.prefix + path, body=data, headers=h)
        r = self.conn.getresponse()
        payload = r.read()
        dt = (time.perf_counter() - t0) * 1000
        if r.status >= 300:
            raise SystemExit(f"bench: {method} {path}: {r.status} {payload[:200]!r}")
        return dt, payload


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def cpu_ms():
    """CPU time (ms) of the server's process tree: the pids in SERVER_PIDS
    (netradrive, and PostgreSQL's postmaster, whose backends do the SQL work)
    and their descendants, from every thread's schedstat (nanoseconds; the
    clock ticks of /proc/PID/stat are 10 ms), plus the roots' reaped
    children (cutime + cstime, in ticks: a PostgreSQL tree's own backend
    exits with its connection). A busy machine inflates wall times, not this."""
    roots = {int(p) for p in os.environ.get("SERVER_PIDS", "").split() if p}
    if not roots:
        return float("nan")
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                f = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            parent[int(d)] = int(f[f.rindex(")") + 2:].split()[1])
    total = 0
    tick = 1e9 / os.sysconf("SC_CLK_TCK")
    for pid in roots:
        try:
            f = open(f"/proc/{pid}/stat").read()
            total += sum(int(x) for x in f[f.rindex(")") + 2:].split()[13:15]) * tick
        except OSError:
            pass
    for pid in parent:
        p, seen = pid, 0
        while p in parent and p not in roots and seen < 64:
            p, seen = parent[p], seen + 1
        if p not in roots:
            continue
        try:
            for t in os.listdir(f"/proc/{pid}/task"):
                total += int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
        except OSError:
            pass
    return total / 1e6


def prober(base, token, folder, stop, out):
    """Another user's cheap write (a new folder: a write transaction, which
    waits for the write lock on both engines), in a loop, while the big
    change runs."""
    c = Client(base, token)
    lat = []
    i = 0
    while not stop.is_set():
        name = f"probe {os.getpid()} {i}"
        lat.append(c.call("POST", "/folders", {"name": name, "parent_id": folder})[0])
        i += 1
        time.sleep(0.002)
    out.put(lat)


def tree_runs(c, res, run):
    """The tree: its bytes and hash (an A/B must show the same), then its
    wall time, and beside it what the wall time mixes in on a shared
    2-core machine: the server's CPU (its PostgreSQL backends' too) and this
    client's own CPU reading and de-chunking the reply (tens of MB)."""
    t0 = time.perf_counter()
    body = c.call("GET", "/folders/tree")[1]
    res["tree"] = {"p50": (time.perf_counter() - t0) * 1000, "bytes": len(body),
                   "sha256": hashlib.sha256(body).hexdigest()[:16]}
    print(f"  tree bytes {len(body)} sha256 {res['tree']['sha256']}", flush=True)
    lat, server, client = [], [], []
    for i in range(int(os.environ.get("TREE_RUNS", "5"))):
        s0, c0 = cpu_ms(), time.process_time()
        lat.append(c.call("GET", "/folders/tree")[0])
        client.append((time.process_time() - c0) * 1000)
        server.append(cpu_ms() - s0)
    for name, v in (("tree", lat), ("tree: server CPU", server), ("tree: client CPU", client)):
        res[name] = {"p50": pct(v, 50), "p99": pct(v, 99), "n": len(v)}
        print(f"  {name:<34} p50 {res[name]['p50']:8.2f} ms  p99 {res[name]['p99']:8.2f} ms",
              flush=True)
    print(f"  load average {open('/proc/loadavg').read().split()[0]}", flush=True)


def measure(base, token, token_b, meta_path, ids_path, out_path):
    meta = json.load(open(meta_path))
    ids = {}
    for line in open(ids_path):
        k, v = line.split()
        ids[int(k)] = v
    c = Client(base, token)
    res = {}

    def run(name, n, method, path_fn, body_fn=None):
        lat = []
        c.call(method, path_fn(0), body_fn(0) if body_fn else None)  # warm
        for i in range(n):
            lat.append(c.call(method, path_fn(i), body_fn(i) if body_fn else None)[0])
        res[name] = {"p50": pct(lat, 50), "p99": pct(lat, 99), "n": n}
        print(f"  {name:<34} p50 {res[name]['p50']:8.2f} ms  p99 {res[name]['p99']:8.2f} ms",
              flush=True)

    if os.environ.get("ONLY") == "tree":  # ONLY=tree: the tree alone (a quick A/B)
        tree_runs(c, res, run)
        json.dump(res, open(out_path, "w"), indent=1)
        return
    archive, projects, work = ids[meta["archive"]], ids[meta["projects"]], ids[meta["work"]]
    if os.environ.get("ONLY") != "bin":  # ONLY=bin: only the big changes below
        reads(c, res, run, meta, ids, archive, projects)
    if os.environ.get("ONLY") != "list":
        big_changes(base, token, token_b, c, res, meta, ids, work)
    json.dump(res, open(out_path, "w"), indent=1)


def reads(c, res, run, meta, ids, archive, projects):
    deep_off = int(meta["big"] * 0.8)
    n = 100
    if os.environ.get("ONLY") == "list":  # ONLY=list: first pages of the big folders (an A/B)
        for sort in ("name", "size", "created_at", "updated_at"):
            for order in ("asc", "desc"):
                run(f"files first page {sort} {order}", n, "GET",
                    lambda i, s=sort, o=order: f"/files?folder_id={archive}&sort={s}&order={o}&limit=100")
        run("folders first page name", n, "GET", lambda i: f"/folders?parent_id={projects}&limit=100")
        return
    for sort in ("name", "size", "created_at", "updated_at"):
        for order in ("asc", "desc"):
            run(f"files first page {sort} {order}", n, "GET",
                lambda i, s=sort, o=order: f"/files?folder_id={archive}&sort={s}&order={o}&limit=100")
        run(f"files offset {deep_off} {sort}", n // 2, "GET",
            lambda i, s=sort: f"/files?folder_id={archive}&sort={s}&limit=100&offset={deep_off}")
    run("folders first page name", n, "GET", lambda i: f"/folders?parent_id={projects}&limit=100")
    folder_off = max(0, meta['big'] // 5 - 200)   # a full page before the last subfolders
    run(f"folders offset {folder_off} name", n // 2, "GET",
        lambda i: f"/folders?parent_id={projects}&limit=100&offset={folder_off}")
    q = urllib.parse.quote
    for label, term in (("common short 're'", "re"), ("common 'report'", "report"),
                        ("common CJK '報告'", "報告"), ("cyrillic 'отчёт'", "отчёт"),
                        ("rare 'zanzibar'", "zanzibar"),
                        ("rare long", "zanzibar expedition notes"),
                        ("none long", "no such file name anywhere at all")):
        run(f"search {label}", n // 2, "GET", lambda i, t=term: f"/files/search?q={q(t)}&limit=50")
    deep = ids[meta["deep"]]
    run("breadcrumb 20 deep", n, "GET", lambda i: f"/folders/{deep}/path")
    run("storage usage", n, "GET", lambda i: "/users/me/storage")
    fid = json.loads(c.call("GET", f"/files?folder_id={archive}&limit=1")[1])[0]["id"]
    run("star file", n, "PUT", lambda i: f"/files/{fid}/{'unstar' if i % 2 else 'star'}")
    run("rename file", n, "PUT", lambda i: f"/files/{fid}/rename",
        lambda i: {"new_name": f"renamed {i}.txt"})
    sub = ids[meta["deep"]]
    run("rename folder", n, "PUT", lambda i: f"/folders/{sub}/rename",
        lambda i: {"new_name": f"level twenty {i}"})
    tree_runs(c, res, run)


def big_changes(base, token, token_b, c, res, meta, ids, work):
    """The big changes, each with another user's requests running beside it."""
    target = ids[meta["target"]]
    b_folder = json.loads(Client(base, token_b).call("POST", "/folders", {"name": f"Mine {time.time()}"})[1])["id"]
    steps = [("bin Work", "PUT", f"/folders/{work}/bin", None),
             ("restore Work", "PUT", f"/folders/{work}/restore", None),
             ("move Work", "PUT", f"/folders/{work}/move", {"new_parent_id": target}),
             ("move Work back", "PUT", f"/folders/{work}/move", {"new_parent_id": None}),
             ("bin Work again", "PUT", f"/folders/{work}/bin", None),
             # A folder named Work now exists in the root: the restore renames.
             ("create Work (taken name)", "POST", "/folders",
              lambda: {"name": json.loads(c.call("GET", f"/folders/{work}")[1])["name"]}),
             ("restore Work (name taken)", "PUT", f"/folders/{work}/restore", None)]
    # REPEAT=n: n more rounds of bin and restore after those (their spread).
    for i in range(int(os.environ.get("REPEAT", "0"))):
        steps += [(f"bin Work #{i + 2}", "PUT", f"/folders/{work}/bin", None),
                  (f"restore Work #{i + 2}", "PUT", f"/folders/{work}/restore", None)]
    for name, method, path, body in steps:
        stop, q_ = multiprocessing.Event(), multiprocessing.Queue()
        p = multiprocessing.Process(target=prober, args=(base, token_b, b_folder, stop, q_))
        p.start()
        time.sleep(0.3)
        cpu0 = cpu_ms()
        dt = c.call(method, path, body() if callable(body) else body)[0]
        cpu = cpu_ms() - cpu0
        time.sleep(0.1)
        stop.set()
        lat = q_.get(timeout=600)
        p.join()
        res[name] = {"ms": dt, "other_p99": pct(lat, 99), "other_max": max(lat),
                     "other_n": len(lat), "server_cpu_ms": cpu,
                     "load": os.getloadavg()[0]}
        print(f"  {name:<34} {dt:8.1f} ms  server CPU {cpu:7.0f} ms  other user's write "
              f"p50 {pct(lat, 50):6.2f} p99 {pct(lat, 99):6.2f} ms, max {max(lat):6.2f} ms "
              f"({len(lat)} requests, load {os.getloadavg()[0]:.1f})", flush=True)
    # SQLite's checkpoints: by its thread, or by a commit (the thread behind).
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("GET", "/metrics")
    lines = [l for l in conn.getresponse().read().decode().splitlines()
             if l.startswith("netradrive_db_checkpoints_total")]
    print("  checkpoints: " + (", ".join(lines) or "none"), flush=True)


def table(args):
    cols = [(a.split("=", 1)[0], json.load(open(a.split("=", 1)[1]))) for a in args]
    names = list(cols[0][1].keys())
    head = f"{'measure (ms)':<36}" + "".join(f"{e + ' p50':>14}{e + ' p99':>14}" for e, _ in cols)
    print(head)
    for name in names:
        row = f"{name:<36}"
        for _, r in cols:
            v = r.get(name, {})
            if "ms" in v:
                row += f"{v['ms']:>14.1f}{'(wait ' + format(v['other_max'], '.0f') + ')':>14}"
            else:
                row += f"{v.get('p50', float('nan')):>14.2f}{v.get('p99', float('nan')):>14.2f}"
        print(row)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "plan":
        plan(float(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif cmd == "measure":
        measure(*sys.argv[2:8])
    elif cmd == "table":
        table(sys.argv[2:])
