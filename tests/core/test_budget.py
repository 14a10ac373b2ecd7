import pytest

from anytime_audio.core.budget import parse_budget, parse_budgets


@pytest.mark.parametrize("text,length,codes", [
    (0.25, 64, 16), ("0.25", 64, 16), ("25%", 64, 16), (64, 64, 64), ("3", 64, 3),
    (0.125, 64, 8), (1.0, 64, 64), (0.001, 64, 1),
])
def test_budgets_to_code_counts(text, length, codes):
    assert parse_budget(text).num_codes(length) == codes


def test_deadlines():
    b = parse_budget("150ms")
    assert b.is_deadline and b.seconds == pytest.approx(0.15)
    assert parse_budget("0.5s").seconds == 0.5
    assert b.folder_name == "150ms"


@pytest.mark.parametrize("bad", ["0", "-1", "1.5", "abc", "0ms", "150%", "", "0%"])
def test_bad_budgets_raise_clear_errors(bad):
    with pytest.raises(ValueError):
        parse_budget(bad)


def test_count_over_length_is_an_error_and_lists_parse():
    with pytest.raises(ValueError, match="sequence has 8"):
        parse_budget(64).num_codes(8)
    assert [b.folder_name for b in parse_budgets("[0.5,25%,16,10ms]")] == ["0.5", "0.25", "16codes", "10ms"]


# ---- one parser for every documented form, as a scalar, a list or a quoted string (issue 9)
@pytest.mark.parametrize("value,labels", [
    (0.5, ["0.5"]),                      # Hydra hands a bare `budgets=0.5` over as a float
    (4, ["4codes"]),                     # ... and `budgets=4` as an int
    ("16", ["16codes"]),                 # a quoted "16" is ONE budget of 16 codes
    ("150ms", ["150ms"]),
    ("0.2s", ["200ms"]),
    ("25%", ["0.25"]),
    ([0.25, 64], ["0.25", "64codes"]),
    ((0.125, "25%", "10ms"), ["0.125", "0.25", "10ms"]),
    ("[0.25, 64]", ["0.25", "64codes"]),
    ("0.5,25%", ["0.5", "0.25"]),
    ("['25%', \"150ms\"]", ["0.25", "150ms"]),
])
def test_parse_budgets_accepts_every_documented_form(value, labels):
    assert [b.folder_name for b in parse_budgets(value)] == labels


def test_parse_budgets_accepts_a_listconfig_and_round_trips_its_texts():
    from omegaconf import OmegaConf

    cfg = OmegaConf.create({"budgets": [0.5, "25%", 16, "150ms", 1.0]})
    parsed = parse_budgets(cfg.budgets)
    assert [b.folder_name for b in parsed] == ["0.5", "0.25", "16codes", "150ms", "1.0"]
    assert parse_budgets([b.text for b in parsed]) == parsed  # the CLI stores the texts back


@pytest.mark.parametrize("bad", [
    None, True, {"a": 1}, [], "", "[]", "16 codes", [[0.5]], "0.5,,1", 2.5, "abc", "0ms", [0.5, None], "1.5",
])
def test_parse_budgets_rejects_other_forms_naming_the_option_and_the_forms(bad):
    with pytest.raises(ValueError) as info:
        parse_budgets(bad)
    message = str(info.value)
    assert message.startswith("budgets") and "\n" not in message
    assert "25%" in message and "150ms" in message and "64" in message  # the accepted forms


@pytest.mark.parametrize("bad,says", [("0", "code count"), ("x%", "percentage"), ("0%", "percentage"),
                                      ("2.5", "fraction"), ("-5ms", "not a budget")])
def test_single_budget_errors_say_what_is_wrong(bad, says):
    with pytest.raises(ValueError, match=says):
        parse_budget(bad)


def test_parse_budgets_can_name_another_option():
    with pytest.raises(ValueError, match=r"^eval\.fractions"):
        parse_budgets("abc", name="eval.fractions")
