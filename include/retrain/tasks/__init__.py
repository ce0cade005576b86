"""Task bodies of ``retrain_<name>``, one module per task (the gates share one): each reads its
inputs by URI from the store (sha256-checked), makes one stage call, writes its outputs under the
run's folder (``include.retrain.layout``) and returns a typed manifest (``include.retrain.manifests``).

The DAG's ``@task`` functions import a body inside the task and call it through
``dags.retrain_factory.runner.run_step``, which builds the RunContext and converts the manifests
to and from XCom. Raising a :class:`~include.retrain.errors.PipelineFailure` fails the task without
retry; anything else is retried.
"""
