"""Loading, validating and selecting rulebooks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from scoring import Rulebook, RulebookError, RulebookSet, default_rulebooks, load_rulebooks
from scoring.parse import parse_rulebook
from scoring.rulebook import RULEBOOK_DIR, load_rulebook, parent_jurisdiction

SHIPPED = (RULEBOOK_DIR / "default.toml").read_text(encoding="utf-8")


def test_shipped_rulebooks_load() -> None:
    shipped = default_rulebooks()
    assert [(r.id, r.version) for r in shipped.all()] == [
        ("default", "2020.1"),
        ("default", "2026.1"),
        ("default", "2026.2"),
        ("GB", "2024.1"),
        ("GB", "2026.2"),
        ("US-CA", "2023.1"),
        ("US-CA", "2026.2"),
    ]
    assert shipped.families() == ("default", "GB", "US-CA")
    assert default_rulebooks() is shipped


def test_default_rulebook_has_the_design_values() -> None:
    rulebook = default_rulebooks().get("default", "2026.1")
    assert (rulebook.baseline, rulebook.floor, rulebook.ceiling, rulebook.credit_cap) == (
        100,
        0,
        120,
        20,
    )
    assert dict(rulebook.severity_points) == {
        "minor": 2,
        "moderate": 5,
        "serious": 12,
        "severe": 25,
    }
    assert dict(rulebook.counts_for_years) == {"minor": 1, "moderate": 2, "serious": 3, "severe": 5}
    assert (rulebook.repeat_window_years, rulebook.repeat_factor) == (3, 1.5)
    assert rulebook.remediation_factor == 0.5
    assert rulebook.commendation_counts_for_years == 2
    assert [(b.code, b.min) for b in rulebook.bands] == [
        ("E", 0),
        ("D", 40),
        ("C", 60),
        ("B", 75),
        ("A", 90),
    ]
    assert (rulebook.trusted_min, rulebook.trusted_clean_years) == (105, 3)
    assert rulebook.watchlist_bands == ("E",)
    assert (rulebook.appeal_file_within_days, rulebook.appeal_decide_within_days) == (21, 21)
    assert rulebook.official_public_years_after_term == 5
    assert rulebook.category_weight("environment") == 1.0


def test_older_default_differs_visibly() -> None:
    old = default_rulebooks().get("default", "2020.1")
    assert (old.effective_from, old.repeat_factor, old.credit_cap) == (date(2020, 1, 1), 1.25, 15)


@pytest.mark.parametrize(
    ("jurisdiction", "on", "expected"),
    [
        ("GB-WLS", date(2026, 6, 1), ("GB", "2024.1")),
        ("GB", date(2024, 1, 1), ("GB", "2024.1")),
        ("GB", date(2023, 12, 31), ("default", "2020.1")),
        ("DE", date(2026, 6, 1), ("default", "2026.1")),
        ("DE", date(2021, 3, 1), ("default", "2020.1")),
        ("DE", date(2025, 12, 31), ("default", "2020.1")),
        ("US-CA", date(2023, 7, 1), ("US-CA", "2023.1")),
        ("US-CA", date(2023, 6, 30), ("default", "2020.1")),
        ("US-NY", date(2026, 6, 1), ("default", "2026.1")),
        ("FR", date(2019, 1, 1), ("default", "2020.1")),  # before every version: the earliest
        ("default", date(2026, 1, 1), ("default", "2026.1")),
    ],
)
def test_select_walks_the_jurisdiction_chain(
    jurisdiction: str, on: date, expected: tuple[str, str]
) -> None:
    found = default_rulebooks().select(jurisdiction, on)
    assert (found.id, found.version) == expected


def test_select_with_custom_parents() -> None:
    parents = {"IM": "GB"}.get  # the Isle of Man follows GB here
    assert default_rulebooks().select("IM", date(2026, 6, 1), parents).id == "GB"
    assert default_rulebooks().select("XX", date(2026, 6, 1), lambda code: code).id == "default"


def test_parent_jurisdiction() -> None:
    assert [parent_jurisdiction(c) for c in ("GB-WLS", "GB", "US-CA-X", "default")] == [
        "GB",
        None,
        "US-CA",
        None,
    ]


def test_in_force_gives_one_version_per_family() -> None:
    shipped = default_rulebooks()
    assert [(r.id, r.version) for r in shipped.in_force(date(2026, 6, 1))] == [
        ("default", "2026.1"),
        ("GB", "2024.1"),
        ("US-CA", "2023.1"),
    ]
    assert [(r.id, r.version) for r in shipped.in_force(date(2021, 1, 1))] == [
        ("default", "2020.1")
    ]
    assert [(r.id, r.version) for r in shipped.in_force(date(2019, 1, 1))] == [
        ("default", "2020.1")
    ]


def test_get_unknown_version() -> None:
    with pytest.raises(KeyError):
        default_rulebooks().get("GB", "1999.1")


def test_to_dict_is_json_and_enough_to_rebuild_the_rulebook() -> None:
    for rulebook in default_rulebooks():
        data = json.loads(json.dumps(rulebook.to_dict()))
        assert (data["id"], data["version"]) == (rulebook.id, rulebook.version)
        del data["id"]
        data["effective_from"] = date.fromisoformat(data["effective_from"])
        assert parse_rulebook(data, "rebuilt") == rulebook


def test_rulebooks_are_hashable_and_frozen() -> None:
    rulebook = default_rulebooks().get("GB", "2024.1")
    assert len({rulebook, default_rulebooks().get("GB", "2024.1")}) == 1
    with pytest.raises(TypeError):
        rulebook.category_weights["environment"] = 9.0  # type: ignore[index]


def test_band_for_outside_the_bands_takes_the_nearest_end() -> None:
    rulebook = default_rulebooks().get("default", "2026.1")
    assert (rulebook.band_for(-5).code, rulebook.band_for(5000).code) == ("E", "A")


def write(directory: Path, name: str, text: str) -> Path:
    """Write one rulebook file and return its path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def variant(old: str, new: str, text: str = SHIPPED) -> str:
    """Return the default rulebook with one exact passage replaced."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('title = "Default rulebook"', 'title = "Default rulebook"\ncolour = "red"', "colour"),
        ("credit_cap = 20", "credit_cap = 20\nbonus = 3", "score.bonus"),
        ("severe = 25", "severe = 25\ncatastrophic = 50", "severity_points.catastrophic"),
        ("[category_weights]", "[category_weights]\nenviroment = 2", "category_weights.enviroment"),
        ('label = "Good standing"', 'label = "Good standing"\ncolour = "green"', "bands[0].colour"),
        ("ceiling = 120\n", "", "score.ceiling"),
        ("[officials]\npublic_years_after_term = 5\n", "", "officials"),
        ("severe = 25\n", "", "severity_points.severe"),
        ("severe = 5\n", "", "counts_for_years.severe"),
        ("minor = 2", "minor = -2", "severity_points.minor"),
        (
            "[category_weights]",
            "[category_weights]\nenvironment = -1",
            "category_weights.environment",
        ),
        ("minor = 1", "minor = -1", "counts_for_years.minor"),
        ("minor = 1", "minor = 0", "counts_for_years.minor"),
        ("minor = 1", "minor = 1.5", "counts_for_years.minor"),
        ("window_years = 3", "window_years = -3", "repeat.window_years"),
        ("counts_for_years = 2", "counts_for_years = -2", "commendations.counts_for_years"),
        ("credit_cap = 20", "credit_cap = -20", "score.credit_cap"),
        ("credit_cap = 20", "credit_cap = true", "score.credit_cap"),
        ("baseline = 100", 'baseline = "100"', "score.baseline"),
        ("floor = 0", "floor = 101", "score.floor"),
        ("ceiling = 120", "ceiling = 99", "score.baseline"),
        ("factor = 1.5", "factor = 0.5", "repeat.factor"),
        ("factor = 0.5", "factor = 1.5", "remediation.factor"),
        ("factor = 0.5", "factor = -0.5", "remediation.factor"),
        ('watchlist_bands = ["E"]', 'watchlist_bands = ["Z"]', "flags.watchlist_bands"),
        ("file_within_days = 21", "file_within_days = -21", "appeals.file_within_days"),
        (
            "public_years_after_term = 5",
            "public_years_after_term = -5",
            "officials.public_years_after_term",
        ),
        ('jurisdiction = "default"', 'jurisdiction = "Great Britain"', "jurisdiction"),
        ('version = "2026.1"', 'version = ""', "version"),
        ("effective_from = 2026-01-01", 'effective_from = "2026-01-01"', "effective_from"),
        ("effective_from = 2026-01-01", "effective_from = 2026-01-01T09:00:00", "effective_from"),
        ("effective_from = 2026-01-01", "effective_from = 2026-02-30", "effective_from"),
        ("below = 90", "below = 91", "bands"),
        ("below = 90", "below = 89", "bands"),
        ("min = 0", "min = 10", "bands"),
        ("below = 1000", "below = 120", "bands"),
        ("below = 1000", "below = 80", "bands[0].below"),
        ('code = "B"', 'code = "A"', "bands[1].code"),
        ("[flags]", "[flags.extra]\nx = 1\n[flags]", "flags.extra"),
    ],
)
def test_invalid_rulebook_names_file_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    write(tmp_path, "broken.toml", variant(old, new))
    with pytest.raises(RulebookError) as caught:
        load_rulebooks(tmp_path)
    message = str(caught.value)
    assert message.startswith("broken.toml: ")
    assert key in message


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("below = 90", "below = 91", "overlap"),
        ("below = 90", "below = 89", "gap"),
        ("min = 0", "min = 10", "score.floor"),
        ("below = 1000", "below = 120", "score.ceiling"),
        ("minor = 2", "minor = -2", "at least 0"),
        ("ceiling = 120\n", "", "missing key"),
        ("credit_cap = 20", "credit_cap = 20\nbonus = 3", "unknown key"),
    ],
)
def test_invalid_rulebook_says_what_is_wrong(
    tmp_path: Path, old: str, new: str, words: str
) -> None:
    with pytest.raises(RulebookError, match=words):
        load_rulebook(write(tmp_path, "broken.toml", variant(old, new)))


def test_category_weights_are_optional(tmp_path: Path) -> None:
    text = variant("# Categories not listed weigh 1.0.\n[category_weights]\n", "")
    rulebook = load_rulebook(write(tmp_path, "plain.toml", text))
    assert dict(rulebook.category_weights) == {}


def test_duplicate_jurisdiction_and_version(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", SHIPPED)
    write(tmp_path, "b.toml", variant("effective_from = 2026-01-01", "effective_from = 2027-01-01"))
    with pytest.raises(RulebookError, match=r"^b\.toml: version: .*a\.toml"):
        load_rulebooks(tmp_path)


def test_duplicate_effective_date(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", SHIPPED)
    write(tmp_path, "b.toml", variant('version = "2026.1"', 'version = "2026.2"'))
    with pytest.raises(RulebookError, match=r"^b\.toml: effective_from: .*a\.toml"):
        load_rulebooks(tmp_path)


def test_a_set_needs_a_default(tmp_path: Path) -> None:
    write(tmp_path, "GB.toml", variant('jurisdiction = "default"', 'jurisdiction = "GB"'))
    with pytest.raises(RulebookError, match="jurisdiction"):
        load_rulebooks(tmp_path)


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RulebookError, match=r"no \*\.toml"):
        load_rulebooks(tmp_path)


def test_a_directory_of_valid_files_loads(tmp_path: Path) -> None:
    write(tmp_path, "default.toml", SHIPPED)
    write(tmp_path, "GB-WLS.toml", variant('jurisdiction = "default"', 'jurisdiction = "GB-WLS"'))
    loaded = load_rulebooks(str(tmp_path))
    assert isinstance(loaded, RulebookSet)
    assert loaded.select("GB-WLS", date(2026, 6, 1)).id == "GB-WLS"
    assert loaded.select("GB", date(2026, 6, 1)).id == "default"
    assert all(isinstance(r, Rulebook) for r in loaded)
    assert len(loaded) == 2
