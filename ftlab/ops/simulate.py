"""Simulated users for A/B tests: request logs whose true win rates are known.

Each user is routed by :func:`ftlab.ops.ab_test.choose_version` and makes a
few requests; each request wins with the user's own rate, drawn once per
user from a Beta distribution whose mean is the version's rate (some users
are easy to please, some never are): the correlation within a user that real
traffic has, which an analysis must respect.  A Beta keeps the mean exactly
at the version's rate, where adding a normal offset and clipping to [0, 1]
would pull it toward 0.5.  Tests measure the analysis's false-positive rate and power on these
logs; a notebook shows a test on them where no real users are.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ftlab.errors import FtlabError
from ftlab.ops.ab_test import choose_version
from ftlab.ops.request_log import RequestRecord


def simulate_ab_traffic(n_users: int, weights: Mapping[str, float], win_rates: Mapping[str, float],
                        requests_per_user: int = 5, user_spread: float = 0.15, experiment: str = "ab",
                        seed: int = 0, start: float = 0.0) -> list[RequestRecord]:
    """``n_users`` users (ids ``user-0``...) split by ``weights``, ``requests_per_user`` requests each on average
    (1 to twice that, uniformly), each a win with the user's rate: mean ``win_rates[version]``, spread
    ``user_spread`` (standard deviation across users); one request a second from ``start``."""
    for version, rate in win_rates.items():
        if not 0 < rate < 1 or user_spread ** 2 >= rate * (1 - rate):
            raise FtlabError(f"win_rates[{version!r}]={rate}: a rate strictly between 0 and 1 whose spread across "
                             f"users (user_spread={user_spread}) is below sqrt(rate * (1 - rate)).")
    rng = np.random.default_rng(seed)
    records = []
    clock = start
    for i in range(n_users):
        user = f"user-{i}"
        version = choose_version(user, weights, experiment)
        mean = win_rates[version]
        if user_spread > 0:
            concentration = mean * (1 - mean) / user_spread ** 2 - 1  # a Beta's variance is m(1-m)/(c+1)
            rate = float(rng.beta(mean * concentration, (1 - mean) * concentration))
        else:
            rate = mean
        for j in range(int(rng.integers(1, 2 * requests_per_user + 1))):
            clock += 1.0
            records.append(RequestRecord(user=user, version=version, prompt=f"question {j} of {user}",
                                         answer="", time=clock, id=f"{user}-{j}", experiment=experiment,
                                         win=bool(rng.random() < rate)))
    return records
