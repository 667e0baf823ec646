#!/usr/bin/env python3
"""Helpers for bench/run (standard library only).

  tools.py to-csv JSONL CSV              JSON Lines -> CSV rows of telcdr's cdr table (for the sqlite3 .import peer)
  tools.py params DB OUTDIR APP UNTIL DAYS PORT_T PORT_D SEED
                                         request bodies (telcdr) and URLs (Datasette) per query, same parameters;
                                         DB is a SQLite file or a postgres:// URL (read with psql)
  tools.py metadata OUT                  Datasette metadata with the canned queries
  tools.py compare A.jsonl B.jsonl       compare --check outputs (total, rows) of telcdr and Datasette
  tools.py report OUTDIR                 the side-by-side table, target checks, results.json
  tools.py report-postgres OUTDIR        the same for bench/postgres (psql \\copy and pgbench as peers)
  tools.py floor-scripts OUTDIR DEEP_PAGE MID_PAGE
                                         per query: its parameter sets (floor_Q.csv, from q_Q.urls) and a
                                         pgbench script running only its page's SQL (floor_Q.sql)
  tools.py pgbench-latency PREFIX        p50 and p99 (ms) of the transactions in pgbench's -l logs PREFIX.*
"""

import csv
import json
import os
import random
import sqlite3
import sys
import time

# ---------------------------------------------------------------- queries
#
# Each query: how its windows are drawn, page size, page number, phone filter.
# "day": a 1-day window (or DEEP_DAYS) drawn per request among the days of data
# (as baselines.md's Q1/Q2/Q4 do); "all": the last 89 days (the API allows < 90).

QUERIES = [
    # name, description, window, page_size, page_number, phones
    ("a", "page 0 of 10, 1-day window", "day", 10, 0, False),
    ("b", "page 0 of 100, 1-day window", "day", 100, 0, False),
    ("c", "two phones, 89 days, page of 100", "all", 100, 0, True),
    ("d", "deep page (offset>=10000) of 10, day window", "deep", 10, None, False),
    ("a89", "page 0 of 10, 89-day window (extra)", "all", 10, 0, False),
    ("b89", "page 0 of 100, 89-day window (extra)", "all", 100, 0, False),
    ("d89", "middle page (offset N/2) of 10, 89 days (extra)", "all", 10, "mid", False),
]

ALL_SPAN = 89 * 86400


def normalize_phone(s):
    """Same rule as telcdr_model::normalize_phone: digits, leading "00"s dropped."""
    digits = "".join(ch for ch in s if ch.isdigit())
    rest = digits
    while rest.startswith("00"):
        rest = rest[2:]
    return rest


def mixed_formats(norm, k):
    """A caller-side spelling of a normalised number (telcdr normalises it back)."""
    if len(norm) < 7:
        return norm
    if k % 3 == 0:
        return "+" + norm
    if k % 3 == 1:
        return "00" + norm
    return "+%s %s-%s-%s" % (norm[:2], norm[2:5], norm[5:9], norm[9:])


def canned_sql(where, limit, offset):
    # The total is an uncorrelated scalar subquery, evaluated once per statement
    # (baselines.md §3); never count(*) OVER ().
    return (
        "SELECT (SELECT count(*) FROM cdr WHERE {w}) AS total, session_id, time, "
        "CAST(body AS TEXT) AS body FROM cdr WHERE {w} "
        "ORDER BY time DESC, session_id ASC LIMIT {l} OFFSET {o}"
    ).format(w=where, l=limit, o=offset)


W_RANGE = "sdk_app_id = :app AND time BETWEEN :t0 AND :t1"
W_PHONE = W_RANGE + " AND (caller IN (:p1, :p2) OR callee IN (:p1, :p2))"


def page_of(page, deep_page, mid_page):
    if page is None:
        return deep_page
    if page == "mid":
        return mid_page
    return page


