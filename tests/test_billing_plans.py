"""Plans as code: the issue's example applies, mistakes are named by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from workmeter.billing.plan_files import load_plan_text
from workmeter.core.errors import InvalidPlan

PRO = """\
[plan]
key = "pro"
currency = "USD"
interval = "month"            # calendar month in the customer's timezone

[[meter]]
key = "sonnet_calls"
event_type = "llm.usage"
aggregation = "count"
filter = { model = "claude-sonnet-4-5" }

[[charge]]
key = "platform_fee"
type = "flat"                 # billed in advance
amount = "99.00"

[[charge]]
key = "tokens"
type = "markup"               # rated provider cost × (1 + percent/100)
percent = "20"

[[charge]]
key = "calls"
type = "graduated"            # also: per_unit, volume, package, percentage
meter = "sonnet_calls"
tiers = [ { up_to = 1000, unit_price = "0" }, { up_to = 100000, unit_price = "0.002" }, { unit_price = "0.001" } ]

[commitment]
minimum = "500.00"            # true-up line when usage charges fall short
maximum = "20000.00"          # cap
"""


def errors_of(text: str) -> str:
    with pytest.raises(InvalidPlan) as err:
        load_plan_text(text, "plans/pro.toml")
    return err.value.message


def test_the_example_plan_from_the_issue_loads() -> None:
    plan = load_plan_text(PRO, "plans/pro.toml")
    assert (plan.key, plan.currency, plan.interval) == ("pro", "USD", "month")
    assert [(c.key, c.type) for c in plan.charges] == [("platform_fee", "flat"), ("tokens", "markup"),
                                                       ("calls", "graduated")]
    assert (str(plan.minimum), str(plan.maximum)) == ("500.00", "20000.00")
    assert plan.meter("sonnet_calls").filters == (("model", ("claude-sonnet-4-5",)),)


def test_formatting_and_comments_do_not_change_the_content_hash() -> None:
    reformatted = PRO.replace("# cap", "# the cap").replace('percent = "20"', 'percent   =   "20"')
    assert load_plan_text(reformatted, "x").content_hash == load_plan_text(PRO, "x").content_hash
    changed = PRO.replace('percent = "20"', 'percent = "25"')
    assert load_plan_text(changed, "x").content_hash != load_plan_text(PRO, "x").content_hash


def test_unknown_charge_type_names_file_line_and_field() -> None:
    message = errors_of(PRO.replace('type = "flat" ', 'type = "flatt"'))
    assert message.startswith("plans/pro.toml:14: charge 'platform_fee': field 'type': unknown charge type 'flatt'")


def test_every_error_is_reported_with_its_line() -> None:
    bad = (PRO.replace('unit_price = "0.002"', "unit_price = 0.002")      # a float price
              .replace('percent = "20"', 'percent = "20"\nmodel = "x"')    # a misspelt field (line 21)
              .replace('minimum = "500.00"', 'minimum = "oops"'))
    lines = errors_of(bad).splitlines()
    assert lines[0].startswith("plans/pro.toml:21: charge 'tokens': field 'model': unknown field")
    assert lines[1].startswith("plans/pro.toml:27: charge 'calls': field 'tiers[1].unit_price': floats are not")
    assert lines[2].startswith("plans/pro.toml:30: commitment: field 'minimum':")


def test_a_charge_on_an_undefined_meter_is_refused() -> None:
    message = errors_of(PRO.replace('meter = "sonnet_calls"', 'meter = "opus_calls"'))
    assert "plans/pro.toml:25: charge 'calls': field 'meter': no meter 'opus_calls'" in message


def test_cost_charges_need_a_usd_plan_and_commitments_must_be_ordered() -> None:
    message = errors_of(PRO.replace('currency = "USD"', 'currency = "EUR"').replace('"20000.00"', '"100"'))
    assert "plans/pro.toml:19: charge 'tokens': field 'type': 'markup' bills rated cost, which is in USD" in message
    assert "plans/pro.toml:30: commitment: field 'maximum': must be at least the minimum" in message


def test_syntax_errors_carry_the_toml_line() -> None:
    message = errors_of(PRO.replace('amount = "99.00"', 'amount = "99.00'))
    assert message.startswith("plans/pro.toml:15: TOML syntax")


def test_missing_plan_table_and_unknown_section() -> None:
    message = errors_of('[plans]\nkey = "x"\n')
    assert "plans/pro.toml:1: plans: field 'plans': unknown section" in message
    assert "plan: field 'plan': a [plan] table with key and currency is required" in message


def test_plan_file_on_disk(tmp_path: Path) -> None:
    from workmeter.billing.plan_files import load_plan_file

    path = tmp_path / "pro.toml"
    path.write_text(PRO)
    assert load_plan_file(path).key == "pro"
    with pytest.raises(InvalidPlan, match="cannot read"):
        load_plan_file(tmp_path / "missing.toml")
