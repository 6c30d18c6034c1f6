"""What a run leaves behind: the table it prints, the compiled-query line, the
results file in bench/results/ and the chart."""

import json
from datetime import datetime
from pathlib import Path

from bench.endpoints import COMPILED, ENDPOINTS, PAIRED
from bench.verdict import RATIO_TARGETS, fmt_size, tenths_down


def write_results(results: dict, directory: Path, started: datetime) -> Path:
    """One JSON file per run, named by the UTC time it started."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{started:%Y-%m-%dT%H-%M-%SZ}.json"
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return path


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def table(runs: list[dict]) -> str:
    """One line per endpoint, size and database: medians over the endpoint's
    windows, and its ratio to the ceiling with the spread of its pairs."""
    head = (
        f"{'endpoint':<27} {'size':>4} {'db':<8} {'req/s':>8} {'ceiling':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'ratio':>6} {'pairs min–max':>13} {'RSS MB':>6}  note"
    )
    lines = [head, "-" * len(head)]
    for name in [e.name for e in ENDPOINTS]:
        for run in runs:
            r = run["endpoints"].get(name)
            if r is None:
                continue
            start = f"{r['label']:<27} {fmt_size(run['size']):>4} {run['db']:<8}"
            if "rps" not in r:
                dashes = " ".join(f"{'—':>{w}}" for w in (8, 8, 8, 8, 6, 13, 6))
                lines.append(f"{start} {dashes}  {r.get('status')}: {r.get('note', '')}")
                continue
            notes = []
            limit = (run.get("argon2") or {}).get("in_run") or {}
            if name == "login" and limit.get("limit"):
                notes.append(
                    f"{tenths_down(r['rps'] / limit['limit'])} of the in-run Argon2 limit "
                    f"{limit['limit']:.1f}/s"
                )
            if r.get("note"):
                notes.append(r["note"])
            if r.get("ratios") and r.get("quiet_pairs", 0) < len(r["ratios"]):
                notes.append(
                    f"{r['quiet_pairs']} of {len(r['ratios'])} pairs quiet"
                    + ("; all counted" if r.get("disturbed") else "")
                )
            spread = f"{r['ratio_min']:.1%}–{r['ratio_max']:.1%}" if r.get("ratios") else "—"
            ceiling = f"{r['hello_rps']:,.0f}" if r.get("hello_rps") else "—"
            rss = f"{r['worker_rss_mb']:.0f}" if r.get("worker_rss_mb") else "—"
            ratio = percent(r.get("ratio")) if name != "login" else "—"
            lines.append(
                f"{start} {r['rps']:>8,.1f} {ceiling:>8} {r['p50_ms']:>8.2f} "
                f"{r['p99_ms']:>8.2f} {ratio:>6} {spread:>13} {rss:>6}  {'; '.join(notes)}"
            )
    lines.append("")
    lines.append(
        "req/s, p50 and p99: medians over the endpoint's windows (the ceiling's: over all of "
        "its windows); ratio: the median of the pairs' ratios; ceiling: its median req/s in "
        "the endpoint's pairs; pairs min–max: the spread of the pairs counted (the quiet "
        "ones when there were 3 or more)."
    )
    for run in runs:
        lines.append(
            f"{run['db']:<8} {fmt_size(run['size']):>4}: {run.get('workers', '?')} workers, "
            f"peak worker RSS {run.get('worker_peak_rss_mb', '?')} MB, "
            f"seed {run.get('seed_seconds', '?')} s "
            f"(peak RSS {run.get('seed_peak_rss_mb', '?')} MB), other processes at most "
            f"{run.get('others_cpu_max', 0):.0%} of a core in a window"
        )
    argon2 = next((run["argon2"] for run in runs if run.get("argon2")), None)
    if argon2:
        lines.append(
            f"Argon2 limit = hashes/s per core of {argon2['hasher']} {argon2['params']}, from "
            "the CPU time of the workers' own password checks during the login run, × the "
            f"{argon2['cores']} cores less the CPU other processes took meanwhile"
        )
    return "\n".join(lines)


def compiled_line(comparison: dict) -> str:
    """`compiled queries worth: rsvp +x%, list +y%, detail +z%` for one database,
    with each figure's spread over its pairs."""
    parts, spreads = [], []
    for name, short in COMPILED.items():
        r = comparison["endpoints"].get(name, {})
        if r.get("ratio") is None:
            parts.append(f"{short} {r.get('status', 'not measured')}")
            continue
        parts.append(f"{short} {r['ratio'] - 1:+.0%}")
        spreads.append(
            f"{short} {r['ratio_min'] - 1:+.0%} to {r['ratio_max'] - 1:+.0%}"
            + (" disturbed" if r.get("disturbed") else "")
        )
    tag = f"{comparison['db']} {fmt_size(comparison['size'])}"
    return (
        f"{tag}: compiled queries worth: {', '.join(parts)} "
        f"(layer on ÷ off, median of pairs; spread: {', '.join(spreads) or '—'})"
    )


def chart(runs: list[dict], path: Path, title: str) -> None:
    """Each endpoint's ratio to the ceiling, sizes side by side, one panel per
    database; the whiskers span its pairs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [e.name for e in PAIRED]
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
            low = [v - (r.get("ratio_min") or v) for r, v in zip(results, values, strict=True)]
            high = [(r.get("ratio_max") or v) - v for r, v in zip(results, values, strict=True)]
            top = max(top, *(v + h for v, h in zip(values, high, strict=True)))
            xs = [x + (i - (len(sizes) - 1) / 2) * width for x in range(len(names))]
            bars = ax.bar(xs, values, width, yerr=[low, high], capsize=2, label=f"{size:,} parties")
            labels = [f"{v:.0%}" if v >= 0.1 else f"{v:.1%}" if v else "" for v in values]
            labels = [
                "error" if r.get("status") == "errors" else label
                for r, label in zip(results, labels, strict=True)
            ]
            ax.bar_label(bars, labels=labels, fontsize=7, padding=3)
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