def cmd_metadata(out, deep_page, mid_page):
    deep_page, mid_page = int(deep_page), int(mid_page)
    queries = {}
    for name, _desc, _win, size, page, phones in QUERIES:
        page = page_of(page, deep_page, mid_page)
        queries["q_" + name] = {"sql": canned_sql(W_PHONE if phones else W_RANGE, size, page * size)}
    meta = {"databases": {"telcdr": {"queries": queries}}}
    with open(out, "w") as f:
        json.dump(meta, f, indent=1)


# ---------------------------------------------------------------- to-csv


def cmd_to_csv(src, dst):
    n = 0
    with open(src, encoding="utf-8") as f, open(dst, "w", newline="", encoding="utf-8") as g:
        w = csv.writer(g)
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            r = json.loads(line)
            n += 1
            seat = r.get("SeatUser") or {}
            w.writerow([
                n,
                r["SdkAppId"],
                r["SessionId"],
                r["Time"],
                normalize_phone(r.get("Caller", "")),
                normalize_phone(r.get("Callee", "")),
                r.get("Direction", 0),
                r.get("EndStatus", 0),
                seat.get("Mail", "") or "",
                r.get("SkillGroupId", 0) or 0,
                1,
                line,
            ])
    print(n)


# ---------------------------------------------------------------- params


class Db:
    """The few read queries params needs, on SQLite or (through psql) PostgreSQL."""

    def __init__(self, url):
        self.pg = url.startswith("postgres://") or url.startswith("postgresql://")
        self.url = url
        if not self.pg:
            self.con = sqlite3.connect("file:%s?mode=ro" % url, uri=True)

    def rows(self, sql, args, kinds):
        """Rows of `sql`; `kinds` converts each column of psql's text output."""
        if not self.pg:
            return self.con.execute(sql, args).fetchall()
        # Our own integers and digit strings only: safe to inline.
        parts = sql.split("?")
        text = parts[0] + "".join(
            (str(a) if isinstance(a, int) else "'%s'" % a) + rest for a, rest in zip(args, parts[1:]))
        import subprocess
        out = subprocess.run(["psql", self.url, "-X", "-A", "-t", "-F", "\t", "-c", text],
                             check=True, capture_output=True, text=True).stdout
        return [tuple(k(c) for k, c in zip(kinds, line.split("\t"))) for line in out.splitlines() if line]

    def sample_clause(self):
        # About one record in 997, chosen the same way every run.
        return "hashtext(session_id) % 997 = 3" if self.pg else "id % 997 = 3"

    def close(self):
        if not self.pg:
            self.con.close()


