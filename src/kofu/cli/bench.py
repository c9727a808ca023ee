"""``kofu bench``: the benchmarks; figures go to docs/benchmarks.md with the command."""

from __future__ import annotations

import os
import platform
from typing import Annotated, Any

import typer

from kofu.cli.common import emit

app = typer.Typer(help="Measure: seed, render, ocsp, issuance.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="print one JSON object")]


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


@app.command("seed")
def seed(
    city: Annotated[str, typer.Option("--city")] = "112186",
    residents: Annotated[int, typer.Option()] = 150_000,
    seed: Annotated[int, typer.Option()] = 1,
    as_json: Json = False,
) -> None:
    """Build a city of RESIDENTS on SQLite, then on PostgreSQL when reachable (target < 60 s)."""
    from kofu.bench.seed import bench_seed

    result = bench_seed(
        code=city, residents=residents, seed=seed, postgres_url=os.environ.get("KOFU_DATABASE_URL")
    )
    result["machine"] = _machine()
    if as_json:
        emit(result)
        return
    for backend in ("sqlite", "postgresql"):
        r = result[backend]
        if "skipped" in r:
            typer.echo(f"{backend:<10} skipped: {r['skipped']}")
        else:
            rate = r["residents_per_second"]
            typer.echo(
                f"{backend:<10} {r['residents']:,} residents in {r['seconds']} s ({rate:,}/s)"
            )


@app.command("render")
def render(
    seconds: Annotated[float, typer.Option(help="measuring time per type and way")] = 2.0,
    as_json: Json = False,
) -> None:
    """Documents per second per certificate type on one core, and the ratio to the plain way."""
    from kofu.bench.render import bench_render

    result = bench_render(seconds=seconds)
    result["machine"] = _machine()
    if as_json:
        emit(result)
        return
    for name, r in result["types"].items():
        ours, plain = r["docs_per_second"], r["plain_docs_per_second"]
        typer.echo(f"{name:<14} {ours:>7.1f} docs/s   plain {plain:>6.1f}/s   x{r['ratio']}")
    typer.echo(f"minimum ratio x{result['min_ratio']} (target x{result['target_ratio']})")


@app.command("ocsp")
def ocsp(
    revoked: Annotated[int, typer.Option(help="revoked serials in the large case")] = 1_000_000,
    seconds: Annotated[float, typer.Option(help="measuring time per case")] = 2.0,
    as_json: Json = False,
) -> None:
    """OCSP responses per second on one core at 100 and N revoked serials, against RSA-2048."""
    from kofu.bench.ocsp import bench_ocsp

    result = bench_ocsp(revoked=revoked, seconds=seconds)
    result["machine"] = _machine()
    if as_json:
        emit(result)
        return
    for key, value in result.items():
        typer.echo(f"{key:<32} {value}")


@app.command("issuance")
def issuance(
    kiosks: Annotated[int, typer.Option(help="kiosk threads, one card each")] = 8,
    requests: Annotated[int, typer.Option(help="issuances in all")] = 400,
    seconds: Annotated[float, typer.Option(help="stop after this long in any case")] = 120,
    workers: Annotated[int, typer.Option(min=1, max=16, help="worker processes a service")] = 2,
    chaos: Annotated[
        bool,
        typer.Option(
            help="also abandon, fail and resend prints, restart the city mid-run, check the ledger"
        ),
    ] = False,
    rate: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="offer this many issuances a second (latency counts from when each is due)",
        ),
    ] = None,
    per_visit: Annotated[
        int,
        typer.Option(
            min=0,
            max=10,
            help="certificates per PIN entry on the card (0: the PIN once per kiosk, "
            "the card's own work kept out of the figures)",
        ),
    ] = 0,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="run the services on this PostgreSQL database, in schemas dropped afterwards",
        ),
    ] = None,
    as_json: Json = False,
) -> None:
    """End-to-end store issuances through the real services over mTLS: rate, latency, errors."""
    from kofu.bench.issuance import bench_issuance

    if database_url is not None and not database_url.startswith("postgresql"):
        raise typer.BadParameter("only a postgresql:// URL", param_hint="--database-url")
    result = bench_issuance(
        kiosks=kiosks,
        requests=requests,
        seconds=seconds,
        workers=workers,
        chaos=chaos,
        rate=rate,
        per_visit=per_visit,
        database_url=database_url,
    )
    result["machine"] = _machine()
    if as_json:
        emit(result)
        return
    for key, value in result.items():
        typer.echo(f"{key:<28} {value}")


