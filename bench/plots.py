"""Regenerate the PNG plots and the results tables in ``bench/README.md`` from ``bench/results/*.json``.

``python -m bench.plots``: for every results file it knows (``KNOWN``) that exists, writes
``bench/results/<name>.png`` and rewrites the README between ``<!-- results:<name> -->`` and
``<!-- /results:<name> -->``. Files it does not know (e.g. ``*.quick.json``) are left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
README = BENCH / "README.md"


@dataclass(frozen=True)
class Report:
    """How one results file becomes a plot and a README table."""

    plot: Callable[[dict[str, Any], Path], None]
    table: Callable[[dict[str, Any]], str]


# --- gas ---------------------------------------------------------------------------------------------

SERIES = (
    ("ours direct", "#9ecae1", lambda r: r["ours"]["direct"]),
    ("ours relayed (per eBL)", "#3182bd", lambda r: r["ours"]["relayed"]),
    ("TradeTrust", "#e6550d", lambda r: r["tradetrust"]),
)


def _steps(result: dict[str, Any]) -> list[str]:
    return list(result["parameters"]["steps"])


def plot_gas(result: dict[str, Any], out: Path) -> None:
    steps = _steps(result)
    batch = result["parameters"]["relayed_batch_size"]
    fig, (ax, axt) = plt.subplots(
        1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [4, 1.3]}, constrained_layout=True
    )
    width = 0.27
    for i, (label, colour, get) in enumerate(SERIES):
        values = [get(result)[s] for s in steps]
        ax.bar([x + (i - 1) * width for x in range(len(steps))], values, width, label=label, color=colour)
    ax.set_xticks(range(len(steps)), [s.replace("_", "\n") for s in steps], fontsize=8)
    ax.set_ylabel("gasUsed per life cycle")
    ax.set_title(f"Reference life cycle, per step (relayed batch = {batch})")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)

    totals = [get(result)["total"] for _, _, get in SERIES]
    axt.bar(range(3), totals, color=[c for _, c, _ in SERIES])
    goal = result["goal"]["lifecycle_ratio"] * result["tradetrust"]["total"]
    axt.axhline(goal, color="black", linestyle="--", linewidth=1)
    axt.text(
        2.45,
        goal,
        f"goal: {result['goal']['lifecycle_ratio']} of TradeTrust",
        ha="right",
        va="bottom",
        fontsize=8,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
    )
    axt.set_xticks(range(3), ["ours\ndirect", "ours\nrelayed", "TradeTrust"], fontsize=8)
    for x, v in enumerate(totals):
        axt.text(x, v, f"{v:,.0f}", ha="center", va="bottom", fontsize=8)
    axt.set_title("Life cycle total")
    axt.grid(axis="y", alpha=0.3)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _verdict(value: float, goal: float) -> str:
    return f"**met** ({value:.3f} ≤ {goal})" if value <= goal else f"**not met** ({value:.3f} > {goal})"


def table_gas(result: dict[str, Any]) -> str:
    steps = _steps(result)
    ours_d, ours_r, tt = result["ours"]["direct"], result["ours"]["relayed"], result["tradetrust"]
    batch = result["parameters"]["relayed_batch_size"]
    m = result["machine"]
    lines = [
        f"| step | ours direct | ours relayed (batch {batch}, per eBL) | TradeTrust | "
        "relayed ÷ TradeTrust | direct ÷ TradeTrust |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in [*steps, "total"]:
        name = "**total**" if s == "total" else f"`{s}`"
        lines.append(
            f"| {name} | {ours_d[s]:,} | {ours_r[s]:,.1f} | {tt[s]:,} | "
            f"{ours_r[s] / tt[s]:.3f} | {ours_d[s] / tt[s]:.3f} |"
        )
    goal = result["goal"]
    sens = result["parameters"].get("tradetrust_sensitivity", {})
    other = sens.get("lifecycle_total_when_registry_holds_no_other_returned_token")
    lines += [
        "",
        "| figure | value | goal | verdict |",
        "|---|---:|---:|---|",
        f"| `lifecycle_ratio` (ours relayed ÷ TradeTrust) | {result['lifecycle_ratio']:.4f} | "
        f"≤ {goal['lifecycle_ratio']} | {_verdict(result['lifecycle_ratio'], goal['lifecycle_ratio'])} |",
        f"| `lifecycle_ratio_direct` (ours direct ÷ TradeTrust) | {result['lifecycle_ratio_direct']:.4f} | "
        f"≤ {goal['lifecycle_ratio']} | "
        f"{_verdict(result['lifecycle_ratio_direct'], goal['lifecycle_ratio'])} |",
        f"| `issue_ratio` (ours `issueBatch`/N ÷ TradeTrust `mint`) | {result['issue_ratio']:.4f} | "
        f"≤ {goal['issue_ratio']} | {_verdict(result['issue_ratio'], goal['issue_ratio'])} |",
        f"| `issue_ratio_direct` (ours `issue` ÷ TradeTrust `mint`) | {result['issue_ratio_direct']:.4f} | "
        f"≤ {goal['issue_ratio']} | {_verdict(result['issue_ratio_direct'], goal['issue_ratio'])} |",
        "",
        "![gas per life-cycle step: ours direct, ours relayed, TradeTrust](results/gas.png)",
        "",
        f"TradeTrust: `{result['parameters']['tradetrust']['package']}` "
        f"(shipped bytecode, solc {result['parameters']['tradetrust']['solc']}); ours: solc "
        f"{result['parameters']['ours_compiler']['version']}. Machine: {m['cores']} cores, "
        f"{m['memory_gib']} GiB, {m['platform']}, {m['anvil']}, Python {m['python']}, web3 {m['web3']}.",
    ]
    if other:
        lines += [
            "",
            f"Sensitivity: if no other returned token sits at the TradeTrust registry, its life cycle costs "
            f"{other:,} (ours relayed ÷ that = {ours_r['total'] / other:.4f}); the table uses the cheaper "
            "steady-state figure for TradeTrust.",
        ]
    return "\n".join(lines)


# --- reads ---------------------------------------------------------------------------------------------

READ_SERIES = (
    ("verify by id", "verify_p99_ms", "#3182bd"),
    ("verify by document", "verify_by_document_p99_ms", "#9ecae1"),
    ("history", "history_p99_ms", "#31a354"),
)


def _sizes(result: dict[str, Any]) -> list[str]:
    return [str(s) for s in result["sizes"]]


def plot_reads(result: dict[str, Any], out: Path) -> None:
    sizes = _sizes(result)
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    for label, key, colour in READ_SERIES:
        ax.plot(
            [int(s) for s in sizes],
            [result[key][s] for s in sizes],
            marker="o",
            label=f"{label} p99",
            color=colour,
        )
        p50 = key.replace("p99", "p50")
        ax.plot(
            [int(s) for s in sizes],
            [result[p50][s] for s in sizes],
            marker=".",
            linestyle=":",
            label=f"{label} p50",
            color=colour,
        )
    goal = result["goal"]
    ax.axhline(goal["verify_p99_ms_at_1M"], color="#3182bd", linestyle="--", linewidth=1)
    ax.axhline(goal["history_p99_ms_at_1M"], color="#31a354", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("eBLs in the index")
    ax.set_ylabel("latency over HTTP (ms)")
    ax.set_title("Read latency by index size (dashed: p99 goals)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _growth(values: dict[str, float], sizes: list[str]) -> float:
    return values[sizes[-1]] / values[sizes[0]]


def table_reads(result: dict[str, Any]) -> str:
    sizes = _sizes(result)
    goal = result["goal"]
    m = result["machine"]
    head = " | ".join(f"{int(s):,}" for s in sizes)
    lines = [f"| ms (p50 / p99) | {head} |", "|---|" + "---:|" * len(sizes)]
    rows = (
        ("verify by id (chain read)", "verify"),
        ("verify by document (hash + index + chain)", "verify_by_document"),
        ("history (index)", "history"),
        ("verify, real on-chain eBL (200 path)", "verify_real_onchain"),
    )
    for label, key in rows:
        cells = " | ".join(
            f"{result[key + '_p50_ms'][s]:.2f} / {result[key + '_p99_ms'][s]:.2f}" for s in sizes
        )
        lines.append(f"| {label} | {cells} |")
    big = sizes[-1]
    figures = (  # (figure, value, unit, goal)
        (f"verify p99 at {int(big):,}", result["verify_p99_ms"][big], " ms", goal["verify_p99_ms_at_1M"]),
        (
            f"verify p99 at {int(big):,}, real eBL (200)",
            result["verify_real_onchain_p99_ms"][big],
            " ms",
            goal["verify_p99_ms_at_1M"],
        ),
        (
            f"verify by document p99 at {int(big):,}",
            result["verify_by_document_p99_ms"][big],
            " ms",
            goal["verify_p99_ms_at_1M"],
        ),
        (f"history p99 at {int(big):,}", result["history_p99_ms"][big], " ms", goal["history_p99_ms_at_1M"]),
        ("verify p99 growth", _growth(result["verify_p99_ms"], sizes), "x", goal["max_growth_10k_to_1M"]),
        ("history p99 growth", _growth(result["history_p99_ms"], sizes), "x", goal["max_growth_10k_to_1M"]),
    )
    lines += ["", "| figure | value | goal | verdict |", "|---|---:|---:|---|"]
    for name, value, unit, limit in figures:
        verdict = "**met**" if value <= limit else "**not met**"
        lines.append(f"| {name} | {value:.2f}{unit} | ≤ {limit}{unit} | {verdict} |")
    lines += [
        "",
        "![read latency by index size](results/reads.png)",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, {m['platform']}, Python {m['python']}; "
        f"{result['parameters']['requests_per_endpoint']:,} sequential requests per endpoint and size.",
    ]
    return "\n".join(lines)


# --- throughput ------------------------------------------------------------------------------------


def plot_throughput(result: dict[str, Any], out: Path) -> None:
    timeline = result["timeline_ops_per_s"]
    duration = result["parameters"]["duration_s"]
    fig, (ax, axl) = plt.subplots(
        1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3, 2]}, constrained_layout=True
    )
    ax.bar(range(len(timeline)), timeline, width=0.9, color="#3182bd", label="ours: final and indexed")
    ax.axhline(result["tradetrust_ops_per_s"], color="#e6550d", linestyle="--", label="TradeTrust best path")
    ax.axhline(
        result["ops_per_s"],
        color="#08519c",
        linestyle=":",
        label=f"ours, window mean {result['ops_per_s']:g}",
    )
    ax.axvline(duration, color="grey", linewidth=1)
    ax.text(duration, ax.get_ylim()[1] * 0.95, " drain", color="grey", fontsize=8, va="top")
    ax.set_xlabel("seconds since the load started")
    ax.set_ylabel("operations per second")
    ax.set_title(f"Operations final on chain and indexed (goal {result['goal']['ops_per_s']:,}/s)")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, axis="y")
    kinds = list(result["latency_by_kind_s"])
    for i, (q, colour) in enumerate((("p50", "#9ecae1"), ("p99", "#3182bd"))):
        values = [result["latency_by_kind_s"][k].get(q, 0) for k in kinds]
        axl.bar([x + (i - 0.5) * 0.38 for x in range(len(kinds))], values, 0.38, label=q, color=colour)
    axl.axhline(result["goal"]["p50_final_s"], color="#e6550d", linestyle="--", linewidth=1, label="p50 goal")
    axl.set_xticks(range(len(kinds)), [k.replace("_", "\n") for k in kinds], fontsize=8)
    axl.set_ylabel("request sent → final and indexed (s)")
    axl.set_title("Latency by operation (1 s blocks)")
    axl.legend(fontsize=8)
    axl.grid(alpha=0.3, axis="y")
    fig.savefig(out, dpi=110)
    plt.close(fig)


def table_throughput(result: dict[str, Any]) -> str:
    goal, p, m = result["goal"], result["parameters"], result["machine"]
    cpu, prof = result["cpu_seconds_in_window"], result.get("profile_top") or {}
    figures = (  # (figure, value, goal text, met)
        (
            "ops/s (final and indexed)",
            f"{result['ops_per_s']:,.1f}",
            f"≥ {goal['ops_per_s']:,}",
            result["ops_per_s"] >= goal["ops_per_s"],
        ),
        (
            "p50 request → final and indexed",
            f"{result['p50_final_s']:.2f} s",
            f"≤ {goal['p50_final_s']} s",
            result["p50_final_s"] <= goal["p50_final_s"],
        ),
        ("p99 request → final and indexed", f"{result['p99_final_s']:.2f} s", "", None),
        (
            "TradeTrust mint + transferHolder, same chain",
            f"{result['tradetrust_ops_per_s']:,.1f} ops/s",
            "",
            None,
        ),
        (
            "ours ÷ TradeTrust",
            f"{result['ratio_vs_tradetrust']:.3f}",
            f"≥ {goal['ratio_vs_tradetrust']}",
            result["ratio_vs_tradetrust"] >= goal["ratio_vs_tradetrust"],
        ),
        (
            "errors",
            str(sum(result["errors"].values())) if result["errors"] else "0",
            "0",
            not result["errors"],
        ),
    )
    lines = ["| figure | value | goal | verdict |", "|---|---:|---:|---|"]
    for name, value, target, met in figures:
        verdict = "" if met is None else ("**met**" if met else "**not met**")
        lines.append(f"| {name} | {value} | {target} | {verdict} |")
    stages = list((prof.get("stages_pct_of_busy") or {}).items())[:6]
    if stages:
        lines += [
            "",
            "| where the gateway's CPU goes (py-spy `--gil`, measured window) | share |",
            "|---|---:|",
        ]
        lines += [f"| {name} | {pct:.1f} % |" for name, pct in stages]
    achieved = result["mix"]["achieved"]
    lines += [
        "",
        "![throughput over time and latency by operation](results/throughput.png)",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, {m['platform']}, Python {m['python']}; "
        f"{p['clients']} clients x {p['in_flight_per_client']} operations in flight "
        f"({p['offered_concurrency_ops']} offered), {p['duration_s']:g} s window at 1 s blocks. "
        "Mix achieved: " + ", ".join(f"{k} {100 * v:.0f} %" for k, v in achieved.items()) + ". "
        f"Gateway CPU in the window: {cpu['gateway']} s ({cpu['gateway_core_utilisation']} of a core, "
        f"{cpu['gateway_ms_per_op']} ms per operation); anvil {cpu['anvil']} s; load generator "
        f"{cpu['load_generator']} s. Load average at the end of the window: "
        f"{result['load_average']['end_of_window'][0]}.",
    ]
    return "\n".join(lines)


# --- soak ----------------------------------------------------------------------------------------------


def plot_soak(result: dict[str, Any], out: Path) -> None:
    samples = [x for x in result["samples"] if x["phase"] != "idle"]
    interval = result["parameters"]["sample_interval_s"]
    t = [x["t_s"] for x in samples]
    fig, (ax, axm) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, constrained_layout=True)
    ax.plot(t, [x["offered"] / interval for x in samples], label="offered", color="#969696")
    ax.plot(t, [x["acknowledged"] / interval for x in samples], label="acknowledged", color="#9ecae1")
    ax.plot(t, [x["final"] / interval for x in samples], label="final and indexed", color="#3182bd")
    ax.plot(t, [x["errors"] / interval for x in samples], label="errors", color="#e6550d")
    ax.set_ylabel("operations / s")
    ax.set_title(f"Soak at {result['summary']['rate_offered_ops_per_s']} ops/s (80 % of the measured peak)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    axm.plot(t, [x["gateway"]["rss_mib"] for x in samples], label="gateway RSS", color="#31a354")
    axm.plot(t, [x["anvil"]["rss_mib"] for x in samples], label="anvil RSS", color="#756bb1")
    axm.set_ylabel("MiB")
    axm.set_xlabel("seconds")
    axm.legend(fontsize=8)
    axm.grid(alpha=0.3)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _rss(r: dict[str, float]) -> str:
    return f"{r['idle']} / {r['max']} / {r['end']} MiB, {r['growth_mib_per_min']} MiB/min"


def table_soak(result: dict[str, Any]) -> str:
    s = result["summary"]
    m = result["machine"]
    lat = s["final_latency_s"]
    rows = [
        ("duration", f"{s['duration_s']:.0f} s"),
        ("offered (open loop)", f"{s['rate_offered_ops_per_s']} ops/s, {s['offered']:,} operations"),
        ("acknowledged / final and indexed", f"{s['acknowledged']:,} / {s['final']:,}"),
        ("achieved, final", f"{s['achieved_final_ops_per_s']} ops/s (kept up: {s['kept_up']})"),
        ("errors", f"{s['errors']} {s['errors_by_kind'] or ''}".strip()),
        ("unfinished after the drain", str(s["unfinished_after_drain"])),
        ("due → final, p50 / p99", f"{lat['p50']} s / {lat['p99']} s"),
        *(
            (f"{name} RSS idle / max / end, growth", _rss(s[f"{name}_rss_mib"]))
            for name in ("gateway", "anvil")
        ),
    ]
    if gas := s.get("chain_gas_price_wei"):  # recorded since the fee fix (registry.chain.fees)
        rows.append(
            ("node's gas price start / max / end", f"{gas['start']:,} / {gas['max']:,} / {gas['end']:,} wei")
        )
    lines = ["| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    lines += [
        "",
        "![soak: operations and memory over time](results/soak.png)",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, {m['platform']}, Python {m['python']}.",
    ]
    return "\n".join(lines)


# --- scale ---------------------------------------------------------------------------------------------


def plot_scale(result: dict[str, Any], out: Path) -> None:
    samples = result["samples"]
    ebls = [x["ebls"] / 1000 for x in samples]
    fig, (ax, axr) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, constrained_layout=True)
    ax.plot(ebls, [x["anvil_rss_mib"] for x in samples], label="anvil RSS", color="#756bb1")
    ax.plot(ebls, [x["state_file_mib"] or 0 for x in samples], label="state file", color="#31a354")
    dumps = [x for x in samples if "dump_rss_peak_mib" in x]
    ax.plot(
        [x["ebls"] / 1000 for x in dumps],
        [x["dump_rss_peak_mib"] for x in dumps],
        "o",
        label="RSS peak during one dump",
        color="#e6550d",
    )
    settled = result.get("settled")
    if settled and samples:
        ax.plot(
            [(samples[-1]["ebls"] + settled["issued"]) / 1000],
            [settled["anvil_rss_mib"]],
            "D",
            label=f"RSS settled ({p_settle(result)} a block, {settled['blocks']} blocks)",
            color="#08519c",
        )
    ax.axhline(2048, color="#969696", ls="--", lw=1, label="goal at 1,000,000: 2 GiB")
    p = result["parameters"]
    ax.set_title(
        f"eBLs issued on the embedded chain (states kept {p['states_kept']}"
        + (f", transactions of {p['transactions_kept']} blocks" if p.get("transactions_kept") else "")
        + (f", {' '.join(p['anvil_args'])}" if p.get("anvil_args") else "")
        + f"){' - partial' if result.get('partial') else ''}"
    )
    ax.set_ylabel("MiB")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    axr.plot(ebls, [x["rate_per_s"] for x in samples], label="issuance rate (eBLs/s)", color="#3182bd")
    axr.set_ylabel("eBLs / s")
    axr.set_xlabel("thousand eBLs on chain")
    axd = axr.twinx()
    axd.plot([x["ebls"] / 1000 for x in dumps], [x["dump_wall_s"] for x in dumps], "s-", color="#e6550d")
    axd.set_ylabel("one full dump (s)", color="#e6550d")
    axr.grid(alpha=0.3)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def p_settle(result: dict[str, Any]) -> int:
    return int(result["parameters"].get("settle_per_block") or 0)


def table_scale(result: dict[str, Any]) -> str:
    samples, p = result["samples"], result["parameters"]
    last = samples[-1] if samples else {}
    dumps = [x for x in samples if "dump_wall_s" in x]
    d = dumps[-1] if dumps else {}
    restart = result.get("restart") or {}
    rows = [
        (
            "eBLs on chain",
            f"{last.get('ebls', 0):,} of {p['target']:,}"
            + (" (run cut short)" if result.get("partial") else ""),
        ),
        (
            "anvil RSS at the end / max",
            f"{last.get('anvil_rss_mib')} / {max((x['anvil_rss_mib'] for x in samples), default=None)} MiB",
        ),
        ("state file", f"{last.get('state_file_mib')} MiB"),
        ("issuance rate, last step", f"{last.get('rate_per_s')} eBLs/s"),
        (
            "one full dump (at the last timed one)",
            f"{d.get('dump_wall_s')} s wall, {d.get('dump_cpu_s')} s CPU at {d.get('ebls', 0):,} eBLs",
        ),
        ("RSS peak during that dump", f"{d.get('dump_rss_peak_mib')} MiB"),
        (
            "settled (ordinary traffic rolled the bulk blocks out): RSS / during a dump",
            "not measured"
            if not (st := result.get("settled"))
            else f"{st['anvil_rss_mib']} MiB after {st['blocks']} blocks of {p_settle(result)} issuances "
            f"(max {st['anvil_rss_max_mib']}) / peak {st['dump_rss_peak_mib']} MiB, "
            f"dump {st['dump_wall_s']} s",
        ),
        (
            "cold restart",
            "not reached"
            if not restart
            else f"{restart['cold_start_s']} s, RSS after {restart['rss_after_start_mib']} MiB, "
            f"{restart['found']} of {restart['probed']} probed eBLs found",
        ),
    ]
    lines = ["| figure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    lines += ["", "![scale: memory, state file and rate by eBLs on chain](results/scale.png)"]
    return "\n".join(lines)


KNOWN: dict[str, Report] = {
    "gas": Report(plot=plot_gas, table=table_gas),
    "reads": Report(plot=plot_reads, table=table_reads),
    "scale": Report(plot=plot_scale, table=table_scale),
    "soak": Report(plot=plot_soak, table=table_soak),
    "throughput": Report(plot=plot_throughput, table=table_throughput),
}


def replace_block(text: str, name: str, body: str) -> str:
    """Replace what lies between the ``results:<name>`` markers; the markers must exist."""
    start, end = f"<!-- results:{name} -->", f"<!-- /results:{name} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{README} has no {start} … {end} markers")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text, count=1)


def main() -> None:
    readme = README.read_text()
    for name, report in KNOWN.items():
        path = RESULTS / f"{name}.json"
        if not path.exists():
            print(f"skip {name}: {path} not found")
            continue
        result = json.loads(path.read_text())
        png = RESULTS / f"{name}.png"
        report.plot(result, png)
        readme = replace_block(readme, name, report.table(result))
        print(f"wrote {png.relative_to(BENCH.parent)} and the {name} table")
    README.write_text(readme)


if __name__ == "__main__":
    main()