def cmd_params(db, outdir, app, until, days, port_t, port_d, seed, deep_page, deep_days, n_params, mid_page):
    app, until, days, deep_page, deep_days, n_params, mid_page = (
        int(app), int(until), int(days), int(deep_page), int(deep_days), int(n_params), int(mid_page))
    rnd = random.Random(int(seed))
    con = Db(db)
    now = int(time.time())
    base = until - days * 86400
    # Rows per day of data (day k = [base + k*86400, base + (k+1)*86400)).
    per_day = dict(con.rows(
        "SELECT (time - ?) / 86400 AS d, count(*) FROM cdr WHERE sdk_app_id = ? AND time >= ? AND time < ? GROUP BY d",
        (base, app, base, until), (int, int)))
    # A day window must start after now - 180 days and be complete in the data.
    oldest = now - 179 * 86400
    day_windows = [(base + k * 86400, base + k * 86400 + 86399) for k in range(days)
                   if base + k * 86400 >= oldest and per_day.get(k, 0) >= 100]
    if not day_windows:
        sys.exit("no usable day windows (is the data older than 180 days? regenerate it)")
    deep_offset = deep_page * 10
    # Deep windows: deep_days consecutive days holding more than offset + 10 rows.
    # Widened (more days per window) until some windows hold the whole page.
    deep_windows = []
    while True:
        for k in range(0, days - deep_days + 1):
            t0 = base + k * 86400
            cnt = sum(per_day.get(k + j, 0) for j in range(deep_days))
            if t0 >= oldest and cnt >= deep_offset + 10:
                deep_windows.append((t0, t0 + deep_days * 86400 - 1))
        if deep_windows or deep_days >= min(days, 89):
            break
        deep_days += 1
    if not deep_windows:
        sys.exit("no window of up to %d days holds %d rows; lower DEEP_PAGE" % (deep_days, deep_offset + 10))
    all_window = (now - ALL_SPAN + 60, now)

    # Phones: customer numbers, not the contact center's own lines. Numbers
    # on more than 2% of the records (hotlines, outbound caller id) and short
    # extensions are left out; p1 is one of the 20 most frequent customer
    # numbers, p2 a number taken from a record at random.
    n_rows = sum(per_day.values())
    counts = con.rows(
        "WITH p AS (SELECT caller AS n FROM cdr WHERE sdk_app_id = ? UNION ALL "
        "SELECT callee FROM cdr WHERE sdk_app_id = ?) "
        "SELECT n, count(*) AS k FROM p WHERE length(n) >= 7 GROUP BY n ORDER BY k DESC LIMIT 200",
        (app, app), (str, int))
    excluded = {n for n, k in counts if k > 0.02 * n_rows}
    frequent = [n for n, k in counts if n not in excluded][:20]
    others = []
    for caller, callee in con.rows(
            "SELECT caller, callee FROM cdr WHERE sdk_app_id = ? AND %s LIMIT 2000" % con.sample_clause(), (app,),
            (str, str)):
        for n in (caller, callee):
            if len(n) >= 7 and n not in excluded:
                others.append(n)
    if not frequent or not others:
        sys.exit("no phone numbers found in the data")
    con.close()

    info = {"per_day_min": min(per_day.values()), "per_day_max": max(per_day.values()),
            "days_with_data": len(per_day), "deep_offset": deep_offset, "deep_days": deep_days,
            "deep_windows": len(deep_windows), "day_windows": len(day_windows),
            "all_window": list(all_window), "phones_excluded": sorted(excluded),
            "phones_frequent": frequent[:3], "phones_other_sample": others[:3], "mid_page": mid_page}

    for name, _desc, win, size, page, phones in QUERIES:
        page = page_of(page, deep_page, mid_page)
        bodies, urls = [], []
        for i in range(n_params):
            if win == "day":
                t0, t1 = rnd.choice(day_windows)
            elif win == "deep":
                t0, t1 = rnd.choice(deep_windows)
            else:
                t0, t1 = all_window
            body = {"SdkAppId": app, "StartTimeStamp": t0, "EndTimeStamp": t1,
                    "PageSize": size, "PageNumber": page}
            q = "_shape=array&app=%d&t0=%d&t1=%d" % (app, t0, t1)
            if phones:
                p1 = frequent[i % len(frequent)]
                p2 = rnd.choice(others)
                body["Phones"] = [mixed_formats(p1, i), mixed_formats(p2, i + 1)]
                q += "&p1=%s&p2=%s" % (p1, p2)
            bodies.append(json.dumps(body, separators=(",", ":")))
            urls.append("http://127.0.0.1:%s/telcdr/q_%s.json?%s" % (port_d, name, q))
        with open(os.path.join(outdir, "q_%s.bodies" % name), "w") as f:
            f.write("\n".join(bodies) + "\n")
        with open(os.path.join(outdir, "q_%s.urls" % name), "w") as f:
            f.write("\n".join(urls) + "\n")
    print(json.dumps(info))


# ---------------------------------------------------------------- compare


