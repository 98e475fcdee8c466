"""Markdown report of one bench/run: absolute numbers, ratios between the
servers measured in the same run, what limited each run, and the targets of
issue 2 section 8."""

import itertools

GATEWAY = "pagi-gateway"
TARGETS = {"hello": 1.5, "echo": 1.0, "stream": 1.0}  # gateway req/s / Starman req/s
GATEWAY_IDLE_RSS_MIB = 20


def metrics(r):
    s = r["wrk"]
    secs = s["duration_us"] / 1e6
    lat = s["latency_us"]
    threads = len(r["wrk_cpus"].split(","))
    server_cpus = len(r["server_cpus"].split(","))
    wrk_share = r["wrk_cpu_s"] / r["wall_s"]
    server_share = r["server_cpu_s"] / r["wall_s"]
    other_share = r["other_cpu_s"] / r["wall_s"]
    if wrk_share >= 0.9 * threads:
        limit = "wrk (CPU-bound)"
    elif server_share >= 0.9 * server_cpus:
        limit = "server CPU"
    elif r["variant"] == "shared" and wrk_share + server_share >= 0.9 * 2:
        limit = "both CPUs busy"
    else:
        limit = "neither CPU saturated"
    if other_share >= 0.2:
        limit += f"; other processes used {other_share:.0%} of a core"
    return {
        "rps": s["requests"] / secs,
        "mibps": s["bytes"] / secs / (1 << 20),
        "p50": lat["p50"] / 1000, "p90": lat["p90"] / 1000, "p99": lat["p99"] / 1000,
        "p999": lat["p999"] / 1000, "max": lat["max"] / 1000,
        "errors": sum(s["errors"].values()),
        "timeouts": s["errors"]["timeout"],
        "other_cpu": other_share,
        "root_cpu": r["root_cpu_s"] / r["wall_s"],
        "spread": f"{min(r['rps_all']):,.0f}–{max(r['rps_all']):,.0f}",
        "wrk_cpu": wrk_share, "server_cpu": server_share,
        "cpu_us_per_req": r["server_cpu_s"] / max(s["requests"], 1) * 1e6,
        "idle_rss": r["idle_rss_kib"] / 1024, "load_rss": r["load_rss_kib"] / 1024,
        "idle_pss": r["idle_pss_kib"] / 1024, "load_pss": r["load_pss_kib"] / 1024,
        "limit": limit,
    }


def fmt_ratio(a, b):
    return f"{a / b:.2f}×" if b else "n/a"


