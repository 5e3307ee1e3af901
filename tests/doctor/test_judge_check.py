"""The judge endpoint check against the real local OpenAI-compatible server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from agent_backtest.doctor import Status
from agent_backtest.evalset.config import EvalSetConfig
from agent_backtest.evalset.storage import write_evalset_config
from tests.doctor.project import Project, make_project, named, only
from tests.support.openai_server import OpenAIServer, Reply

KEY_ENV = "ORDERS_JUDGE_KEY"

JUDGE_YAML = """\
id: refund_policy
kind: binary
labels: [compliant, violated]
pass: [compliant]
{model}prompt: |
  Did the agent follow the refund policy? {{{{output}}}}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    return make_project(tmp_path, monkeypatch)


def _configure(project: Project, base_url: str, model: str | None = "test-model") -> None:
    lines = f'judge_base_url = "{base_url}"\njudge_api_key_env = "{KEY_ENV}"\n'
    if model is not None:
        lines += f'judge_model = "{model}"\n'
    project.pyproject(lines)
    project.environ[KEY_ENV] = "sk-test-doctor"


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_an_answering_endpoint_is_ok_after_one_real_request(
    project: Project, openai_server: OpenAIServer
) -> None:
    _configure(project, openai_server.base_url)
    judge = only(project.results(), "judge endpoint")
    assert judge.status is Status.OK, judge
    assert f"POST {openai_server.base_url}/chat/completions (model test-model)" in judge.detail
    assert "answered 200 in" in judge.detail
    assert f"key from ${KEY_ENV}" in judge.detail
    [request] = openai_server.completion_requests
    assert request.body["model"] == "test-model"
    assert request.body["max_tokens"] == 1
    assert request.headers["authorization"] == "Bearer sk-test-doctor"


def test_only_a_base_url_lists_the_models(project: Project, openai_server: OpenAIServer) -> None:
    _configure(project, openai_server.base_url, model=None)
    judge = only(project.results(), "judge endpoint")
    assert judge.status is Status.OK
    assert judge.detail.startswith(f"GET {openai_server.base_url}/models answered 200")
    assert openai_server.completion_requests == []


def test_an_unreachable_endpoint_fails_with_the_url(project: Project) -> None:
    url = _closed_port_url()
    _configure(project, url)
    judge = only(project.results(), "judge endpoint")
    assert judge.status is Status.FAIL
    assert f"cannot reach {url}" in judge.detail
    assert judge.fix is not None
    assert "judge_base_url" in judge.fix


@pytest.mark.parametrize(
    ("reply", "fix"),
    [
        (
            Reply(status=429, headers={"Retry-After": "7"}),
            "the endpoint is rate limiting or out of quota: check the key's quota and limits, "
            "or retry after 7s",
        ),
        (Reply(status=500), "the endpoint is up but failing: check the server"),
        (Reply(status=404), "check that model 'test-model' exists there"),
    ],
    ids=["429", "500", "404"],
)
def test_an_error_status_fails_after_one_request_with_its_fix(
    project: Project, openai_server: OpenAIServer, reply: Reply, fix: str
) -> None:
    _configure(project, openai_server.base_url)
    openai_server.script(reply)
    judge = only(project.results(), "judge endpoint")
    assert judge.status is Status.FAIL
    said = f"scripted status {reply.status}"  # the server's own message, once
    assert judge.detail.endswith(f"answered HTTP {reply.status}: {said}")
    assert judge.fix is not None
    assert judge.fix.startswith(fix)
    assert len(openai_server.completion_requests) == 1  # no retries: what it answers now


def test_a_refused_missing_key_names_the_variable(
    project: Project, openai_server: OpenAIServer
) -> None:
    _configure(project, openai_server.base_url)
    del project.environ[KEY_ENV]
    openai_server.script(Reply(status=401))
    judge = only(project.results(), "judge endpoint")
    assert judge.status is Status.FAIL
    assert "HTTP 401" in judge.detail
    assert judge.fix is not None
    assert judge.fix.startswith(f"${KEY_ENV} is not set; export {KEY_ENV}=")


def test_no_key_for_the_default_openai_endpoint_fails_before_any_request(
    project: Project,
) -> None:
    (project.root / "classifiers").mkdir()
    judge_file = project.root / "classifiers" / "refund_policy.yaml"
    judge_file.write_text(JUDGE_YAML.format(model="model: gpt-4o-mini\n"))
    judge = only(project.results(), "judge endpoint")
    assert judge.status is Status.FAIL
    assert judge.detail == "no API key for the judge: $OPENAI_API_KEY is not set"
    assert judge.fix is not None
    assert "export OPENAI_API_KEY=" in judge.fix


def test_a_hanging_endpoint_times_out(project: Project, openai_server: OpenAIServer) -> None:
    _configure(project, openai_server.base_url)
    openai_server.script(Reply(hang=5))
    judge = only(project.results(timeout=0.3), "judge endpoint")
    assert judge.status is Status.FAIL
    assert "no answer within 0.3s" in judge.detail


def test_each_judge_model_is_probed(project: Project, openai_server: OpenAIServer) -> None:
    _configure(project, openai_server.base_url)
    (project.root / "classifiers").mkdir()
    judge_file = project.root / "classifiers" / "refund_policy.yaml"
    judge_file.write_text(JUDGE_YAML.format(model="model: judge-large\n"))
    inline = {"id": "polite_refusal", "kind": "binary", "model": "judge-small"}
    config = EvalSetConfig(name="orders", classifiers=["step_repetition", inline])
    write_evalset_config(config, project.evalset / "evalset.yaml")
    judges = named(project.results(), "judge endpoint")
    assert [j.status for j in judges] == [Status.OK, Status.OK]
    asked = sorted(r.body["model"] for r in openai_server.completion_requests)
    assert asked == ["judge-large", "judge-small"]


def test_a_judge_without_any_model_fails(project: Project, openai_server: OpenAIServer) -> None:
    _configure(project, openai_server.base_url, model=None)
    (project.root / "classifiers").mkdir()
    (project.root / "classifiers" / "refund_policy.yaml").write_text(JUDGE_YAML.format(model=""))
    judge = only(project.results(), "judge endpoint")
    assert judge.status is Status.FAIL
    assert "judge refund_policy" in judge.detail
    assert "names no model" in judge.detail
    assert judge.fix is not None
    assert "judge_model" in judge.fix


def test_skip_judge_sends_nothing(project: Project, openai_server: OpenAIServer) -> None:
    _configure(project, openai_server.base_url)
    judge = only(project.results(skip_judge=True), "judge endpoint")
    assert judge.status is Status.SKIP
    assert openai_server.completion_requests == []
