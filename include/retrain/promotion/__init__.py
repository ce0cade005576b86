"""Promotion: who is champion, how it got there, and what serves.

- ``policy``: the pure decision (threshold, improvement, paired bootstrap) and version ids;
- ``scores``: registered models scored on a run's holdout next to the candidate;
- ``promote``: a candidate the policy accepts becomes champion;
- ``canary``: or first shadows the champion as the challenger;
- ``rollback``: an earlier version becomes champion again;
- ``moves``: the recorded intent a promote or a rollback carries out across retries;
- ``deploy``: ``deployed.json`` follows the champion, per strategy, and the HTTP hook;
- ``cas``: the one compare-and-swap loop behind every alias and pointer change.
"""
