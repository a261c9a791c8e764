"""Scores through the public API: explained, reproducible by outsiders, and as of any date."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import select

from portal.cli import cli
from portal.demo import load_demo
from portal.models import Entity
from portal.services.access import Actor
from portal.services.history import score_as_of
from portal.services.records import record_by_ref, withdraw_record
from tests.factories import make_agency, make_entity, make_record

# --- an outsider's implementation, from the published methodology alone ----------------


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _select(rulebooks: list[dict], jurisdiction: str, on: date) -> dict:
    """The methodology's selection rule: own, then parent's, then default; latest in force."""
    chain = [jurisdiction]
    while "-" in chain[-1]:
        chain.append(chain[-1].rsplit("-", 1)[0])
    for code in [*chain, "default"]:
        versions = [
            r
            for r in rulebooks
            if r["jurisdiction"] == code and date.fromisoformat(r["effective_from"]) <= on
        ]
        if versions:
            return max(versions, key=lambda r: r["effective_from"])
    return min(
        (r for r in rulebooks if r["jurisdiction"] == "default"), key=lambda r: r["effective_from"]
    )


def _age(decided: date, years: int, on: date) -> float:
    until = _add_years(decided, years)
    full = decided + (until - decided) / 2
    if on < full:
        return 1.0
    if on >= until:
        return 0.0
    return (until - on).days / (until - full).days


def outsider_score(rulebook: dict, records: list[dict], on: date) -> float:
    """Recompute a score from the API's JSON only."""
    live = [r for r in records if r["status"] == "published"]
    deductions = credits = 0.0
    for r in live:
        decided = date.fromisoformat(r["decided_on"])
        base = rulebook["severity_points"][r["severity"]]
        base *= rulebook["category_weights"].get(r["category"], 1.0)
        if r["nature"] == "commendation":
            years = rulebook["commendations"]["counts_for_years"]
            credits += base if on < _add_years(decided, years) else 0.0
            continue
        earlier = [
            o
            for o in live
            if o["nature"] == "violation"
            and o["category"] == r["category"]
            and (o["decided_on"], o["ref"]) < (r["decided_on"], r["ref"])
            and date.fromisoformat(o["decided_on"])
            >= _add_years(decided, -rulebook["repeat"]["window_years"])
        ]
        repeat = rulebook["repeat"]["factor"] if earlier else 1.0
        remedied = r["remediated_on"] and date.fromisoformat(r["remediated_on"]) <= on
        remediation = rulebook["remediation"]["factor"] if remedied else 1.0
        age = _age(decided, rulebook["counts_for_years"][r["severity"]], on)
        deductions += base * repeat * remediation * age
    limits = rulebook["score"]
    raw = limits["baseline"] - deductions + min(credits, limits["credit_cap"])
    return round(min(max(raw, limits["floor"]), limits["ceiling"]), 2)


def test_fifty_demo_scores_recomputed_from_the_public_api_alone(client, db, app):
    load_demo(db, app.config["DATA_DIR"], entities=400, seed=11, progress=False)
    with db.session() as session:
        slugs = session.exec(select(Entity.slug).order_by(Entity.id)).all()
    methodology = client.get("/api/v1/methodology").get_json()
    today = date.fromisoformat(methodology["as_of"])
    chosen = random.Random(5).sample(slugs, 50)
    mismatches, checked_records = [], 0
    for slug in chosen:
        entity = client.get(f"/api/v1/entities/{slug}").get_json()
        records = client.get(f"/api/v1/entities/{slug}/records?per_page=100").get_json()
        assert records["total"] == len(records["items"])
        checked_records += records["total"]
        rulebook = _select(methodology["all"], entity["jurisdiction"], today)
        assert entity["score"]["rulebook"] == {"id": rulebook["id"], "version": rulebook["version"]}
        mine = outsider_score(rulebook, records["items"], today)
        if abs(mine - entity["score"]["value"]) > 0.011:
            mismatches.append((slug, mine, entity["score"]["value"]))
        with db.session() as session:
            stored = session.exec(select(Entity.score).where(Entity.slug == slug)).one()
        assert stored == entity["score"]["value"]
    assert mismatches == []
    assert checked_records > 100  # the sample is not all empty records


# --- score as of a date, rebuilt from the change log --------------------------------------


def _at(day: str) -> time_machine.travel:
    return time_machine.travel(datetime.fromisoformat(day).replace(tzinfo=UTC), tick=False)


