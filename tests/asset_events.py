"""Read the Airflow metadata DB's asset events (what dag.test's tasks emitted), for assertions."""

from __future__ import annotations

from typing import Any


def asset_events(asset_name: str) -> list[dict[str, Any]]:
    """The extra of every event on the Asset named ``asset_name``, oldest first (none: [])."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name == asset_name)
            .order_by(AssetEvent.id)
            .all()
        )
        return [dict(row.extra or {}) for row in rows]
