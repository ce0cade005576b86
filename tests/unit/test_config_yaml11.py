"""YAML 1.1 turns unquoted yes/no/on/off into booleans; the config error says so and shows the quoted form."""

from __future__ import annotations

from pathlib import Path

import pytest

from include.retrain.config import load_pipeline
from include.retrain.errors import ConfigError

CHURN_YAML = Path(__file__).resolve().parents[2] / "include" / "pipelines" / "churn.yaml"


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "churn.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    assert str(path) in str(info.value)
    return info.value.problems


def churn_with(old: str, new: str) -> str:
    text = CHURN_YAML.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


def test_unquoted_no_yes_in_values(tmp_path: Path) -> None:
    text = churn_with(
        "    region: {type: category, values: [north, south, east, west], max_null_fraction: 0.05}\n",
        "    region: {type: category, values: [north, south, east, west], max_null_fraction: 0.05}\n"
        "    partner: {type: category, values: [No, Yes]}\n",
    )
    line = text.splitlines().index("    partner: {type: category, values: [No, Yes]}") + 1

    problems = problems_of(tmp_path, text)

    assert problems == [
        "dataset.columns.partner.values[0]: the boolean False, not text: YAML 1.1 reads unquoted No as a boolean; "
        f"write 'No' in quotes (line {line})",
        "dataset.columns.partner.values[1]: the boolean True, not text: YAML 1.1 reads unquoted Yes as a boolean; "
        f"write 'Yes' in quotes (line {line})",
    ]


def test_quoted_values_are_text(tmp_path: Path) -> None:
    path = tmp_path / "churn.yaml"
    path.write_text(
        churn_with(
            "    signup_date: {type: date}\n",
            "    signup_date: {type: date}\n    partner: {type: category, values: ['No', \"Yes\", 'off']}\n",
        )
    )
    assert load_pipeline(path).dataset.columns["partner"].values == ("No", "Yes", "off")


def test_off_as_a_text_value_and_every_other_problem_at_once(tmp_path: Path) -> None:
    text = churn_with("  days: 28\n", "  days: many\n").replace(
        "values: [basic, standard, premium]", "values: [basic, off, premium]"
    )

    problems = problems_of(tmp_path, text)

    assert any(
        p.startswith("dataset.columns.plan.values[1]: the boolean False") and "write 'off' in quotes" in p
        for p in problems
    )
    assert any(p.startswith("window.days: ") for p in problems)


def test_an_unquoted_positive_class_of_a_text_target(tmp_path: Path) -> None:
    text = churn_with(
        "    churned: {type: int, min: 0, max: 1}\n", "    churned: {type: category, values: ['Yes', 'No']}\n"
    )
    text = text.replace("  id_column: customer_id\n", "  id_column: customer_id\n  positive_class: Yes\n")

    problems = problems_of(tmp_path, text)

    assert len(problems) == 1
    assert problems[0].startswith("dataset.positive_class: the boolean True, not text: YAML 1.1 reads unquoted Yes")
    assert "write 'Yes' in quotes" in problems[0]


def test_an_unquoted_in_set_value_of_a_text_column(tmp_path: Path) -> None:
    text = churn_with(
        "      - {column: tenure_months, mean_between: [10, 40], severity: warn}\n",
        "      - {column: tenure_months, mean_between: [10, 40], severity: warn}\n"
        "      - {column: plan, in_set: [basic, standard, premium, ON]}\n",
    )

    [problem] = problems_of(tmp_path, text)

    assert problem.startswith("expectations.raw.checks[2].in_set[3]: the boolean True, not text")
    assert "write 'ON' in quotes" in problem


def test_a_key_read_as_a_boolean_shows_its_quoted_form(tmp_path: Path) -> None:
    text = churn_with(
        "    region: {type: category,", "    No: {type: category, values: [a]}\n    region: {type: category,"
    )

    [problem] = problems_of(tmp_path, text)

    assert problem.startswith("dataset.columns: a key reads as the boolean false: YAML 1.1 reads unquoted No")
    assert "write 'No' in quotes" in problem