def test_a_record_counts_between_publication_and_withdrawal(client, db):
    with _at("2026-03-10T10:00"), db.writing() as session:
        agency = make_agency(
            session, "cnil", name="CNIL", jurisdiction="FR", categories=["data_protection"]
        )
        entity = make_entity(session, name="Dupont SARL", jurisdiction="FR")
        ref = make_record(session, agency, entity, severity="serious", decided_on="2026-03-01").ref
    with _at("2026-06-15T10:00"), db.writing() as session:
        withdraw_record(session, Actor.cli(), record_by_ref(session, ref), "Issued in error.")
    url = "/api/v1/entities/dupont-sarl/score?as_of="
    before = client.get(url + "2026-03-09").get_json()
    april = client.get(url + "2026-04-20").get_json()
    july = client.get(url + "2026-07-01").get_json()
    assert before["value"] == 100.0 and before["contributions"] == []
    assert april["value"] == 88.0  # default 2026.1: serious = 12 points, full weight
    assert [c["record"] for c in april["contributions"]] == [ref]
    assert july["value"] == 100.0 and july["contributions"] == []


def test_the_rulebook_in_force_on_the_date_is_used(client, db):
    with _at("2024-03-01T09:00"), db.writing() as session:
        agency = make_agency(
            session, "aepd", name="AEPD", jurisdiction="ES", categories=["data_protection"]
        )
        entity = make_entity(session, name="Ejemplo S.L.", jurisdiction="ES")
        for decided in ("2024-01-10", "2024-02-10"):
            make_record(session, agency, entity, severity="minor", decided_on=decided)
    old = client.get("/api/v1/entities/ejemplo-s-l/score?as_of=2024-04-01").get_json()
    new = client.get("/api/v1/entities/ejemplo-s-l/score?as_of=2026-01-05").get_json()
    assert old["rulebook"] == {"id": "default", "version": "2020.1"}
    assert new["rulebook"] == {"id": "default", "version": "2026.1"}
    # 2020.1: minor 2 + repeat 2 x 1.25; both expired (1 year) by 2026.
    assert old["value"] == 95.5
    assert new["value"] == 100.0


def test_as_of_today_from_the_log_equals_the_stored_score(db, app):
    load_demo(db, app.config["DATA_DIR"], entities=200, seed=4, progress=False)
    today = datetime.now(UTC).date()
    with db.session() as session:
        entities = session.exec(select(Entity).order_by(Entity.id)).all()
        differing = [
            (e.slug, e.score, score_as_of(session, e, today).value)
            for e in entities
            if score_as_of(session, e, today).value != e.score
        ]
    assert differing == []


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("as_of=2026-13-01", 400, "bad_request"),
        ("as_of=yesterday", 400, "bad_request"),
        ("as_of=2999-01-01", 422, "invalid"),
    ],
)
def test_bad_dates_are_json_errors(client, db, query, status, code):
    with db.writing() as session:
        make_entity(session, name="Acme Ltd")
    response = client.get(f"/api/v1/entities/acme-ltd/score?{query}")
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_unknown_entity_and_bad_paging_are_json_errors(client, db):
    assert client.get("/api/v1/entities/nobody/score").status_code == 404
    with db.writing() as session:
        make_entity(session, name="Acme Ltd")
    response = client.get("/api/v1/entities/acme-ltd/records?per_page=1000")
    assert response.status_code == 400
    assert "per_page must be between 1 and 100" in response.get_json()["error"]["message"]


def test_the_score_explains_what_changes_next_and_what_remediation_restores(client, db):
    with db.writing() as session:
        agency = make_agency(session)
        entity = make_entity(session)
        ref = make_record(session, agency, entity, severity="serious").ref
    score = client.get("/api/v1/entities/acme-widgets-ltd/score").get_json()
    (contribution,) = score["contributions"]
    assert contribution["record"] == ref
    assert contribution["points"] == -14.4  # GB: 12 x data_protection 1.2
    assert contribution["remediation_would_restore"] == 7.2
    decided = date.today() - timedelta(days=30)
    fade, stop = score["next_changes"]
    assert fade["reason"] == "starts to fade" and stop["reason"] == "stops counting"
    assert stop["on"] == decided.replace(year=decided.year + 3).isoformat()
    assert stop["value"] == 100.0


def test_recompute_restores_every_stored_score(app, db):
    load_demo(db, app.config["DATA_DIR"], entities=120, seed=2, progress=False)
    with db.session() as session:
        truth = dict(session.exec(select(Entity.id, Entity.score)).all())
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE entity SET score = 1, band = 'E' WHERE id % 3 = 0"))
    env = {"PORTAL_DATA_DIR": app.config["DATA_DIR"], "DATABASE_URL": app.config["DATABASE_URL"]}
    result = CliRunner().invoke(cli, ["scores", "recompute"], env=env)
    assert result.exit_code == 0, result.output
    assert "Rescored 120 entities, 40 scores changed" in result.output
    with db.session() as session:
        assert dict(session.exec(select(Entity.id, Entity.score)).all()) == truth
