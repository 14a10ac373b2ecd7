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
    assert b.label == "150ms"


@pytest.mark.parametrize("bad", ["0", "-1", "1.5", "abc", "0ms", "150%", "", "0%"])
def test_bad_budgets_raise_clear_errors(bad):
    with pytest.raises(ValueError):
        parse_budget(bad)


def test_count_over_length_is_an_error_and_lists_parse():
    with pytest.raises(ValueError, match="sequence has 8"):
        parse_budget(64).num_codes(8)
    assert [b.label for b in parse_budgets("[0.5,25%,16,10ms]")] == ["0.5", "0.25", "16codes", "10ms"]
