"""The data template (``xbsim template``) and the results workbook (``xbsim export --xlsx``).

The template must match the canonical tables exactly, since sellers fill it and the
importer reads it back. The export must read back as the parquet tables it came from,
after the normalisation ``excel_view`` documents (what Excel can and cannot hold).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from experiments.cli import data_template, export
from experiments.cli.main import main
from experiments.data.excel import SheetNames
from experiments.data.export import ExportError, export_workbook
from experiments.data.tables import TABLES
from experiments.data.template import COLUMNS_HEADER, README, TYPES, write_template
from sim.plan import load_plan, save_plan

TINY = Path(__file__).parent / "data" / "tiny.yaml"
MARKETS = ["US", "FR"]


def quiet(function, *args) -> tuple[object, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result = function(*args)
    return result, out.getvalue(), err.getvalue()


def command(add_arguments, run, *argv) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    code, out, err = quiet(run, parser.parse_args([str(a) for a in argv]))
    assert isinstance(code, int)
    return code, out, err


def expected_columns(name: str, markets: list[str]) -> list[str]:
    table = TABLES[name]
    pattern = [table.pattern.name.replace("<MARKET>", m) for m in markets] \
        if table.pattern is not None else []
    return [c.name for c in table.columns] + pattern


# --- template -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("template")
    written = write_template(directory, MARKETS)
    assert written[0] == directory / "xbsim_data.xlsx"
    assert sorted(p.name for p in written[1:]) == sorted(f"{n}.csv" for n in TABLES)
    return directory


def test_template_has_a_sheet_per_table_with_exactly_its_columns(template):
    workbook = openpyxl.load_workbook(template / "xbsim_data.xlsx")
    assert workbook.sheetnames == [README, *TABLES]
    for name in TABLES:
        sheet = workbook[name]
        header = [cell.value for cell in sheet[1]]
        assert header == expected_columns(name, MARKETS), name
        assert all(TABLES[name].column(column) is not None for column in header)
        assert sheet.max_row == 1 and sheet.freeze_panes == "A2"
        assert all(cell.font.b for cell in sheet[1])
    assert workbook["skus"]["H1"].value == "price_US"


def test_readme_documents_every_column(template):
    rows = list(openpyxl.load_workbook(template / "xbsim_data.xlsx")[README]
                .iter_rows(values_only=True))
    start = rows.index(COLUMNS_HEADER) + 1
    documented = {(r[0], r[1]): r for r in rows[start:]}
    wanted = [(name, column) for name in TABLES for column in expected_columns(name, MARKETS)]
    assert list(documented) == wanted
    for (name, column_name), row in documented.items():
        column = TABLES[name].column(column_name)
        assert column is not None
        _, _, meaning, unit, kind, required, example = row
        assert meaning == column.meaning and (unit or "") == column.unit
        assert kind == TYPES[column.kind] and required == ("yes" if column.required else "no")
        assert str(example or "") == column.example or float(example) == float(column.example)
    text = " ".join(str(r[0]) for r in rows[:start])
    assert "Required: skus" in text and "orders" in text


def test_csv_headers_match_the_sheets(template):
    workbook = openpyxl.load_workbook(template / "xbsim_data.xlsx")
    for name in TABLES:
        with open(template / "csv" / f"{name}.csv", newline="", encoding="utf-8") as f:
            assert list(csv.reader(f)) == [[c.value for c in workbook[name][1]]]


def test_template_markets_come_from_the_base_scenario_else_defaults(tmp_path):
    code, out, _ = command(data_template.add_arguments, data_template.template_command,
                           tmp_path / "a", "--scenario", TINY)
    assert code == 0 and "US, DE" in out
    assert pd.read_csv(tmp_path / "a" / "csv" / "skus.csv").columns[-2:].tolist() == \
        ["price_US", "price_DE"]
    code, _, _ = command(data_template.add_arguments, data_template.template_command,
                         tmp_path / "b")
    assert code == 0
    assert pd.read_csv(tmp_path / "b" / "csv" / "skus.csv").columns[-3:].tolist() == \
        ["price_US", "price_DE", "price_UK"]


@pytest.mark.parametrize("argv", [["--market", "U S"], ["--market", "US", "--market", "US"],
                                  ["--scenario", "no_such.yaml"]])
def test_template_bad_input_is_one_line_and_exit_2(tmp_path, argv):
    code, _, err = command(data_template.add_arguments, data_template.template_command,
                           tmp_path, *argv)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "xbsim_data.xlsx").exists()


# --- export ---------------------------------------------------------------------------

def excel_view(expected: pd.Series, actual: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Both columns as Excel can hold them, after checking the workbook kept the type.

    Excel has one number type (so int32 and int64 are the same, and a float column of whole
    numbers reads back as integers), keeps 16 significant digits, holds integers beyond
    2**53 only as text, has no categories (their labels are text), has one date-time type
    (dates read back as midnight timestamps, in nanoseconds), and cannot tell an empty
    string from an empty cell. (Integers beyond 2**53 are text in the workbook; pandas
    reads such digits back as integers.)
    """
    actual = actual.reset_index(drop=True)
    expected = expected.reset_index(drop=True)
    kind = expected.dtype.kind if isinstance(expected.dtype, np.dtype) else None
    inferred = pd.api.types.infer_dtype(expected, skipna=True)
    if pd.api.types.is_bool_dtype(expected.dtype):
        assert actual.dtype == bool or actual.isna().all()
        return expected.astype(object), actual.astype(object)
    if pd.api.types.is_datetime64_any_dtype(expected.dtype) or inferred in ("date",
                                                                             "datetime"):
        assert pd.api.types.is_datetime64_any_dtype(actual.dtype) or actual.isna().all()
        return (pd.to_datetime(expected).astype("datetime64[ns]"),
                pd.to_datetime(actual).astype("datetime64[ns]"))
    if pd.api.types.is_integer_dtype(expected.dtype):
        assert actual.dtype.kind == "i"  # pandas reads the digits of a large integer back
        return expected.astype("int64"), actual.astype("int64")
    if kind == "f":
        assert actual.dtype.kind in "if" or actual.isna().all()
        return expected, actual.astype("float64")

    def text(series: pd.Series) -> pd.Series:
        values = series.astype(object)
        return values.where(values.notna() & values.ne(""), None).map(
            lambda v: v if v is None else str(v))
    return text(expected), text(actual)