def cmd_compare(a, b):
    def load(p):
        with open(p) as f:
            return [json.loads(l) for l in f if l.strip()]
    ra, rb = load(a), load(b)
    bad = []
    for x, y in zip(ra, rb):
        if not x.get("ok") or not y.get("ok"):
            bad.append("request %d: %s | %s" % (x["i"], x.get("error", "ok"), y.get("error", "ok")))
        elif x["rows"] != y["rows"] or (x["total"] != y["total"] and not (y["rows"] == 0 and y["total"] is None)):
            # (Datasette's rows carry the total, so an empty page has none to compare.)
            bad.append("request %d: telcdr total %s rows %s, datasette total %s rows %s"
                       % (x["i"], x["total"], x["rows"], y["total"], y["rows"]))
    totals = [x.get("total") for x in ra[:3]]
    if len(ra) != len(rb) or not ra:
        bad.append("answer counts differ: %d vs %d" % (len(ra), len(rb)))
    print(json.dumps({"checked": min(len(ra), len(rb)), "mismatches": len(bad),
                      "first": bad[:3], "sample_totals": totals}))


# ---------------------------------------------------------------- report


def fmt_ms(us):
    return "%.2f" % (us / 1000.0) if us is not None else "-"


def load_run(outdir):
    """state.json and the load generator's lines of runs.jsonl, by label."""
    with open(os.path.join(outdir, "state.json")) as f:
        st = json.load(f)
    runs = {}
    with open(os.path.join(outdir, "runs.jsonl")) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                runs[r["label"]] = r
    return st, runs


def write_report(outdir, lines, result):
    """Prints the report and writes report.txt and results.json."""
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(result, f, indent=1)


