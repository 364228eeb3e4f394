"""Simulated users for A/B tests: request logs whose true win rates are known.

Each user is routed by :func:`ftlab.ops.ab_test.choose_version` and makes a
few requests; each request wins with the version's rate plus the user's own
offset (some users are easy to please, some never are), drawn once per user:
the correlation within a user that real traffic has, which an analysis must
respect.  Tests measure the analysis's false-positive rate and power on these
logs; a notebook shows a test on them where no real users are.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ftlab.ops.ab_test import choose_version
from ftlab.ops.request_log import RequestRecord


def simulate_ab_traffic(n_users: int, weights: Mapping[str, float], win_rates: Mapping[str, float],
                        requests_per_user: int = 5, user_spread: float = 0.15, experiment: str = "ab",
                        seed: int = 0, start: float = 0.0) -> list[RequestRecord]:
    """``n_users`` users (ids ``user-0``...) split by ``weights``, ``requests_per_user`` requests each (1 to
    twice that, uniformly), each a win with probability ``win_rates[version]`` + the user's offset (normal,
    sd ``user_spread``), clipped to [0, 1]; one request a second from ``start``."""
    rng = np.random.default_rng(seed)
    records = []
    clock = start
    for i in range(n_users):
        user = f"user-{i}"
        version = choose_version(user, weights, experiment)
        rate = float(np.clip(win_rates[version] + rng.normal(0, user_spread), 0, 1))
        for j in range(int(rng.integers(1, 2 * requests_per_user + 1))):
            clock += 1.0
            records.append(RequestRecord(user=user, version=version, prompt=f"question {j} of {user}",
                                         answer="", time=clock, id=f"{user}-{j}", experiment=experiment,
                                         win=bool(rng.random() < rate)))
    return records
