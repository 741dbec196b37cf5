"""What the mojibake repairs share: when a repair counts as one, and the lost-byte marker."""

from __future__ import annotations

from cleankit.text.plausibility import ChineseModel

# A repair must improve the mean log-probability per character by at least this much,
# and reach this level (ordinary Chinese scores -4 to -8; debris -13 and below).
MIN_GAIN = 2.0
PLAUSIBLE_CHINESE = -13.5
# A byte known to have been there, whose value was lost.
WILDCARD = -1


def reads_better(
    model: ChineseModel, old: str, new: str, gain: float = MIN_GAIN, floor: float = PLAUSIBLE_CHINESE
) -> bool:
    """The repair reads better by ``gain`` per character, and reads as Chinese at all."""
    score = model.score(new)
    return score >= model.score(old) + gain and score > floor