def cmd_report(outdir):
    st, runs = load_run(outdir)
    rows = []
    descs = {q[0]: q[1] for q in QUERIES}
    for name, *_ in QUERIES:
        t = runs.get("telcdr " + name)
        d = runs.get("datasette " + name)
        if not t and not d:
            continue
        ratio = (t["rps"] / d["rps"]) if t and d and d["rps"] > 0 else None
        rows.append((name, t, d, ratio))

    imp = st.get("import", {})
    lines = []
    P = lines.append
    P("")
    P("telcdr benchmark — %s" % st.get("when", ""))
    P("machine: %s; %s CPUs; %s" % (st.get("cpu", "?"), st.get("nproc", "?"), st.get("kernel", "")))
    P("data: %s records, 1 SdkAppId, %s days, seed %s; JSONL %.0f MB; telcdr.db %.0f MB; per day %s..%s rows"
      % (st.get("count"), st.get("days"), st.get("seed"), st.get("jsonl_mb", 0), st.get("db_mb", 0),
         st.get("params", {}).get("per_day_min"), st.get("params", {}).get("per_day_max")))
    P("load: concurrency %s, %s s measured after %s s warm-up, pinning: %s; Datasette %s (mutable mode, 3 SQL threads, sql_time_limit_ms %s)"
      % (st.get("concurrency"), st.get("duration"), st.get("warmup"), st.get("pinning"),
         st.get("datasette_version"), st.get("sql_time_limit_ms")))
    P("")
    P("Import (%s rows; page cache %s)" % (st.get("count"), imp.get("page_cache", "as left by earlier steps")))
    P("                                                     seconds    records/s")
    if imp.get("telcdr_s"):
        P("  telcdr import (JSONL, count buckets)            %8.1f   %10.0f   (CPU %.1f s)" % (imp["telcdr_s"], imp["telcdr_rps"], imp.get("telcdr_cpu_s", 0)))
    if imp.get("sqlite_import_s"):
        P("  sqlite3 .import CSV into the same table         %8.1f" % imp["sqlite_import_s"])
        P("  + CREATE INDEX x3 (telcdr's indexes)            %8.1f" % imp["sqlite_index_s"])
        P("  = sqlite3 peer total                            %8.1f   %10.0f" % (imp["sqlite_total_s"], imp["sqlite_rps"]))
        P("  ratio telcdr / sqlite3                                     %8.2fx" % (imp["telcdr_rps"] / imp["sqlite_rps"]))
    if len(imp.get("telcdr_rounds_s", [])) > 1:
        P("  best of %d rounds, seconds: telcdr %s; sqlite3 %s" % (
            len(imp["telcdr_rounds_s"]), imp["telcdr_rounds_s"], imp.get("sqlite_rounds_s", [])))
    P("")
    hdr = "%-5s %-44s | %9s %8s %8s | %9s %8s %8s | %7s" % (
        "query", "", "telcdr/s", "p50 ms", "p99 ms", "dsette/s", "p50 ms", "p99 ms", "ratio")
    P(hdr)
    P("-" * len(hdr))
    for name, t, d, ratio in rows:
        P("%-5s %-44s | %9s %8s %8s | %9s %8s %8s | %7s" % (
            name, descs[name][:44],
            "%.0f" % t["rps"] if t else "-", fmt_ms(t["p50_us"]) if t else "-", fmt_ms(t["p99_us"]) if t else "-",
            "%.0f" % d["rps"] if d else "-", fmt_ms(d["p50_us"]) if d else "-", fmt_ms(d["p99_us"]) if d else "-",
            "%.1fx" % ratio if ratio else "-"))
    P("")
    notes = []
    for name, t, d, _ in rows:
        for side, r in (("telcdr", t), ("datasette", d)):
            if r and r.get("errors"):
                notes.append("  %s %s: %d errors (first: %s)" % (side, name, r["errors"], r.get("first_error")))
    for key, c in sorted(st.get("run_cpu", {}).items()):
        if c.get("other_s", 0) > 0.1 * c.get("wall_s", 1):
            notes.append("  busy machine during %s: other processes used %.1f CPU-s in %.0f s (server %.1f, generator %.1f)"
                         % (key.replace("_", " "), c["other_s"], c["wall_s"], c["server_s"], c["generator_s"]))
    for key in ("telcdr_other_cpu_s", "sqlite_other_cpu_s"):
        if imp.get(key, 0) > 2:
            notes.append("  busy machine during the %s import: other processes used %.1f CPU-s"
                         % (key.split("_")[0], imp[key]))
    chk = st.get("checks", {})
    for name, c in chk.items():
        if c.get("mismatches"):
            notes.append("  answers differ on %s: %s" % (name, c.get("first")))
    if notes:
        P("problems:")
        lines.extend(notes)
        P("")
    # Targets.
    targets = []

    def target(label, ok, detail):
        targets.append({"target": label, "pass": ok, "detail": detail})

    if imp.get("telcdr_rps"):
        target("import >= 60,000 records/s", imp["telcdr_rps"] >= 60000, "%.0f records/s" % imp["telcdr_rps"])
        if imp.get("sqlite_rps"):
            target("import >= 2x sqlite3 .import", imp["telcdr_rps"] >= 2 * imp["sqlite_rps"],
                   "%.2fx" % (imp["telcdr_rps"] / imp["sqlite_rps"]))
    get = {name: (t, d) for name, t, d, _ in rows}
    if "a" in get and get["a"][0]:
        t, d = get["a"]
        target("(a) >= 5,000 requests/s", t["rps"] >= 5000 and not t["errors"], "%.0f/s" % t["rps"])
        if d:
            target("(a) >= 10x Datasette", t["rps"] >= 10 * d["rps"], "%.1fx" % (t["rps"] / max(d["rps"], 1e-9)))
    if "b" in get and get["b"][0]:
        t, d = get["b"]
        target("(b) >= 1,000 requests/s", t["rps"] >= 1000 and not t["errors"], "%.0f/s" % t["rps"])
        if d:
            target("(b) >= 10x Datasette", t["rps"] >= 10 * d["rps"], "%.1fx" % (t["rps"] / max(d["rps"], 1e-9)))
    if "a" in get and "d" in get and get["a"][0] and get["d"][0]:
        pa, pd = get["a"][0]["p99_us"], get["d"][0]["p99_us"]
        target("p99 (d) <= 2x p99 (a)", pd <= 2 * pa, "%.2f ms vs %.2f ms (%.2fx)" % (pd / 1000, pa / 1000, pd / max(pa, 1)))
    n_err = sum((r or {}).get("errors", 0) for _, t, d, _ in rows for r in (t, d))
    n_ok = sum((r or {}).get("ok", 0) for _, t, d, _ in rows for r in (t, d))
    target("no failed requests", n_err == 0, "%d verified answers, %d failures" % (n_ok, n_err))
    if chk:
        target("telcdr and Datasette agree on totals and rows", all(not c.get("mismatches") for c in chk.values()),
               ", ".join("%s:%d/%d" % (k, c["checked"] - c["mismatches"], c["checked"]) for k, c in chk.items()))
    P("targets:")
    for t in targets:
        P("  %-4s %-46s %s" % ("PASS" if t["pass"] else "MISS", t["target"], t["detail"]))
    P("")
    result = dict(st)
    result["queries"] = [{"query": name, "description": descs[name], "telcdr": t, "datasette": d,
                          "ratio": ratio} for name, t, d, ratio in rows]
    result["targets"] = targets
    write_report(outdir, lines, result)