def assert_same_table(expected: pd.DataFrame, actual: pd.DataFrame) -> None:
    assert [str(c) for c in actual.columns] == [str(c) for c in expected.columns]
    assert len(actual) == len(expected)
    pairs = [excel_view(expected[c], actual[c]) for c in expected.columns]
    left = pd.DataFrame({c: p[0] for c, p in zip(expected.columns, pairs, strict=True)})
    right = pd.DataFrame({c: p[1] for c, p in zip(expected.columns, pairs, strict=True)})
    pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-15, atol=0)


def read_back(workbook: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    sheets = pd.read_excel(workbook, sheet_name=None)
    return sheets.pop("contents"), sheets


def table_from(contents: pd.DataFrame, sheets: dict[str, pd.DataFrame], source: str,
               content: str = "table") -> pd.DataFrame:
    """A table put back together from its sheets, in the contents sheet's order."""
    names = contents.loc[(contents.source == source) & (contents.content == content), "sheet"]
    assert len(names), f"{source}: no sheet"
    return pd.concat([sheets[n] for n in names], ignore_index=True)


def check_every_table(directory: Path, workbook: Path) -> None:
    contents, sheets = read_back(workbook)
    parquets = sorted(directory.rglob("*.parquet"))
    assert parquets
    for path in parquets:
        source = path.relative_to(directory).as_posix()
        assert_same_table(pd.read_parquet(path), table_from(contents, sheets, source))
    for path in directory.rglob("*.json"):
        assert path.relative_to(directory).as_posix() in set(contents.source)
    assert list(contents.sheet) == [s for s in sheets]
    assert all(len(name) <= 31 for name in contents.sheet)
    assert contents.sheet.str.lower().is_unique


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "run"
    code, _, err = quiet(main, ["run", str(TINY), "--out", str(out), "--days", "20",
                                "--no-report"])
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def optimise_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "channels"
    code, _, err = quiet(main, ["optimize", "channels", str(TINY), "--out", str(out),
                                "--no-report", "--evaluate", "2"])
    assert code == 0, err
    assert (out / "evaluation" / "manifest.json").exists()
    return out


def test_run_round_trip(run_dir):
    code, out, _ = command(export.add_arguments, export.export_command, run_dir, "--xlsx")
    assert code == 0 and out == f"workbook: {run_dir / 'results.xlsx'}\n"
    check_every_table(run_dir, run_dir / "results.xlsx")
    contents, sheets = read_back(run_dir / "results.xlsx")
    assert contents.sheet.tolist()[:6] == ["daily", "ledger", "listings", "orders", "shipments",
                                           "tickets"]
    summary = sheets["summary"].set_index("key")["value"]
    assert summary["orders"] == len(pd.read_parquet(run_dir / "orders.parquet"))
    assert pd.api.types.is_datetime64_any_dtype(sheets["orders"]["order_date"])


def test_optimise_round_trip_with_plan_and_evaluation(optimise_dir, tmp_path):
    workbook = export_workbook(optimise_dir, tmp_path / "out.xlsx")
    check_every_table(optimise_dir, workbook)
    contents, sheets = read_back(workbook)
    plan = load_plan(optimise_dir / "plan.yaml")
    shipments = pd.DataFrame([line.model_dump() for line in plan.shipments])
    assert_same_table(shipments, table_from(contents, sheets, "plan.yaml", "plan shipments"))
    fulfilment = pd.DataFrame([line.model_dump() for line in plan.fulfilment])
    assert_same_table(fulfilment, table_from(contents, sheets, "plan.yaml", "plan fulfilment"))
    summary = sheets["plan"].set_index("key")["value"]
    assert summary["kind"] == "channels"
    assert summary["objective_cny"] == pytest.approx(plan.objective_cny, rel=1e-15)
    containers = sheets["plan.containers"]
    assert containers.containers.sum() == sum(plan.containers.values())
    manifest = sheets["evaluation.manifest"].set_index("key")["value"]
    seeds = pd.read_parquet(optimise_dir / "evaluation" / "replications.parquet").seed
    assert [int(manifest[f"replication_seeds.{i}"]) for i in range(len(seeds))] == \
        seeds.tolist()


def test_a_long_table_is_split_over_numbered_sheets(run_dir, tmp_path):
    directory = tmp_path / "ledger"
    directory.mkdir()
    shutil.copy(run_dir / "ledger.parquet", directory)
    rows = len(pd.read_parquet(directory / "ledger.parquet"))
    count = -(-rows // 100)
    assert count > 2
    contents, sheets = read_back(export_workbook(directory, max_rows=100))
    assert contents.sheet.tolist() == [f"ledger ({i})" for i in range(1, count + 1)]
    assert contents.rows.sum() == rows and (contents.rows <= 100).all()
    assert contents.note.iloc[1] == f"part 2 of {count}: rows 101-200 of {rows:,}"
    assert all(len(sheet) <= 100 for sheet in sheets.values())
    check_every_table(directory, directory / "results.xlsx")


def test_awkward_values_keep_their_meaning(tmp_path):
    frame = pd.DataFrame({
        "seed": pd.Series([2**62 + 1, 3], dtype="int64"),
        "count": pd.Series([1, None], dtype="Int64"),
        "x": [1.5, np.inf],
        "label": pd.Series(["=SUM(A1)", "#N/A"], dtype="string"),
        "kind": pd.Categorical(["a", None]),
        "when": pd.to_datetime(["2026-01-01 06:30", None]).tz_localize("Asia/Shanghai"),
        "flag": [True, False],
    })
    long = "a_rather_long_table_name_that_excel_cuts"
    for name in ("summary", f"{long}_one", f"{long}_two"):
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    (tmp_path / "summary.json").write_text('{"a": {"b": [1, 2]}, "c": {}}')
    contents, sheets = read_back(export_workbook(tmp_path))
    assert contents.sheet.tolist() == ["a_rather_long_table_name_that_e",
                                       "a_rather_long_table_name_that~2", "summary",
                                       "summary~2"]
    back = sheets["summary"]
    assert back.seed.tolist() == [2**62 + 1, 3]
    cells = openpyxl.load_workbook(tmp_path / "results.xlsx")["summary"]
    assert [c.data_type for c in cells["A"][1:]] == ["s", "s"]
    assert cells["A2"].value == str(2**62 + 1)
    assert [(c.value, c.data_type) for c in cells["D"][1:]] == [("=SUM(A1)", "s"),
                                                                 ("#N/A", "s")]
    assert (cells["C3"].value, cells["C3"].data_type) == ("inf", "s")
    assert back["count"].isna()[1] and back.kind.tolist()[0] == "a"
    assert back.when[0] == pd.Timestamp("2026-01-01 06:30") and back.flag.dtype == bool
    assert sheets["summary~2"].values.tolist() == [["a.b.0", 1], ["a.b.1", 2], ["c", "{}"]]


def test_plan_containers_are_split_into_lane_mode_and_week(optimise_dir, tmp_path):
    plan = load_plan(optimise_dir / "plan.yaml").model_copy(update={"containers": {
        "SZ->US_WH sea_fcl week 3": 2.0, "SZ->US_WH sea_fcl": 5.0}})
    save_plan(plan, tmp_path / "plans" / "point_00.yaml")
    contents, sheets = read_back(export_workbook(tmp_path))
    assert contents.sheet.tolist()[0] == "plans.point_00"
    containers = sheets["plans.point_00.containers"]
    assert containers.astype(object).where(containers.notna(), None).values.tolist() == [
        ["SZ->US_WH", "sea_fcl", 3, 2], ["SZ->US_WH", "sea_fcl", None, 5]]


def test_a_directory_without_tables_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    code, _, err = command(export.add_arguments, export.export_command, tmp_path, "--xlsx")
    assert code == 2 and err == f"error: {tmp_path}: no result tables (*.parquet) or plans " \
                                "to export\n"
    with pytest.raises(ExportError, match="no such directory"):
        export_workbook(tmp_path / "missing")


def test_sheet_names_are_unique_whatever_the_case():
    names = SheetNames()
    taken = [names.take(n) for n in ("Orders", "orders", "a/b:c", "History", "x" * 40)]
    assert taken == ["Orders", "orders~2", "a_b_c", "History~2", "x" * 31]
