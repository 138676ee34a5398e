"""The app factory of each gateway worker process that ``ebl serve --workers N`` starts (see
:mod:`registry.workers`): the gateway on the chain and under the data-folder lock its supervisor holds."""

from __future__ import annotations

import os

from fastapi import FastAPI

from api.logs import configure_logging
from api.main import create_app
from registry.config import Settings
from registry.workers import WorkerPlan

__all__ = ["create_worker_app"]


def create_worker_app() -> FastAPI:
    """One worker's gateway (uvicorn calls this in every worker process).

    Raises:
        ConfigurationError: the process was not started by ``ebl serve --workers``.
    """
    configure_logging(os.environ.get("EBL_LOG_LEVEL", "INFO"))  # a spawned process starts unconfigured
    return create_app(settings=Settings(), worker=WorkerPlan.from_env())
