"""The pricing simulator: each customer's bill and margin under four plan styles, computed by hand."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import orjson
from typer.testing import CliRunner

from workmeter.app import Workmeter
from workmeter.interfaces.cli.main import app as cli
from workunit_events import at, call, load, outcome, task, template_db

HEAD = '[plan]\nkey = "{key}"\ncurrency = "USD"\ninterval = "month"\n'
PLANS = {
    "flat": '[[charge]]\nkey = "fee"\ntype = "flat"\namount = "20.00"\n',
    "markup": '[[charge]]\nkey = "tokens"\ntype = "markup"\npercent = "20"\n',
    "outcome": '[[charge]]\nkey = "res"\ntype = "per_outcome"\noutcome = "resolved"\nunit_price = "0.99"\n',
    "hybrid": ('[[charge]]\nkey = "fee"\ntype = "flat"\namount = "10.00"\n\n'
               '[[charge]]\nkey = "tokens"\ntype = "markup"\npercent = "10"\n'),
}


def history() -> list[dict]:
    return [
        task("started", "a1", at(2)), *[call("a1", at(2, 1, i), input=200_000) for i in range(5)],
        outcome("a1", at(2, 2), confirmed=True),
        task("started", "a2", at(3)), outcome("a2", at(3, 2), confirmed=True),                 # acme: $3, 2 outcomes
        task("started", "b1", at(4), customer="beta"), call("b1", at(4, 1), customer="beta", output=1_000_000),
        outcome("b1", at(4, 2), confirmed=True, customer="beta"),                              # beta: $15, 1 outcome
        call(None, at(5, month=11), customer="gamma", input=1000),                             # another month
    ]


def plan_files(folder: Path) -> list[Path]:
    paths = []
    for key, body in PLANS.items():
        path = folder / f"{key}.toml"
        path.write_text(HEAD.format(key=key) + "\n" + body)
        paths.append(path)
    return paths


def fresh(tmp_path: Path) -> Path:
    db = tmp_path / "sim.duckdb"
    shutil.copyfile(template_db(), db)
    with Workmeter.open(db) as wm:
        load(wm, history())
    return db


def test_each_customer_under_each_plan(tmp_path: Path) -> None:
    db = fresh(tmp_path)
    with Workmeter.open(db) as wm:
        result = wm.work.simulate(plan_files(tmp_path), "2026-10")
    assert result["baseline"] == "flat" and result["plans"] == ["flat", "markup", "outcome", "hybrid"]
    rows = {r["customer"]: r for r in result["customers"]}
    assert set(rows) == {"acme", "beta"}
    assert (rows["acme"]["cost"], rows["beta"]["cost"]) == (Decimal(3), Decimal(15))
    revenue = {c: {p: cell["revenue"] for p, cell in r["plans"].items()} for c, r in rows.items()}
    assert revenue == {
        "acme": {"flat": Decimal("20.00"), "markup": Decimal("3.60"), "outcome": Decimal("1.98"),
                 "hybrid": Decimal("13.30")},
        "beta": {"flat": Decimal("20.00"), "markup": Decimal("18.00"), "outcome": Decimal("0.99"),
                 "hybrid": Decimal("26.50")}}
    acme_markup = rows["acme"]["plans"]["markup"]
    assert (acme_markup["margin"], acme_markup["margin_rate"], acme_markup["change"]) == (
        Decimal("0.60"), Decimal("0.166667"), Decimal("-16.40"))


def test_summary_revenue_margin_winners_losers_spread(tmp_path: Path) -> None:
    db = fresh(tmp_path)
    with Workmeter.open(db) as wm:
        summary = {s["plan"]: s for s in wm.work.simulate(plan_files(tmp_path), "2026-10")["summary"]}
    got = {p: (s["revenue"], s["margin"], s["margin_rate"], s["customers_pay_more"], s["customers_pay_less"],
               s["change_min"], s["change_max"]) for p, s in summary.items()}
    assert got == {
        "flat": (Decimal(40), Decimal(22), Decimal("0.55"), 0, 0, Decimal(0), Decimal(0)),
        "markup": (Decimal("21.60"), Decimal("3.60"), Decimal("0.166667"), 0, 2, Decimal("-16.40"), Decimal(-2)),
        "outcome": (Decimal("2.97"), Decimal("-15.03"), Decimal("-5.060606"), 0, 2, Decimal("-19.01"),
                    Decimal("-18.02")),
        "hybrid": (Decimal("39.80"), Decimal("21.80"), Decimal("0.547739"), 1, 1, Decimal("-6.70"),
                   Decimal("6.50")),
    }


def test_cli_json_and_csv(tmp_path: Path) -> None:
    db = fresh(tmp_path)
    out = tmp_path / "sim.csv"
    args = ["--db", str(db), "simulate", "--plans", *map(str, plan_files(tmp_path)), "--period", "2026-10",
            "--csv", str(out), "--json"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    result = orjson.loads(res.stdout)
    assert result["summary"][1]["plan"] == "markup" and result["summary"][1]["revenue"] == "21.6"
    with out.open() as fh:
        rows = {r["customer"]: r for r in csv.DictReader(fh)}
    assert rows["beta"]["hybrid revenue"] == "26.5" and rows["acme"]["outcome margin"] == "-1.02"
