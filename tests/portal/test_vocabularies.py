"""The portal's closed vocabularies spell the scoring engine's, in its order."""

from __future__ import annotations

from portal.models import Nature, RecordStatus, Severity
from scoring.model import NATURES, SEVERITIES, STATUSES


def test_the_models_enums_are_the_scoring_vocabularies():
    assert tuple(Severity) == SEVERITIES
    assert tuple(Nature) == NATURES
    assert tuple(RecordStatus) == STATUSES
