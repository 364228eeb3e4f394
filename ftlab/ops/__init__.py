"""Operations after training: versions in a model registry, A/B tests with a promotion gate, drift monitoring.

``model_registry`` keeps versions of trained runs in MLflow's model registry
(a local SQLite file by default) with aliases such as ``production`` that can
be promoted and rolled back; ``request_log`` is the record a server writes,
one JSON line per answered request; ``ab_test`` splits traffic sticky per
user, analyses the logged outcomes and decides a promotion; ``drift``
compares logged traffic with the run's training data; ``simulate`` makes A/B
logs with known win rates; ``ops_commands`` is their command line.  The HTTP
server calls these; they never call it.
"""
