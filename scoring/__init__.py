"""Pure scoring engine: versioned rulebooks and the explainable score formula (DESIGN §4)."""

from scoring.engine import is_public, score, upcoming_changes
from scoring.model import Band, Contribution, EntityFacts, RecordFacts, Score, ScoreChange
from scoring.rulebook import (
    Rulebook,
    RulebookError,
    RulebookSet,
    default_rulebooks,
    load_rulebooks,
)

__all__ = [
    "Band",
    "Contribution",
    "EntityFacts",
    "RecordFacts",
    "Rulebook",
    "RulebookError",
    "RulebookSet",
    "Score",
    "ScoreChange",
    "default_rulebooks",
    "is_public",
    "load_rulebooks",
    "score",
    "upcoming_changes",
]