def cmd_report_postgres(outdir):
    """The PostgreSQL run: import against psql \\copy, DescribeTelCdr against pgbench."""
    st, labelled = load_run(outdir)
    runs = {label.split(" ", 1)[1]: r for label, r in labelled.items()}
    lines = []
    P = lines.append
    P("telcdr on PostgreSQL %s, %s records, %s, %s cores, %s GiB" % (
        st.get("postgres"), st["count"], st.get("cpu"), st.get("nproc"), st.get("mem_gib")))
    P("cluster: %s; pinning: %s; concurrency %s, %s s per run; telcdr's read connections: %s" % (
        st.get("pg_settings"), st.get("pinning"), st["concurrency"], st["duration"],
        st.get("telcdr_readers", st["concurrency"])))
    P("")
    imp = st.get("import", {})
    P("import                                           seconds    records/s")
    P("  telcdr import (JSON Lines, COPY, buckets)    %9.1f   %10.0f" % (imp["telcdr_s"], imp["telcdr_rps"]))
    if "copy_rps" in imp:
        P("  psql \\copy (binary rows, same schema)        %9.1f   %10.0f" % (imp["copy_s"], imp["copy_rps"]))
        P("  ratio telcdr / psql \\copy                                %8.2fx" % (imp["telcdr_rps"] / imp["copy_rps"]))
    P("")
    descs = {q[0]: q[1] for q in QUERIES}
    P("%-5s %-48s %9s %9s %9s %7s" % ("query", "", "req/s", "p50 ms", "p99 ms", "errors"))
    for name, *_ in QUERIES:
        r = runs.get(name)
        if r:
            P("%-5s %-48s %9.0f %9s %9s %7d" % (name, descs[name], r["rps"], fmt_ms(r.get("p50_us")),
                                               fmt_ms(r.get("p99_us")), r.get("errors", 0)))
    pg = st.get("pgbench", {})
    P("")
    P("pgbench, the straightforward SQL (count(*) + ORDER BY ... LIMIT 100), same concurrency:")
    for name, r in sorted(pg.items()):
        P("  %-4s %9.0f transactions/s, %.2f ms average" % (name, r["tps"], r["latency_avg_ms"]))
    floor = st.get("floor", {})
    if floor:
        P("")
        P("pgbench, each query's page alone (no total), telcdr's parameter sets, same concurrency:")
        P("%-5s %-48s %9s %9s %9s" % ("query", "", "tps", "p50 ms", "p99 ms"))
        for name, *_ in QUERIES:
            r = floor.get(name)
            if r:
                P("%-5s %-48s %9.0f %9.2f %9.2f" % (name, descs[name], r["tps"], r["latency"]["p50_ms"],
                                                   r["latency"]["p99_ms"]))
    P("")
    targets = []

    def target(label, ok, detail):
        targets.append({"target": label, "pass": ok, "detail": detail})

    if "copy_rps" in imp:
        target("import >= 80% of psql \\copy", imp["telcdr_rps"] >= 0.8 * imp["copy_rps"],
               "%.0f%%" % (100 * imp["telcdr_rps"] / imp["copy_rps"]))
    for name in ("b", "b89"):
        if name in runs and name in pg:
            x = runs[name]["rps"] / max(pg[name]["tps"], 1e-9)
            target("(%s) >= 2x pgbench" % name, x >= 2, "%.0f/s vs %.0f/s (%.1fx)" % (
                runs[name]["rps"], pg[name]["tps"], x))
    if st["count"] >= 10_000_000:
        worst = max((r.get("p99_us") or 0 for r in runs.values()), default=0)
        detail = "worst p99 %.2f ms" % (worst / 1000)
        if floor:
            over = [n for n, *_ in QUERIES if n in floor and floor[n]["latency"]["p99_ms"] >= 20]
            detail += "; the page alone in pgbench has p99 >= 20 ms for: %s" % (", ".join(over) or "none")
        target("p99 < 20 ms for every query at 10M", worst < 20_000, detail)
    n_err = sum(r.get("errors", 0) for r in runs.values())
    target("no failed requests", n_err == 0, "%d failures" % n_err)
    P("targets:")
    for t in targets:
        P("  %-4s %-40s %s" % ("PASS" if t["pass"] else "MISS", t["target"], t["detail"]))
    result = dict(st)
    result["queries"] = runs
    result["targets"] = targets
    write_report(outdir, lines, result)


