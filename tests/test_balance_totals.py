"""The side totals a live re-plan sums (B1), kept flat, are the ones summed by region pair.

`balance.add_work_flat` replaced `add_work_seconds` on the engine's hot path (issue 12): the
same additions in the same order, so the same floats, whatever the work and its order.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backrub.atlas import default_atlas
from backrub.session import balance

ATLAS = default_atlas()
REGIONS = sorted(r.id for r in ATLAS.regions)
# Fractions of a second as the live clock leaves them, so the order of additions matters.
work_items = st.tuples(
    st.lists(st.sampled_from(REGIONS), min_size=0, max_size=4).map(tuple),
    st.floats(0, 300, allow_nan=False).map(lambda s: round(s, 3)),
)


@settings(max_examples=200, deadline=None)
@given(done=st.lists(work_items, max_size=30), pending=st.lists(work_items, max_size=60))
def test_flat_side_totals_are_the_totals_by_pair(
    done: list[tuple[tuple[str, ...], float]], pending: list[tuple[tuple[str, ...], float]]
) -> None:
    by_pair: balance.SideTotals = {}
    balance.add_work_seconds(by_pair, done, ATLAS)
    balance.add_work_seconds(by_pair, pending, ATLAS)
    slots = balance.side_slots(ATLAS)
    flat = slots.empty()
    balance.add_work_flat(flat, done, slots)
    balance.add_work_flat(flat, pending, slots)
    totals = slots.totals(flat)
    for base, (left, right) in by_pair.items():
        assert totals[base] == (left, right)
    # A pair no work touched has nothing on either side (and so owes nothing).
    assert all(totals[base] == (0.0, 0.0) for base in set(totals) - set(by_pair))
