"""``[core] hostname_callable`` of the cluster suite's workers: each reports its own node name.

Both workers run on one machine, so the real host name would not tell them apart; each worker's
environment names its node (``RETRAIN_NODE_NAME``) and task instances record it as ``hostname``.
"""

from __future__ import annotations

import os
import socket


def node_name() -> str:
    return os.environ.get("RETRAIN_NODE_NAME") or socket.getfqdn()