# ---------------------------------------------------------------- the page-only floor


def cmd_floor_scripts(outdir, deep_page, mid_page):
    """For each query, the SQL that fetches only its page (no total), with the
    same parameter sets the telcdr runs drew: the database's own floor for the
    page. pgbench cannot read parameters from a file, so each transaction first
    picks one of them from a table (floor_params_Q) with \\gset."""
    deep_page, mid_page = int(deep_page), int(mid_page)
    for name, _desc, _win, size, page, phones in QUERIES:
        page = page_of(page, deep_page, mid_page)
        urls = os.path.join(outdir, "q_%s.urls" % name)
        if not os.path.exists(urls):
            continue
        n = 0
        with open(urls) as src, open(os.path.join(outdir, "floor_%s.csv" % name), "w", newline="") as dst:
            out = csv.writer(dst)
            for line in src:
                if not line.strip():
                    continue
                q = dict(kv.split("=", 1) for kv in line.strip().split("?", 1)[1].split("&"))
                n += 1
                out.writerow([n, q["app"], q["t0"], q["t1"], q.get("p1", ""), q.get("p2", "")])
        where = "sdk_app_id = :app AND time BETWEEN :t0 AND :t1"
        if phones:
            where += " AND (caller IN (:p1, :p2) OR callee IN (:p1, :p2))"
        with open(os.path.join(outdir, "floor_%s.sql" % name), "w") as f:
            f.write("\\set i random(1, %d)\n" % n)
            f.write("SELECT app, t0, t1, p1, p2 FROM floor_params_%s WHERE i = :i \\gset\n" % name)
            f.write("SELECT body FROM cdr WHERE %s ORDER BY time DESC, session_id LIMIT %d OFFSET %d;\n"
                    % (where, size, page * size))


def cmd_pgbench_latency(prefix):
    """pgbench -l writes one line per transaction; the third field is its
    latency in microseconds."""
    d, base = os.path.split(prefix)
    lat = []
    for fname in os.listdir(d or "."):
        if fname.startswith(base + "."):
            with open(os.path.join(d, fname)) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3:
                        lat.append(int(parts[2]))
    if not lat:
        sys.exit("no pgbench log at %s.*" % prefix)
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] / 1000.0

    print(json.dumps({"transactions": len(lat), "p50_ms": pct(0.50), "p99_ms": pct(0.99)}))


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "to-csv":
        cmd_to_csv(*args)
    elif cmd == "params":
        cmd_params(*args)
    elif cmd == "metadata":
        cmd_metadata(*args)
    elif cmd == "compare":
        cmd_compare(*args)
    elif cmd == "report":
        cmd_report(*args)
    elif cmd == "report-postgres":
        cmd_report_postgres(*args)
    elif cmd == "floor-scripts":
        cmd_floor_scripts(*args)
    elif cmd == "pgbench-latency":
        cmd_pgbench_latency(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
