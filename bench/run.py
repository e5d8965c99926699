"""`make bench`: the pipeline against DuckDB's own load of the same files, at several sizes.

For each size, in one run: (a) the baseline — DuckDB's `read_csv` of every file into a lines table;
(b) the whole pipeline through Dagster (`python -m orchestration.cli run`, every asset and gate) in a
fresh warehouse; (c) per-stage times from the run's own Dagster event log; (d) peak RSS of the run's
process tree, sampled every 0.2 s; (e) incremental runs, each after one new ~1 MB file lands (three by
default, since one run's time varies by seconds on a shared machine: the median is reported), each
followed by one handed to the resident runner (`python -m orchestration.cli serve`, whose standby has
its imports done; `--no-resident` for none); (f) at the
`--spark-sizes` (100 MB by default) the same dbt project built on Spark (local[2]) and on DuckDB, each
as one `dbt build` process from the same sources, and the text analysis on Spark. Writes the table,
the machine's description and a chart to docs/benchmarks.md / docs/img/benchmarks.png.

    python -m bench.run --sizes 10MB,100MB [--spark-sizes 100MB] [--incremental-runs 3] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import psutil

from bench.corpus import CorpusStats, generate, one_file, parse_size
from orchestration.cli import command_env, warehouse_summary
from orchestration.resident import RESIDENT_ENV, serving, wait_ready
from orchestration.settings import PROJECT_ROOT, Settings

#: Dagster step keys -> the stage names of the report (in pipeline order).
STAGES = {
    "raw_files_and_lines": "load",
    "ge_raw_gate": "gate raw",
    "dbt_staging": "dbt staging",
    "ge_staging_gate": "gate staging",
    "dbt_intermediate": "dbt intermediate",
    "ge_intermediate_gate": "gate intermediate",
    "text_analysis": "text analysis",
    "ge_analysis_gate": "gate analysis",
    "dbt_marts": "dbt marts",
    "ge_marts_gate": "gate marts",
    "quality__report": "report",
    "quality__analytics_copy": "publish",
}


@dataclass
class PipelineRun:
    seconds: float
    peak_rss_mb: float
    success: bool
    stages: dict[str, float] = field(default_factory=dict)
    lines: int = 0
    headlines: int = 0
    matching: str = ""  # how the run matched headlines: full, incremental or none, and why
    peak_rss_stage: str = ""  # the stage running when the process tree's RSS peaked
    resident: bool = False  # run by the resident runner's standby (imports done), not a new process


@dataclass
class SparkRun:
    """The dbt project on Spark against DuckDB, from the same sources (one `dbt build` each)."""

    success: bool
    parquet_export_seconds: float  # writing the raw layer and the analysis tables as Parquet
    dbt_duckdb_seconds: float
    dbt_spark_seconds: float
    analysis_spark_seconds: float  # language, topics, features (applyInArrow), then matching
    analysis_rows: int = 0  # rows written over the analysis and matching tables
    analysis_pipeline_seconds: float = 0.0  # the same work in the DuckDB pipeline run it follows
    #: the whole Dagster job on the spark target (dbt, text analysis, gates on Spark), from a copy of
    #: the DuckDB run's warehouse (raw layer loaded): its seconds, peak RSS and steps
    job: PipelineRun | None = None
    pipeline_seconds_without_load: float = 0.0  # the DuckDB run it follows, less its load step
    pipeline_peak_rss_mb: float = 0.0


@dataclass
class SizeResult:
    size: str
    corpus: dict
    baseline_seconds: float
    baseline_lines: int
    full: PipelineRun
    incremental: PipelineRun | None  # the last incremental run: the warehouse is as it left it
    spark: SparkRun | None = None
    incremental_runs: list[PipelineRun] = field(default_factory=list)  # every incremental run, in order

    @property
    def cold_runs(self) -> list[PipelineRun]:
        """The incremental runs in a new process each (`python -m orchestration.cli run`)."""
        runs = self.incremental_runs or ([self.incremental] if self.incremental else [])
        return [run for run in runs if not run.resident]

    @property
    def resident_runs(self) -> list[PipelineRun]:
        """The incremental runs handed to the resident runner (`cli serve`), alternating with the others."""
        return [run for run in self.incremental_runs if run.resident]

    @property
    def incremental_seconds(self) -> list[float]:
        return [run.seconds for run in self.cold_runs]

    @property
    def incremental_median(self) -> float | None:
        return statistics.median(self.incremental_seconds) if self.incremental_seconds else None

    @property
    def resident_seconds(self) -> list[float]:
        return [run.seconds for run in self.resident_runs]

    @property
    def ratio(self) -> float:
        return self.full.seconds / self.baseline_seconds if self.baseline_seconds else float("nan")


def baseline_load(raw_dir: Path, database: Path) -> tuple[float, int]:
    """DuckDB reading every file as lines (one column, no quoting), the floor for 'text into DuckDB'."""
    database.unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect(str(database)) as con:
        con.execute(
            """
            create table lines as
            select filename as path, text
            from read_csv(?, columns = {'text': 'VARCHAR'}, header = false, delim = '\x1f', quote = '',
                          escape = '', auto_detect = false, filename = true, ignore_errors = true,
                          null_padding = true)
            """,
            [str(raw_dir / "**" / "*.txt")],
        )
        count = con.execute("select count(*) from lines").fetchall()[0][0]
    return time.perf_counter() - started, count


class _PeakRss:
    """Peak resident memory of a process and all its descendants (dbt runs as a child process)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.peak_at, self._stop = pid, 0, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
                total = 0
                for proc in procs:
                    with contextlib.suppress(psutil.Error):
                        total += proc.memory_info().rss
                if total > self.peak:
                    self.peak, self.peak_at = total, time.time()
            except psutil.Error:
                pass
            self._stop.wait(0.2)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _stage_seconds(home: Path, peak_at: float | None = None) -> tuple[dict[str, float], str, str]:
    """Step durations of the newest run, from the Dagster event log in `home`, and the text-analysis
    sub-stages its materialization records; how it matched headlines; and the stage that was running
    at `peak_at` (epoch seconds; outside the steps: the run's process start or end)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_step_stats(run.run_id)
        stages = {STAGES.get(s.step_key, s.step_key): (s.end_time or 0) - (s.start_time or 0) for s in stats}
        event = instance.get_latest_materialization_event(dg.AssetKey(["intermediate", "headline_pairs"]))
    metadata = event.asset_materialization.metadata if event else {}
    if "seconds_language_topics" in metadata:
        stages["· language + topics"] = metadata["seconds_language_topics"].value
        stages["· duplicates + stories"] = metadata["seconds_matching"].value
    running = [s for s in stats if peak_at and (s.start_time or 0) <= peak_at <= (s.end_time or 0)]
    at_peak = STAGES.get(running[0].step_key, running[0].step_key) if running else "outside the steps"
    return stages, metadata["matching"].value if "matching" in metadata else "", at_peak if peak_at else ""


INCOMING = "incoming_1mb.txt"  # the new file of the first incremental run


def incoming_name(run: int) -> str:
    """The new file of incremental run `run` (1, 2, ...): INCOMING, then incoming_1mb_2.txt, ..."""
    return INCOMING if run == 1 else INCOMING.replace(".txt", f"_{run}.txt")


def bench_env(root: Path, raw_dir: Path, **settings_overrides: object) -> dict[str, str]:
    """The environment of a CLI run on raw_dir with its warehouse and DAGSTER_HOME under root."""
    settings = Settings(
        raw_dir, root / "warehouse.duckdb", root / "quality_report", root / "analytics.duckdb",
        **settings_overrides,  # type: ignore[arg-type]
    )  # fmt: skip
    return command_env(settings, root / "dagster_home")


def run_pipeline(
    root: Path, raw_dir: Path, resident: subprocess.Popen | None = None, **settings_overrides: object
) -> PipelineRun:
    """`python -m orchestration.cli run` on raw_dir with its warehouse and DAGSTER_HOME under root
    (`settings_overrides`: other Settings fields, such as the dbt target). With `resident` (the
    resident runner of that instance, `resident_runner`) the CLI hands the run to its standby, and
    peak RSS is the runner's process tree; without, the run is in the CLI's own process."""
    home = root / "dagster_home"
    env = bench_env(root, raw_dir, **settings_overrides)
    if resident is None:
        env[RESIDENT_ENV] = "0"
    started = time.perf_counter()
    with open(root / "run.log", "a", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
        with _PeakRss(resident.pid if resident else proc.pid) as rss:
            code = proc.wait()
    seconds = time.perf_counter() - started
    stages, matching, at_peak = _stage_seconds(home, rss.peak_at if rss.peak else None)
    result = PipelineRun(
        seconds, rss.peak / 1024**2, code == 0, stages, matching=matching, peak_rss_stage=at_peak,
        resident=resident is not None,
    )  # fmt: skip
    counts = warehouse_summary(env["NEWSROOM_WAREHOUSE"])
    result.lines = counts["lines"]
    if code == 0:
        result.headlines = counts["headlines"]
    return result


def resident_runner(root: Path, raw_dir: Path) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """`python -m orchestration.cli serve` for the warehouse and instance of `run_pipeline(root,
    raw_dir)`, once its first standby is ready; stopped (SIGTERM) on exit."""
    return serving(bench_env(root, raw_dir), root / "resident.log")


def bench_spark(root: Path, raw: Path, pipeline: PipelineRun) -> SparkRun:
    """After a pipeline run in `root`: export its sources to Parquet, then `dbt build` on a copy of the
    warehouse (DuckDB, full refresh) and on Spark, then the text analysis on Spark; then the whole
    job on the spark target from a copy of the warehouse."""
    from assets import parquet_store
    from assets.analysis import KEYS
    from orchestration.spark_target import analyse_in_process, build_on_spark, dbt_process

    parquet, spark_dir = root / "parquet", root / "spark"
    shutil.rmtree(parquet, ignore_errors=True)
    shutil.rmtree(spark_dir, ignore_errors=True)
    copy = root / "dbt_duckdb.duckdb"
    shutil.copy(root / "warehouse.duckdb", copy)
    started = time.perf_counter()
    with duckdb.connect(str(copy)) as con:
        parquet_store.write_raw(con, str(parquet))
        parquet_store.write_analysis(con, str(parquet), KEYS)
    export = time.perf_counter() - started
    duck_dir = root / "dbt_duckdb"
    duck_dir.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "NEWSROOM_WAREHOUSE": str(copy),
        "NEWSROOM_DBT_TARGET": "duckdb",
        "DO_NOT_TRACK": "1",
    }
    duck_code, duck_log, dbt_duckdb = dbt_process(["build", "--full-refresh"], duck_dir, env)
    copy.unlink()
    built = build_on_spark(str(parquet), spark_dir)
    started, rows, failure = time.perf_counter(), 0, ""
    if built.success:
        try:
            counts = analyse_in_process(spark_dir, spark_dir / "analysed")
            rows = sum(n for table, n in counts.items() if table in KEYS)
        except RuntimeError as exc:
            failure = str(exc)
    analysis = time.perf_counter() - started
    ok = duck_code == 0 and built.success and rows > 0
    if not ok:
        (root / "spark.log").write_text(duck_log + built.log + failure)
    job_root = root / "spark_job"
    shutil.rmtree(job_root, ignore_errors=True)
    job_root.mkdir()
    shutil.copy(root / "warehouse.duckdb", job_root / "warehouse.duckdb")
    job = run_pipeline(
        job_root, raw, parquet=str(job_root / "parquet"), dbt_target="spark", spark_dir=job_root / "spark"
    )
    shutil.rmtree(job_root / "spark" / "scratch", ignore_errors=True)
    return SparkRun(
        ok, export, dbt_duckdb, built.seconds, analysis, rows, pipeline.stages.get("text analysis", 0.0), job,
        pipeline.seconds - pipeline.stages.get("load", 0.0), pipeline.peak_rss_mb,
    )  # fmt: skip


def bench_size(
    size_text: str,
    work: Path,
    seed: int,
    incremental: bool = True,
    spark: bool = False,
    incremental_runs: int = 3,
    resident: bool = True,
) -> SizeResult:
    """The baseline, the full run and `incremental_runs` incremental runs (each after its own new
    file) at one size, each followed by one on the resident runner (`resident`), and at Spark sizes
    the Spark builds."""
    size = parse_size(size_text)
    corpus_dir = work / f"corpus-{size_text}-seed{seed}"
    stats_file = corpus_dir.with_suffix(".json")
    if not stats_file.exists():  # generated once per size and seed, reused by later benchmarks
        shutil.rmtree(corpus_dir, ignore_errors=True)
        stats = generate(corpus_dir, size, seed)
        stats_file.write_text(json.dumps(asdict(stats)))
    stats = CorpusStats(**json.loads(stats_file.read_text()))
    root = work / f"run-{size_text}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    print(f"[{size_text}] corpus {stats.files} files, {stats.bytes / 1024**2:.1f} MB", flush=True)
    baseline_seconds, baseline_lines = baseline_load(corpus_dir, root / "baseline.duckdb")
    (root / "baseline.duckdb").unlink()
    print(f"[{size_text}] baseline {baseline_seconds:.1f} s, {baseline_lines} lines", flush=True)
    raw = root / "raw"
    # the loader does not follow symlinked folders: land the corpus as a real folder of hard links
    shutil.copytree(corpus_dir, raw, copy_function=os.link)
    full = run_pipeline(root, raw)
    print(
        f"[{size_text}] pipeline {full.seconds:.1f} s, peak RSS {full.peak_rss_mb:.0f} MB "
        f"(during {full.peak_rss_stage or '?'}), ok={full.success}",
        flush=True,
    )
    inc, inc_runs = None, []
    with contextlib.ExitStack() as stack:
        runner = (
            stack.enter_context(resident_runner(root, raw))
            if resident and incremental and full.success
            else None
        )
        # cold and resident runs alternate, so a slow hour of this machine weighs on both alike
        modes = [False, True] if runner else [False]
        for run in range(1, incremental_runs * len(modes) + 1) if incremental and full.success else ():
            on_resident = modes[(run - 1) % len(modes)]
            if runner:  # its next standby is set up and idle before the file lands, for either kind of run
                wait_ready(bench_env(root, raw), runner)
            # one new 1 MB file, landed in the corpus' latest dated folder (its news is from that day)
            latest = max(p for p in raw.iterdir() if p.is_dir())
            one_file(latest / incoming_name(run), parse_size("1MB"), seed + 999 + run)
            inc = run_pipeline(root, raw, runner if on_resident else None)
            inc_runs.append(inc)
            print(
                f"[{size_text}] incremental {run}{' (resident runner)' if on_resident else ''}: "
                f"{inc.seconds:.1f} s (matching {inc.matching})",
                flush=True,
            )
            if not inc.success:
                break
    on_spark = None
    if spark and full.success:
        on_spark = bench_spark(root, raw, full)
        job = on_spark.job
        print(
            f"[{size_text}] dbt build: DuckDB {on_spark.dbt_duckdb_seconds:.1f} s, Spark "
            f"{on_spark.dbt_spark_seconds:.1f} s; analysis on Spark {on_spark.analysis_spark_seconds:.1f} s; "
            f"the job on Spark {job.seconds:.1f} s, ok={job.success}",
            flush=True,
        )
    return SizeResult(
        size_text, asdict(stats), baseline_seconds, baseline_lines, full, inc, on_spark, inc_runs
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 1024**3
    return (
        f"{cpu}, {psutil.cpu_count()} cores, {memory:.0f} GB RAM; Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}, {platform.system()} {platform.release()}"
    )


def write_report(results: list[SizeResult], out: Path, chart: Path, rewritten: bool = False) -> None:
    """The tables, the chart and the notes. `rewritten`: from saved results, whose runs are of
    other hours (the notes date each), so the header says when the report was written, not measured."""
    stage_names = list(dict.fromkeys(name for r in results for name in r.full.stages))
    lines = [
        "# Benchmarks",
        "",
        f"{'Rewritten from saved results' if rewritten else 'Measured'} {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} "
        f"UTC by `make bench` on: {machine()}.",
        "",
        "Baseline: DuckDB's own `read_csv` of the same files into a one-column lines table. Pipeline: "
        "`python -m orchestration.cli run` into an empty warehouse — every asset and every gate. "
        "Stage times come from the run's Dagster event log; peak RSS is the run's whole process tree, "
        "with the stage that was running when it peaked.",
        "",
        "| size | files | lines | baseline s | pipeline s | ratio | peak RSS MB | incremental s (+1 file) "
        "| incremental s, resident runner |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        # a failed run's time is how long it ran before failing, not a pipeline time: no ratio
        seconds = f"{r.full.seconds:.1f}" if r.full.success else f"FAILED after {r.full.seconds:.0f}"
        ratio = f"{r.ratio:.0f}×" if r.full.success else "—"
        lines.append(
            f"| {r.size} | {r.corpus['files']} | {r.full.lines} | {r.baseline_seconds:.2f} | {seconds} "
            f"| {ratio} | {r.full.peak_rss_mb:.0f}{f' ({r.full.peak_rss_stage})' if r.full.peak_rss_stage else ''} "
            f"| {_runs_cell(r.cold_runs)} | {_runs_cell(r.resident_runs)} |"
        )
    lines += [
        "",
        "Seconds per stage (full run):",
        "",
        "| stage | " + " | ".join(r.size for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for name in stage_names:
        lines.append(
            f"| {name} | "
            + " | ".join(f"{r.full.stages[name]:.1f}" if name in r.full.stages else "—" for r in results)
            + " |"
        )
    last_runs = [
        (f"{r.size}{', resident' if run.resident else ''}", run)
        for r in results
        for run in (r.cold_runs[-1:] + r.resident_runs[-1:])
    ]
    if last_runs:
        lines += [
            "",
            "Seconds per stage (the last incremental run of each kind, after one new file):",
            "",
            "| stage | " + " | ".join(name for name, _ in last_runs) + " |",
            "|---|" + "---:|" * len(last_runs),
        ]
        for name in stage_names:
            lines.append(
                f"| {name} | " + " | ".join(f"{run.stages.get(name, 0):.1f}" for _, run in last_runs) + " |"
            )
        lines.append("| matching | " + " | ".join(run.matching or "—" for _, run in last_runs) + " |")
    with_spark = [r for r in results if r.spark]
    if with_spark:
        lines += [
            "",
            "The same dbt project on Spark (dbt-spark `method: session`, `local[2]`, on this machine) and on "
            "DuckDB: one `dbt build` process each (every seed, model and data test, from scratch) from the "
            "same sources; and the text analysis (language, topics, matching features) on Spark with "
            "`applyInArrow`, against the pipeline's own text-analysis stage (worker processes, plus matching).",
            "",
            "| size | Parquet export s | dbt build DuckDB s | dbt build Spark s | Spark ÷ DuckDB "
            "| text analysis (pipeline) s | text analysis on Spark s | Spark ÷ pipeline |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in with_spark:
            sp, analysis = r.spark, r.spark.analysis_pipeline_seconds
            lines.append(
                f"| {r.size} | {sp.parquet_export_seconds:.1f} | {sp.dbt_duckdb_seconds:.1f} "
                f"| {sp.dbt_spark_seconds:.1f} | {sp.dbt_spark_seconds / sp.dbt_duckdb_seconds:.1f}× "
                f"| {analysis:.1f} | {sp.analysis_spark_seconds:.1f} | {sp.analysis_spark_seconds / analysis:.1f}× |"
                + ("" if sp.success else " FAILED (spark.log)")
            )
        jobs = [r for r in with_spark if r.spark.job]
        if jobs:
            lines += [
                "",
                "The whole job (every asset and gate, through Dagster) on each target, from the same raw layer: "
                "the Spark run starts from a copy of the DuckDB run's warehouse, so it loads no file, and is "
                "set against the DuckDB run without its load step.",
                "",
                "| size | DuckDB job without load s | Spark job s | Spark ÷ DuckDB "
                "| peak RSS DuckDB MB | peak RSS Spark MB | Spark steps s |",
                "|---|---:|---:|---:|---:|---:|---|",
            ]
            for r in jobs:
                job, duck = r.spark.job, r.spark.pipeline_seconds_without_load
                steps = ", ".join(f"{name} {sec:.0f}" for name, sec in job.stages.items() if sec >= 1)
                lines.append(
                    f"| {r.size} | {duck:.1f} | {job.seconds:.1f} | {job.seconds / duck:.1f}× "
                    f"| {r.spark.pipeline_peak_rss_mb:.0f} | {job.peak_rss_mb:.0f} | {steps} |"
                    + ("" if job.success else " FAILED")
                )
    lines += ["", f"![time per stage against size]({os.path.relpath(chart, out.parent)})", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    body = "\n".join(lines)
    notes = out.with_name("benchmarks_notes.md")
    if notes.exists():
        body += "\n" + notes.read_text(encoding="utf-8")
    out.write_text(body, encoding="utf-8")
    _chart(results, stage_names, chart)
    (out.with_suffix(".json")).write_text(json.dumps([asdict(r) for r in results], indent=1))


def _runs_cell(runs: list[PipelineRun]) -> str:
    """Incremental runs of one kind: the median and range, or the failed run where the harness stopped."""
    seconds = [run.seconds for run in runs]
    if not runs:
        return "—"
    if not runs[-1].success:  # its time is how long it ran, not a run's time
        return f"FAILED after {seconds[-1]:.0f} (run {len(runs)})"
    if len(runs) < 2:
        return f"{seconds[0]:.1f}"
    return f"{statistics.median(seconds):.1f} (median of {len(runs)}: {min(seconds):.1f}–{max(seconds):.1f})"


def _chart(results: list[SizeResult], stage_names: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r.corpus["bytes"] / 1024**2 for r in results]
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    colours = plt.get_cmap("tab20").colors  # twelve stages: ten colours would repeat
    for i, name in enumerate(n for n in stage_names if not n.startswith("·")):
        ax.plot(
            sizes,
            [r.full.stages.get(name, 0) for r in results],
            marker="o",
            linewidth=1,
            label=name,
            color=colours[i % len(colours)],
        )
    ax.plot(
        sizes,
        [r.full.seconds for r in results],
        marker="s",
        color="black",
        linewidth=2.5,
        label="pipeline total",
    )
    ax.plot(
        sizes,
        [r.baseline_seconds for r in results],
        marker="^",
        color="grey",
        linestyle="--",
        linewidth=2,
        label="DuckDB read_csv baseline",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("raw text (MB)")
    ax.set_ylabel("seconds")
    ax.set_title("newsroom: time per stage against corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _load_result(item: dict) -> SizeResult:
    inc, spark = item.get("incremental"), item.get("spark")
    return SizeResult(
        item["size"], item["corpus"], item["baseline_seconds"], item["baseline_lines"],
        PipelineRun(**item["full"]), PipelineRun(**inc) if inc else None,
        SparkRun(**{**spark, "job": PipelineRun(**spark["job"]) if spark.get("job") else None}) if spark else None,
        [PipelineRun(**run) for run in item.get("incremental_runs", [])],  # none saved before there were several
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10MB,100MB,1GB")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=PROJECT_ROOT / "data" / "bench")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--chart", type=Path, default=PROJECT_ROOT / "docs" / "img" / "benchmarks.png")
    parser.add_argument("--no-incremental", action="store_true")
    parser.add_argument(
        "--incremental-runs", type=int, default=3, help="incremental runs per size (of each kind)"
    )
    parser.add_argument(
        "--no-resident", action="store_true", help="no incremental runs on the resident runner (`cli serve`)"
    )
    parser.add_argument("--spark-sizes", default="100MB", help="sizes also built on Spark ('' for none)")
    parser.add_argument("--report-only", type=Path, help="rewrite the report from a saved benchmarks.json")
    args = parser.parse_args(argv)
    if args.report_only:
        results = [_load_result(item) for item in json.loads(args.report_only.read_text())]
    else:
        sizes = args.sizes.split(",")
        spark_sizes = {s.strip() for s in args.spark_sizes.split(",") if s.strip()}
        results = [
            bench_size(
                s.strip(),
                args.work,
                args.seed,
                not args.no_incremental,
                s.strip() in spark_sizes,
                args.incremental_runs,
                not args.no_resident,
            )
            for s in sizes
        ]
    write_report(results, args.out, args.chart, rewritten=args.report_only is not None)
    print(args.out.read_text(encoding="utf-8"))
    return 0 if all(r.full.success for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
