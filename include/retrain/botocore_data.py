"""botocore's parsed data files (service models, endpoints), parsed once per process and inherited by forks.

Each new boto3 session parses botocore's S3 model and endpoint JSON again: measured in a real
Airflow task of ``make airflow``'s shape, a third of a small task's CPU (about 0.3 s). Sessions
share one data loader instead (:func:`use_shared_loader`, as the Amazon provider does for its
async sessions), and the LocalExecutor's forkserver fills that loader before it forks
(:func:`parse_s3_client_data`, called by ``include/retrain/preload.py``), so a task parses none.

Only botocore (and boto3, inside the function) is imported: the forkserver keeps this module
loaded, so an edit to it reaches tasks after a scheduler restart, as a library upgrade does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.loaders


@cache
def shared_loader(data_path: str | None) -> botocore.loaders.Loader:
    """One botocore data loader per process and ``AWS_DATA_PATH``: it caches every file it parsed."""
    return botocore.loaders.create_loader(data_path)


def use_shared_loader(session: Any) -> None:
    """Make the boto3 ``session`` read botocore's data through the process's shared loader."""
    # boto3 keeps its botocore session private; the Amazon provider registers its shared loader
    # on its sessions the same way (base_aws).
    botocore_session = session._session
    botocore_session.register_component("data_loader", shared_loader(botocore_session.get_config_variable("data_path")))


def parse_s3_client_data() -> bool:
    """Fill the shared loader with what making an S3 client parses; False if that could not be done.

    One S3 client is made and dropped, offline: placeholder credentials and a region are given,
    so no credential provider or metadata endpoint is asked, and a client sends nothing until it
    is used. Making a real client later still works without this (it parses what it needs); a
    failure here (an ``AWS_PROFILE`` that does not exist, say) is the task's to report, not the
    worker's: a warm-up must never stop the forkserver, so any error is returned as False.
    """
    import boto3
    from botocore.config import Config

    try:
        session = boto3.Session(aws_access_key_id="preload", aws_secret_access_key="preload", region_name="us-east-1")
        use_shared_loader(session)
        session.client("s3", config=Config(retries={"mode": "standard"}))
    except Exception:
        return False
    return True
