"""Evals of an assistant: its test cases, its runs (paged, newest first), a run's results.

Cases and runs are listed by the assistant's *base* id; results by the run's id.
"""
from __future__ import annotations

from api import models as m
from api.endpoints import Endpoint, endpoint, list_endpoint, path


def eval_cases(base_id: str) -> Endpoint[list[m.EvalCase]]:
    return list_endpoint(m.EvalCase, path("/playbooks/{}/eval-cases", base_id), None, "items")


def eval_runs(base_id: str, *, page: int = 1, page_size: int = 10) -> Endpoint[m.EvalRunPage]:
    """One page of the runs (``page`` counts from 1)."""
    params = {"page": str(page), "page_size": str(page_size)}
    return endpoint(m.EvalRunPage, path("/playbooks/{}/eval-runs", base_id), params)


def eval_results(run_id: str) -> Endpoint[list[m.EvalResult]]:
    """A run's per-case results, each with its assertions."""
    return list_endpoint(m.EvalResult, path("/eval-runs/{}/results", run_id), None,
                         "items", "results")
