"""The run's table and chart."""

from pathlib import Path

from bench.endpoints import ENDPOINTS
from bench.verdict import RATIO_TARGETS, fmt_size


def table(runs: list[dict]) -> str:
    head = (
        f"{'endpoint':<26} {'size':>5} {'db':<8} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
        f"{'ratio':>7} {'RSS MB':>7}  note"
    )
    lines = [head, "-" * len(head)]
    for name in [e.name for e in ENDPOINTS]:
        for run in runs:
            r = run["endpoints"].get(name)
            if r is None:
                continue
            label = r["label"]
            size = fmt_size(run["size"])
            if "rps" not in r:
                lines.append(
                    f"{label:<26} {size:>5} {run['db']:<8} {'—':>9} {'—':>9} {'—':>9} "
                    f"{'—':>7} {'—':>7}  {r.get('status')}: {r.get('note', '')}"
                )
                continue
            notes = []
            if name == "login" and (run.get("argon2") or {}).get("limit"):
                limit = run["argon2"]["limit"]
                notes.append(f"{r['rps'] / limit:.0%} of in-run Argon2 limit {limit:.1f}/s")
            if r.get("note"):
                notes.append(r["note"])
            ratio = f"{r['ratio']:.1%}" if "ratio" in r else "—"
            lines.append(
                f"{label:<26} {size:>5} {run['db']:<8} {r['rps']:>9,.1f} {r['p50_ms']:>9.2f} "
                f"{r['p99_ms']:>9.2f} {ratio:>7} {r['worker_rss_mb']:>7.0f}  {'; '.join(notes)}"
            )
    lines.append("")
    for run in runs:
        lines.append(
            f"{run['db']:<8} {fmt_size(run['size']):>5}: {run.get('workers', '?')} workers, "
            f"peak worker RSS {run.get('worker_peak_rss_mb', '?')} MB, "
            f"seed {run.get('seed_seconds', '?')} s "
            f"(peak RSS {run.get('seed_peak_rss_mb', '?')} MB), other processes at most "
            f"{run.get('others_cpu_max', 0):.0%} of a core during a load run"
        )
    argon2 = next((run["argon2"] for run in runs if run.get("argon2")), None)
    if argon2:
        lines.append(
            f"Argon2 limit = hashes/s per core of {argon2['hasher']} {argon2['params']}, from "
            "the CPU time of the workers' own password checks during the login run, × the "
            f"{argon2['cores']} cores less the CPU other processes took meanwhile"
        )
    return "\n".join(lines)


def chart(runs: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [e.name for e in ENDPOINTS if e.name not in ("hello", "list-p1-again")]
    dbs = list(dict.fromkeys(r["db"] for r in runs))
    sizes = sorted({r["size"] for r in runs})
    fig, axes = plt.subplots(1, len(dbs), figsize=(6.5 * len(dbs), 4.8), sharey=True, squeeze=False)
    width = 0.8 / max(len(sizes), 1)
    top = 0.5
    for ax, db in zip(axes[0], dbs, strict=True):
        for i, size in enumerate(sizes):
            run = next((r for r in runs if r["db"] == db and r["size"] == size), None)
            results = [(run or {}).get("endpoints", {}).get(n, {}) for n in names]
            values = [r.get("ratio") or 0.0 for r in results]
            top = max(top, *values)
            xs = [x + (i - (len(sizes) - 1) / 2) * width for x in range(len(names))]
            bars = ax.bar(xs, values, width, label=f"{size:,} parties")
            labels = [f"{v:.0%}" if v >= 0.1 else f"{v:.1%}" if v else "n/a" for v in values]
            labels = [
                "error" if r.get("status") == "error" else label
                for r, label in zip(results, labels, strict=True)
            ]
            ax.bar_label(bars, labels=labels, fontsize=7)
        for x, n in enumerate(names):
            if n in RATIO_TARGETS:
                ax.hlines(RATIO_TARGETS[n], x - 0.45, x + 0.45, colors="black", linestyles="dashed")
        ax.set_xticks(range(len(names)), names, rotation=20)
        ax.set_title(db)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("share of /bench/hello req/s (dashed: target at 100k)")
    axes[0][0].yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes[0][0].set_ylim(0, min(1.1, top * 1.15))
    axes[0][-1].legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
