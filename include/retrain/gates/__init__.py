"""Great Expectations gates between stages: suites from config, validation, reports.

GX logs its internals at INFO: about 200 "Skipping registering function ..." lines when it is
imported, then notes on each ephemeral context it builds. In a task log they would bury the gate's
own result, so the ``great_expectations`` logger starts at WARNING (its warnings and errors still
show), unless the deployment's logging config has already set a level for it. One module pins its
own logger at INFO, so each gate still logs the temporary folder of its context's data docs.
"""

import logging

_GX_LOGGER = logging.getLogger("great_expectations")
if _GX_LOGGER.level == logging.NOTSET:
    _GX_LOGGER.setLevel(logging.WARNING)