@app.command("chaos")
def chaos(
    kiosks: Annotated[int, typer.Option(min=1, help="kiosk threads, one card each")] = 2,
    requests: Annotated[int, typer.Option(min=1, help="issuances in all, at most")] = 1000,
    seconds: Annotated[
        float,
        typer.Option(min=10, help="kiosks issue this long and until the last blow is mended"),
    ] = 30,
    seed: Annotated[int, typer.Option(help="draws the schedule of kills and the freeze")] = 1,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="run the services on this PostgreSQL database, in schemas dropped afterwards; "
            "one of their server connections is ended too",
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(
            min=10,
            help="a soak: deal the schedule again every --seconds for this many seconds "
            "(bounded by --issuances as well)",
        ),
    ] = None,
    issuances: Annotated[
        int | None,
        typer.Option(min=1, help="stop after this many issuances (default: --requests)"),
    ] = None,
    as_json: Json = False,
) -> None:
    """Issue while each kind of service is killed and one frozen; reconcile center, city, fees."""
    from kofu.bench.chaos import bench_chaos

    if database_url is not None and not database_url.startswith("postgresql"):
        raise typer.BadParameter("only a postgresql:// URL", param_hint="--database-url")
    result = bench_chaos(
        kiosks=kiosks,
        requests=issuances or requests,
        seconds=seconds,
        seed=seed,
        database_url=database_url,
        duration=duration,
    )
    if as_json:
        emit(result)
        return
    for key, value in result.items():
        typer.echo(f"{key:<22} {value}")


@app.command("juki")
def juki(
    residents: Annotated[
        int, typer.Option(min=1, max=200_000, help="the city's first load")
    ] = 5_000,
    changes: Annotated[int, typer.Option(min=0, max=10_000, help="births, one at a time")] = 200,
    cities: Annotated[
        str, typer.Option(help="simulated cities reporting at once, comma-separated")
    ] = "10,100,1000",
    per_city: Annotated[int, typer.Option(min=1, max=500, help="notices each city sends")] = 5,
    seconds: Annotated[float, typer.Option(min=5, help="bound on each measurement")] = 120,
    wide_area: Annotated[
        int,
        typer.Option(
            "--wide-area", min=0, max=10_000, help="wide-area certificates to issue (0: none)"
        ),
    ] = 200,
    as_json: Json = False,
) -> None:
    """Register changes reaching the national server, and wide-area certificates per second."""
    from kofu.bench.juki import bench_juki

    counts = [int(c) for c in cities.split(",") if c.strip()]
    result = bench_juki(
        residents=residents,
        changes=changes,
        counts=counts,
        per_city=per_city,
        seconds=seconds,
        postgres_url=os.environ.get("KOFU_DATABASE_URL"),
        wide_area=wide_area,
    )
    result["machine"] = _machine()
    if as_json:
        emit(result)
        return
    for backend in ("sqlite", "postgresql"):
        r = result[backend]
        if "skipped" in r:
            typer.echo(f"{backend:<10} skipped: {r['skipped']}")
            continue
        load, ch = r["load"], r["changes"]
        typer.echo(
            f"{backend:<10} load {load['records']:,} records at {load['records_per_second']:,}/s; "
            f"{ch['changes']} changes lag p50 {ch.get('lag_p50_s')} s p99 {ch.get('lag_p99_s')} s"
        )
        for c in r["cities"]:
            typer.echo(
                f"{'':<10} {c['cities']:>5} cities × {per_city}: {c['records_per_second']:,}/s, "
                f"lag p50 {c.get('lag_p50_s')} s p99 {c.get('lag_p99_s')} s"
            )
        if "wide_area" in r:
            typer.echo(f"{'':<10} wide-area {_wide_area_line(r['wide_area'])}")


def _wide_area_line(w: dict[str, Any]) -> str:
    if "skipped" in w:
        return f"skipped: {w['skipped']}"
    return (
        f"{w['certificates']} certificates at {w['per_second']}/s, p50 {w.get('p50_ms')} ms "
        f"p99 {w.get('p99_ms')} ms, {w['errors']} errors"
    )


@app.command("evaluation")
def evaluation(
    records: Annotated[int, typer.Option(help="activity records in the log")] = 10_000_000,
    as_json: Json = False,
) -> None:
    """A Fukaya sheet over RECORDS activity records, on SQLite then PostgreSQL (target < 2 s)."""
    from kofu.bench.evaluation import bench_evaluation

    if not 1 <= records <= 50_000_000:
        raise typer.BadParameter("records is 1 to 50,000,000")
    result = bench_evaluation(records, os.environ.get("KOFU_DATABASE_URL"))
    result["machine"] = _machine()
    if as_json:
        emit(result)
    else:
        for store, figures in result.items():
            typer.echo(f"{store}: {figures}")
