"""Keeping the index current: batches, the seq, rebuilds, concurrent writers, damage."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from search import open_engine
from search.base import ChangeBatch, SearchQuery
from tests.search.factories import entity, index, record


def names(backend, text: str = "") -> list[str]:
    """Names of the entities found."""
    return [str(h.fields["name"]) for h in backend.query(SearchQuery(text=text)).hits]


def test_a_new_index_is_empty_at_seq_zero(backend):
    assert (backend.last_seq(), backend.count(), names(backend)) == (0, 0, [])


def test_a_batch_upserts_removes_and_records_its_seq(backend):
    index(backend, entity("Acme", key="a"), entity("Beta", key="b"), record("R-1", "Fine"))
    backend.apply(
        ChangeBatch(seq=7, upserts=(entity("Acme Renamed", key="a"),), removals=(("entity", "b"),))
    )
    assert (backend.last_seq(), backend.count(), names(backend)) == (7, 2, ["Acme Renamed"])
    assert names(backend, "acme") == ["Acme Renamed"]


def test_repeated_updates_leave_one_document(backend):
    for seq in range(1, 6):
        index(backend, entity(f"Acme {seq}", key="a"), seq=seq)
        assert names(backend, "acme") == [f"Acme {seq}"]
    assert backend.count() == 1


def test_reapplying_a_batch_changes_nothing(backend):
    batch = ChangeBatch(seq=3, upserts=(entity("Acme", key="a"),), removals=(("entity", "z"),))
    backend.apply(batch)
    backend.apply(batch)
    assert (backend.last_seq(), backend.count()) == (3, 1)


def test_a_batch_older_than_the_index_is_skipped(backend):
    index(backend, entity("Acme New", key="a"), seq=9)
    index(backend, entity("Acme Old", key="a"), seq=4)
    assert (backend.last_seq(), names(backend)) == (9, ["Acme New"])


def test_a_record_leaving_public_view_leaves_the_index(backend):
    index(backend, record("R-1", "Fine"))
    index(backend, record("R-1", "Fine", status="withdrawn"), seq=2)
    assert backend.query(SearchQuery(doc_type="record")).total == 0


def test_a_removed_record_is_gone(backend):
    index(backend, record("R-1", "Fine"), record("R-2", "Fine"))
    backend.apply(ChangeBatch(seq=2, removals=(("record", "R-1"),)))
    assert [h.key for h in backend.query(SearchQuery(doc_type="record")).hits] == ["R-2"]


def test_rebuild_replaces_everything_and_sets_the_seq(backend):
    index(backend, entity("Old", key="old"), seq=50)
    backend.rebuild(iter([entity("New", key="new"), record("R-1", "Fine")]), seq=40)
    assert (backend.last_seq(), backend.count(), names(backend)) == (40, 2, ["New"])


def test_rebuild_keeps_one_copy_of_a_repeated_key(backend):
    backend.rebuild(iter([entity("First", key="a"), entity("Second", key="a")]), seq=1)
    assert names(backend) == ["First"]


def test_disk_index_survives_reopening(disk_backend, opener, tmp_path):
    index(disk_backend, entity("Acme", key="a"), seq=5)
    disk_backend.close()
    again = opener(tmp_path / "index")
    assert (again.last_seq(), names(again)) == (5, ["Acme"])
    again.close()


def test_disk_rebuild_swaps_generations_and_deletes_the_old(disk_backend, tmp_path):
    index(disk_backend, entity("Old", key="old"))
    disk_backend.rebuild(iter([entity("New", key="new")]), seq=2)
    root = tmp_path / "index"
    generations = [p.name for p in root.glob("gen-*")]
    assert generations == [(root / "CURRENT").read_text().strip()]
    assert names(disk_backend) == ["New"]


def test_a_failed_rebuild_leaves_the_live_index(disk_backend, tmp_path):
    index(disk_backend, entity("Acme", key="a"), seq=3)

    def broken():
        yield entity("Half", key="h")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        disk_backend.rebuild(broken(), seq=9)
    assert (disk_backend.last_seq(), names(disk_backend)) == (3, ["Acme"])
    assert len(list((tmp_path / "index").glob("gen-*"))) == 1


def test_another_reader_keeps_answering_during_a_rebuild(disk_backend, opener, tmp_path):
    index(disk_backend, *(entity(f"Acme {i}", key=f"a{i}") for i in range(50)))
    reader = opener(tmp_path / "index")
    seen: list[int] = []
    errors: list[BaseException] = []
    answering, done = threading.Event(), threading.Event()

    def read() -> None:
        """Search until the rebuild is over, noting each total."""
        try:
            while not done.is_set():
                seen.append(reader.query(SearchQuery(text="acme")).total)
                answering.set()
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)
            answering.set()

    def docs():
        """The new documents, slowly, so the reader runs during the build."""
        for i in range(60):
            if i % 20 == 0:
                threading.Event().wait(0.05)
            yield entity(f"Acme {i}", key=f"a{i}")

    thread = threading.Thread(target=read)
    thread.start()
    answering.wait(10)
    disk_backend.rebuild(docs(), seq=2)
    done.set()
    thread.join()
    assert errors == []
    assert seen[0] == 50 and set(seen) <= {50, 60}
    assert reader.query(SearchQuery(text="acme")).total == 60
    reader.close()


@pytest.mark.parametrize("shared", [True, False], ids=["one-backend", "two-backends"])
def test_concurrent_writers_never_collide(disk_backend, opener, tmp_path, shared):
    writers = [disk_backend if shared else opener(tmp_path / "index") for _ in range(4)]
    errors: list[BaseException] = []

    def write(n: int) -> None:
        """Apply five batches of two entities each."""
        try:
            for i in range(5):
                docs = (entity(f"W{n} E{i} A", key=f"{n}-{i}-a"), entity("B", key=f"{n}-{i}-b"))
                writers[n].apply(ChangeBatch(seq=n * 10 + i, upserts=docs))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert disk_backend.count() >= 10  # batches older than the index are skipped
    for writer in writers:
        writer.close()


def test_concurrent_writers_in_memory_never_collide(backend):
    errors: list[BaseException] = []

    def write(n: int) -> None:
        """Apply five batches."""
        try:
            for i in range(5):
                index(backend, entity(f"E{n}{i}", key=f"{n}-{i}"), seq=100)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (errors, backend.count()) == ([], 20)


def _damage(root: Path) -> None:
    """Overwrite every file of the live generation with garbage."""
    live = root / (root / "CURRENT").read_text().strip()
    for path in live.iterdir():
        path.write_bytes(b"\x00garbage\xff" * 10)


def test_a_corrupt_index_reopens_empty_at_seq_zero(disk_backend, opener, tmp_path, caplog):
    index(disk_backend, entity("Acme", key="a"), seq=12)
    disk_backend.close()
    _damage(tmp_path / "index")
    with caplog.at_level(logging.WARNING, logger="search"):
        again = opener(tmp_path / "index")
    assert (again.last_seq(), again.count(), names(again)) == (0, 0, [])
    assert "unreadable" in caplog.text
    index(again, entity("Acme", key="a"), seq=13)
    assert names(again) == ["Acme"]
    again.close()


@pytest.mark.parametrize("garbage", ["", "gen-nonexistent", "../../etc", "\x00\xff"])
def test_a_missing_or_bad_current_pointer_opens_empty(disk_backend, opener, tmp_path, garbage):
    index(disk_backend, entity("Acme", key="a"), seq=12)
    disk_backend.close()
    (tmp_path / "index" / "CURRENT").write_text(garbage)
    again = opener(tmp_path / "index")
    assert (again.last_seq(), again.count()) == (0, 0)
    again.close()


def test_an_index_damaged_while_open_recovers(disk_backend, tmp_path):
    index(disk_backend, entity("Acme", key="a"), seq=12)
    disk_backend.close()
    _damage(tmp_path / "index")
    assert disk_backend.last_seq() == 0


def test_a_failed_batch_changes_nothing_and_the_next_one_works(backend):
    index(backend, entity("Acme", key="a"), seq=1)
    broken = entity("Broken", key="b")
    object.__setattr__(broken, "name", None)
    with pytest.raises(TypeError):
        index(backend, entity("Beta", key="c"), broken, seq=2)
    assert (backend.last_seq(), names(backend)) == (1, ["Acme"])
    index(backend, entity("Beta", key="c"), seq=3)
    assert (backend.last_seq(), names(backend)) == (3, ["Acme", "Beta"])


def test_a_key_upserted_and_removed_in_one_batch_is_removed(backend):
    index(backend, entity("Acme", key="a"))
    batch = ChangeBatch(seq=2, upserts=(entity("Acme 2", key="a"),), removals=(("entity", "a"),))
    backend.apply(batch)
    assert backend.count() == 0


def test_open_backend_creates_a_missing_directory(tmp_path):
    engine = open_engine("whoosh", tmp_path / "a" / "b" / "index")
    assert (engine.last_seq(), engine.count()) == (0, 0)
    assert (tmp_path / "a" / "b" / "index" / "CURRENT").exists()
    engine.close()