def markdown(info, settings, results, skipped, descriptions, variants, scenario_text):
    out = []
    w = out.append
    w(f"# bench/run report, {info['date']}\n")
    w(f"Machine: {info['nproc']} CPUs, {info['cpu']}, Linux {info['kernel']}. "
      f"Load average at start {fmt_load(info['load_start'])}, at end {fmt_load(info['load_end'])}.\n")
    w(f"Tools: {info['wrk']}; {info['nginx']}; {info['starman']}; {info['perl']}; "
      f"gateway: {info['gateway']}.\n")
    w(f"wrk: `-t{settings['BENCH_THREADS']} -c{settings['BENCH_CONNECTIONS']} "
      f"-d{settings['BENCH_DURATION']} --timeout {settings['BENCH_TIMEOUT']}`, after an unmeasured "
      f"{settings['BENCH_WARMUP']} warm-up with the same settings. Latency percentiles are wrk's own "
      "(exact, from its histogram, via a Lua `done` hook).\n")
    w("Servers:\n")
    for name, text in descriptions.items():
        w(f"- {name}: {text}")
    for name, why in skipped.items():
        w(f"- {name}: skipped ({why})")
    w("")
    w("Scenarios: " + "; ".join(f"**{k}**: {v}" for k, v in scenario_text.items()) + ".\n")
    w("Memory: RSS sums every process of the server tree (shared pages of forked workers "
      "count once per process); PSS splits shared pages and is the fair total. *idle* is "
      "after one request, *load* the peak sampled every 250 ms during the measured run. "
      "CPU is user+system time of the whole tree (from /proc/<pid>/stat) and of wrk "
      "(its rusage), divided by the wall time of the run; 100% = one core; *(root)* is the "
      "server's first process alone (the gateway itself, Starman's or nginx's master). *others CPU* is "
      "what the rest of the machine used meanwhile (/proc/stat busy time minus server and wrk): "
      "a large value means the run was disturbed. Each cell is the median of "
      f"{settings['BENCH_REPEAT']} measured runs by req/s; *req/s range* is the spread.\n")

    for variant, (server_cpus, wrk_cpus, meaning) in variants.items():
        w(f"## Variant `{variant}`: server on CPU {server_cpus}, wrk on CPU {wrk_cpus}\n")
        w(f"{meaning}.\n")
        rows = [r for r in results if r["variant"] == variant]
        for r in rows:
            r["server_cpus"], r["wrk_cpus"] = server_cpus, wrk_cpus
        for scenario in dict.fromkeys(r["scenario"] for r in rows):
            sub = [r for r in rows if r["scenario"] == scenario]
            w(f"### {scenario}\n")
            w("| server | req/s | req/s range | MiB/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | "
              "server CPU (root) | µs CPU/req | wrk CPU | others CPU | RSS idle/load MiB | PSS idle/load MiB | limit |")
            w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            good = []
            for r in sub:
                if "error" in r:
                    w(f"| {r['server']} | — | | | | | | | | | | | | | | | {r['error']} |")
                    continue
                m = metrics(r)
                good.append((r, m))
                err = f"{m['errors']}" + (f" ({m['timeouts']} timeouts)" if m["timeouts"] else "")
                if "error_after" in r:
                    err += f"; wrong answer after the run: {r['error_after']}"
                w(f"| {r['server']} | {m['rps']:,.0f} | {m['spread']} | {m['mibps']:,.1f} | {m['p50']:.2f} | "
                  f"{m['p90']:.2f} | {m['p99']:.2f} | {m['p999']:.2f} | {m['max']:.1f} | {err} | "
                  f"{m['server_cpu']:.0%} ({m['root_cpu']:.0%}) | {m['cpu_us_per_req']:.0f} | {m['wrk_cpu']:.0%} | {m['other_cpu']:.0%} | "
                  f"{m['idle_rss']:.1f} / {m['load_rss']:.1f} | {m['idle_pss']:.1f} / {m['load_pss']:.1f} | "
                  f"{m['limit']} |")
            w("")
            if len(good) > 1:
                w("Ratios (first / second; req/s higher is better, the others lower is better):\n")
                w("| pair | req/s | p50 | p99 | µs CPU/req | PSS under load |")
                w("|---|---:|---:|---:|---:|---:|")
                for (ra, a), (rb, b) in itertools.combinations(good, 2):
                    w(f"| {ra['server']} / {rb['server']} | {fmt_ratio(a['rps'], b['rps'])} | "
                      f"{fmt_ratio(a['p50'], b['p50'])} | {fmt_ratio(a['p99'], b['p99'])} | "
                      f"{fmt_ratio(a['cpu_us_per_req'], b['cpu_us_per_req'])} | "
                      f"{fmt_ratio(a['load_pss'], b['load_pss'])} |")
                w("")
        w(targets(rows))

    gw = [r for r in results if r["server"] == GATEWAY and "error" not in r]
    if gw:
        w("## Gateway process alone (without its workers)\n")
        first = max(r["root_idle_rss_kib"] for r in gw) / 1024
        after = max(r["root_after_rss_kib"] for r in gw) / 1024
        w(f"Largest RSS of the gateway process over all runs: {first:.1f} MiB idle after start, "
          f"{after:.1f} MiB idle after a measured run (target < {GATEWAY_IDLE_RSS_MIB} MiB idle).\n")
    return "\n".join(out) + "\n"


def targets(rows):
    lines = ["Targets (issue 2 §8), gateway req/s over Starman req/s in this variant:\n"]
    for scenario, want in TARGETS.items():
        gw = [r for r in rows if r["scenario"] == scenario and r["server"] == GATEWAY and "error" not in r]
        st = [r for r in rows if r["scenario"] == scenario and r["server"] == "starman" and "error" not in r]
        if not gw or not st:
            lines.append(f"- {scenario}: not measured")
            continue
        ratio = metrics(gw[0])["rps"] / metrics(st[0])["rps"]
        verdict = "met" if ratio >= want else "MISSED"
        lines.append(f"- {scenario}: {ratio:.2f}× (target ≥ {want}×): {verdict}")
    return "\n".join(lines) + "\n"


def fmt_load(load):
    return "/".join(f"{x:.2f}" for x in load)
