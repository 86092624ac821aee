#!/usr/bin/env python3
"""Run moto's server with Step Functions execution on and the 5.2.1 pickle bug fixed.

Why this exists
---------------
moto 5.2.1's Step Functions engine (moto.stepfunctions.parser) snapshots the
state machine for every StartExecution with ``copy.deepcopy(state_machine)``.
That copy walks ``state_machine.executions`` (earlier executions hold live
worker threads, whose locks cannot be copied) and ``state_machine.backend``
(which holds every other state machine and their executions), so every
StartExecution after the first fails with
``TypeError: cannot pickle '_thread.RLock' object``.

Upstream fixed it in moto 5.2.3 (getmoto/moto#10093) by passing a memo to
deepcopy that replaces the executions with an empty list and shares the
backend. This launcher applies the same idea at import time, without editing
site-packages: it gives moto.stepfunctions.parser.models its own ``copy``
namespace whose ``deepcopy`` seeds that memo whenever the object being copied
is a state machine. On moto versions that already carry the fix the patch is
harmless (the memo entries are what upstream passes anyway).

It also turns on ``stepfunctions.execute_state_machine`` (the same switch as
``POST /moto-api/config``) so a hand-run server executes definitions too.

By default it handles one request at a time. moto's DynamoDB backend has no
locking and werkzeug serves each request on its own thread, so concurrent
conditional UpdateItems on one item lose updates (seen with 5.2.1; real
DynamoDB applies each item write atomically). Serializing requests cannot
deadlock the Step Functions engine: executions run on their own threads and
call back over HTTP as separate requests. ``--parallel`` turns this off.

Lambda service errors on a Task whose Resource is a function ARN are named as
Step Functions names them (``Lambda.TooManyRequestsException``,
``Lambda.ServiceException``...): moto 5.2.1 names every one "Exception", so a
Retry on Lambda.TooManyRequestsException would never match a throttled
invocation on the local cloud.

Usage: python3 moto_launcher.py [--parallel] [moto_server arguments, e.g. -H 127.0.0.1 -p 5000]

MOTO_PORT, if set, is the port moto's Step Functions engine calls back for
Lambda, S3, DynamoDB... tasks; the local cloud sets it to its invoke router.
"""

import copy as _stdlib_copy
import sys
import types


def _snapshot_memo(state_machine):
    """Memo entries that keep deepcopy out of live executions and the backend."""
    memo = {}
    executions = getattr(state_machine, "executions", None)
    if executions is not None:
        memo[id(executions)] = []
    backend = getattr(state_machine, "backend", None)
    if backend is not None:
        memo[id(backend)] = backend
    # Published versions are state machines with executions of their own.
    for version in (getattr(state_machine, "versions", None) or {}).values():
        version_executions = getattr(version, "executions", None)
        if version_executions is not None:
            memo[id(version_executions)] = []
    return memo


def _patched_copy_module(state_machine_types):
    """A stand-in for the ``copy`` module as seen by moto's parser models."""

    def deepcopy(value, memo=None, _nil=[]):  # noqa: B006 (mirrors copy.deepcopy)
        if isinstance(value, state_machine_types):
            seeded = _snapshot_memo(value)
            if memo:
                seeded.update(memo)
            return _stdlib_copy.deepcopy(value, seeded)
        return _stdlib_copy.deepcopy(value, memo)

    shim = types.ModuleType("copy")
    shim.__dict__.update(_stdlib_copy.__dict__)
    shim.deepcopy = deepcopy
    shim.localcloud_patched = True
    return shim


def patch_stepfunctions_snapshot():
    """Install the deepcopy fix into moto.stepfunctions.parser.models."""
    from moto.stepfunctions import models as sfn_models
    from moto.stepfunctions.parser import models as parser_models

    state_machine_types = tuple(
        cls
        for cls in (
            getattr(sfn_models, "StateMachineInstance", None),
            getattr(sfn_models, "StateMachine", None),
        )
        if cls is not None
    )
    if not state_machine_types:
        raise RuntimeError(
            "moto_launcher: moto.stepfunctions.models has no StateMachine class; "
            "this moto version is not supported by the patch"
        )
    parser_models.copy = _patched_copy_module(state_machine_types)


def enable_state_machine_execution():
    """Same effect as POST /moto-api/config {"stepfunctions":{"execute_state_machine":true}}."""
    from moto.core.config import default_user_config

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True


def serialize_requests():
    """Handle one HTTP request at a time, so DynamoDB item writes are atomic."""
    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lock = threading.Lock()
    handle = DomainDispatcherApplication.__call__

    def serialized(self, environ, start_response):
        with lock:
            return handle(self, environ, start_response)

    DomainDispatcherApplication.__call__ = serialized


def name_lambda_service_errors():
    """Name a Lambda Invoke API error "Lambda.<code>", as Step Functions does."""
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        state_task_lambda as task,
    )

    original = task.StateTaskLambda._from_error

    def _from_error(self, env, ex):
        if not isinstance(ex, ClientError):
            return original(self, env, ex)
        error = "Lambda." + (ex.response.get("Error", {}).get("Code") or "ServiceException")
        return task.FailureEvent(
            env=env,
            error_name=task.CustomErrorName(error),
            event_type=task.HistoryEventType.LambdaFunctionFailed,
            event_details=task.EventDetails(
                lambdaFunctionFailedEventDetails=task.LambdaFunctionFailedEventDetails(
                    error=error,
                    cause=ex.response.get("Error", {}).get("Message", str(ex)),
                )
            ),
        )

    task.StateTaskLambda._from_error = _from_error


def main(argv):
    patch_stepfunctions_snapshot()
    name_lambda_service_errors()
    enable_state_machine_execution()
    if "--parallel" in argv:
        argv = [arg for arg in argv if arg != "--parallel"]
    else:
        serialize_requests()
    from moto.server import main as moto_server_main

    moto_server_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
