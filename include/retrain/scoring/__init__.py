"""Batch scoring with the deployed model: the run's identity, the models it serves, what it writes.

``tasks.score`` is the task body of ``score_<name>``; the pure parts (which partitions, which
expectations, which columns) are in ``stages.scoring``. Paths are named in ``layout``.
"""
