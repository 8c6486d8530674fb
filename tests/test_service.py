"""The warm checker service: other processes' checks answered by one loaded Checker (real models, real sockets)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # flows/ is a folder of the checkout, not an installed package
    sys.path.insert(0, str(ROOT))

from corroborate.check.checker import Article, Checker  # noqa: E402
from corroborate.corpus.dedup import content_hash  # noqa: E402
from corroborate.corpus.embed import load_embedder  # noqa: E402
from corroborate.corpus.index import sync_index  # noqa: E402
from corroborate.corpus.passages import split_passages  # noqa: E402
from corroborate.corpus.records import NewDocument  # noqa: E402
from corroborate.corpus.store import Store  # noqa: E402
from corroborate.errors import ConfigError  # noqa: E402
from corroborate.service import (  # noqa: E402
    ADDRESS_NAME,
    KEY_NAME,
    SOCKET_NAME,
    CheckerService,
    ServiceClient,
    ServiceUnavailable,
    connect_service,
)
from corroborate.settings import Settings, load_settings  # noqa: E402

ARTICLES = {
    "https://a.example/bridge": ("a.example", "The city council approved a new bridge over the river on Monday. "
                                 "Construction starts in spring and will take two years. The mayor called it a "
                                 "historic day."),
    "https://b.example/flood": ("b.example", "Heavy rain flooded the lower town overnight. Firefighters pumped water "
                                "from dozens of cellars. No one was hurt, the fire brigade said."),
    "https://c.example/flood": ("c.example", "Firefighters pumped water out of dozens of flooded cellars in the lower "
                                "town after a night of heavy rain. Nobody was injured."),
}
CLAIM = "Firefighters pumped water from dozens of cellars after heavy rain flooded the lower town."

# a flow run's process: it finds the service from the data folder alone and must not load any model
CHILD = """
import json, sys
from corroborate.service import connect_service
from corroborate.settings import load_settings

client = connect_service(load_settings({"home": sys.argv[1]}, environ={}), timeout=10)
assert client is not None, "no checker service answered"
result = client.check_claim(sys.argv[2]).to_dict()
print(json.dumps({"result": result, "models_imported": "torch" in sys.modules}, default=str))
"""

# a service in a process of its own, to kill or stop
SERVER = """
import sys, time
from corroborate.service import CheckerService
from corroborate.settings import load_settings

service = CheckerService(load_settings({"home": sys.argv[1]}, environ={}), preload=False).start()
print("ready", flush=True)
time.sleep(600)
"""


def _settings(home: Path) -> Settings:
    return load_settings({"home": home}, environ={})


def _add(store: Store, url: str, outlet: str, text: str) -> None:
    doc = NewDocument(url=url, canonical_url=url, outlet=outlet, text=text, content_hash=content_hash(text),
                      title=text.split(".")[0])
    store.add_document(doc, split_passages(text, 2, 1, 400))


def _json(data: dict[str, Any]) -> Any:
    return json.loads(json.dumps(data, default=str))


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = _settings(tmp_path_factory.mktemp("home"))
    with Store(settings.store_path) as store:
        for url, (outlet, text) in ARTICLES.items():
            _add(store, url, outlet, text)
        sync_index(store, load_embedder(), settings)
    return settings


@pytest.fixture(scope="module")
def service(settings: Settings) -> Iterator[CheckerService]:
    with CheckerService(settings, log=lambda m: None) as service:
        yield service


@pytest.fixture(scope="module")
def in_process(settings: Settings) -> Iterator[Checker]:
    checker = Checker.open(settings, log=lambda m: None)
    yield checker
    checker.close()


def _start_server(home: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(home)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_other_processes_get_the_same_verdict_without_loading_models(
    settings: Settings, service: CheckerService, in_process: Checker
) -> None:
    expected = _json(in_process.check_claim(CLAIM).to_dict())
    assert {e["url"] for e in expected["evidence"]} >= {"https://b.example/flood", "https://c.example/flood"}
    for _ in range(2):  # two flow runs, two processes
        child = subprocess.run([sys.executable, "-c", CHILD, str(settings.home), CLAIM], cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
        assert child.returncode == 0, child.stderr[-2000:]
        answer = json.loads(child.stdout)
        assert answer["result"] == expected
        assert not answer["models_imported"]
    assert service.loads == 1, "the service loaded its checker once for both processes"


def test_an_article_check_matches_the_in_process_one(
    settings: Settings, service: CheckerService, in_process: Checker
) -> None:
    article = Article(ARTICLES["https://c.example/flood"][1], "Cellars pumped dry", outlet="c.example",
                      source="flood.txt")
    client = connect_service(settings, timeout=10)
    assert client is not None
    assert _json(client.check_article(article).to_dict()) == _json(in_process.check_article(article).to_dict())


def test_library_errors_come_back_as_themselves(settings: Settings, service: CheckerService) -> None:
    client = connect_service(settings, timeout=10)
    assert client is not None
    with pytest.raises(ConfigError, match="^the claim is empty$"):
        client.check_claim("   ")
    with pytest.raises(ConfigError, match="the limit is 2,000"):
        client.check_claim("word " * 1000)


def test_only_the_key_holder_is_answered(settings: Settings, service: CheckerService) -> None:
    home = settings.home.resolve()
    assert service.address == home / SOCKET_NAME
    assert stat.S_IMODE(os.stat(home / KEY_NAME).st_mode) == 0o600
    assert stat.S_IMODE(os.lstat(home / SOCKET_NAME).st_mode) == 0o600
    with pytest.raises(AuthenticationError):
        Client(str(service.address), family="AF_UNIX", authkey=secrets.token_bytes(32))
    with pytest.raises(ServiceUnavailable):
        ServiceClient(service.address, secrets.token_bytes(32), connect_timeout=10).ping()
    assert connect_service(settings, timeout=10) is not None, "a refused peer does not stop the service"
    # a service with other settings would judge by them: not used
    assert connect_service(settings.replace(stance_min_confidence=settings.stance_min_confidence + 0.1)) is None


def test_check_task_asks_the_service(settings: Settings, service: CheckerService, in_process: Checker,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    import flows.check

    result = flows.check.check_claim_task.fn(CLAIM, settings)
    assert f"using the warm checker service at {service.address}" in capsys.readouterr().err
    assert result.to_dict() == in_process.check_claim(CLAIM).to_dict()
    assert settings.home.resolve() not in flows.check._CHECKERS, "no Checker was loaded in the flow's process"


def test_killed_or_stopped_services_are_absent(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert connect_service(settings) is None
    proc = _start_server(tmp_path)
    try:
        client = connect_service(settings, timeout=10)
        assert client is not None
        with pytest.raises(ConfigError, match="already answers"):
            CheckerService(settings, preload=False).start()
        os.kill(proc.pid, signal.SIGSTOP)
        started = time.monotonic()
        assert connect_service(settings, timeout=1) is None
        assert time.monotonic() - started < 5
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
        proc.wait(10)
    assert (tmp_path / SOCKET_NAME).exists() and (tmp_path / KEY_NAME).exists(), "a killed service leaves its files"
    started = time.monotonic()
    assert connect_service(settings) is None
    assert time.monotonic() - started < 5  # refused at once; the bound only says it does not hang
    with pytest.raises(ServiceUnavailable):
        client.check_claim(CLAIM)
    with CheckerService(settings, preload=False) as fresh:  # takes the stale files over
        assert connect_service(settings, timeout=10) is not None
        assert fresh.loads == 0
    assert not (tmp_path / SOCKET_NAME).exists() and not (tmp_path / KEY_NAME).exists()


def test_a_service_killed_mid_check_is_unavailable(tmp_path: Path) -> None:
    proc = _start_server(tmp_path)
    try:
        client = connect_service(_settings(tmp_path), timeout=10)
        assert client is not None
        raised: list[BaseException] = []

        def ask() -> None:
            try:
                client.check_claim(CLAIM)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                raised.append(exc)

        asking = threading.Thread(target=ask)
        asking.start()
        # the service opens the store, then loads its models for this claim: killed before it answers
        deadline = time.monotonic() + 30
        while not (tmp_path / "corroborate.db").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.kill()
        asking.join(30)
        assert not asking.is_alive()
        assert len(raised) == 1 and isinstance(raised[0], ServiceUnavailable), raised
    finally:
        proc.kill()
        proc.wait(10)


def test_a_long_data_folder_path_gets_a_short_socket(tmp_path: Path) -> None:
    home = tmp_path / ("long-folder-name-" * 6)
    settings = _settings(home)
    with CheckerService(settings, preload=False) as service:
        assert (home / ADDRESS_NAME).read_bytes() == os.fsencode(service.address)
        assert not (home / SOCKET_NAME).exists()
        assert connect_service(settings, timeout=10) is not None
    assert not (home / ADDRESS_NAME).exists() and not service.address.parent.exists()


# `corroborate check` in a process of its own: prints whether torch (the models) was imported
CLI_CHILD = """
import sys
from corroborate.cli import main

try:
    main(sys.argv[1:])
except SystemExit as exc:
    print(f"exit={exc.code} torch={'torch' in sys.modules}", file=sys.stderr)
"""


def _cli(home: Path, *args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORROBORATE_") or k == "CORROBORATE_CHECKER_DAEMON"}
    env["CORROBORATE_HOME"] = str(home)
    command = ["-c", script] if script else ["-m", "corroborate.cli"]
    return subprocess.run([sys.executable, *command, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_cli_check_asks_the_warm_service(settings: Settings, service: CheckerService, in_process: Checker) -> None:
    loads = service.loads
    one = _cli(settings.home, "--debug", "check", CLAIM, "--json", script=CLI_CHILD)
    assert "exit=0 torch=False" in one.stderr, one.stderr[-3000:]
    assert f"using the warm checker service at {service.address}" in one.stderr
    assert json.loads(one.stdout) == _json(in_process.check_claims([CLAIM])[0].to_dict())
    assert service.loads == loads, "the service's models answered; nothing was loaded again"


def test_cli_batches_and_articles_show_progress(settings: Settings, service: CheckerService, in_process: Checker,
                                                tmp_path: Path) -> None:
    claims = [CLAIM, "The city council approved a new bridge over the river.", "A volcano erupted on Mars."]
    (tmp_path / "claims.txt").write_text("\n".join(claims) + "\n", encoding="utf-8")
    batch = _cli(settings.home, "check", "--file", str(tmp_path / "claims.txt"), "--jsonl")
    assert batch.returncode == 0, batch.stderr[-3000:]
    expected = [_json(r.to_dict()) for r in in_process.check_claims(claims)]
    assert [json.loads(line) for line in batch.stdout.splitlines()] == expected, "stdout is only the results"
    assert "check: 3/3" in batch.stderr and "checked 3 claims in" in batch.stderr
    assert "warm checker service" not in batch.stderr, "which checker answered is said only with --debug"

    article = tmp_path / "flood.txt"
    article.write_text("Cellars pumped dry\n\n" + ARTICLES["https://c.example/flood"][1] + "\n", encoding="utf-8")
    report = _cli(settings.home, "--debug", "article", str(article), "--json")
    assert report.returncode == 0, report.stderr[-3000:]
    assert f"using the warm checker service at {service.address}" in report.stderr
    data = json.loads(report.stdout)
    n = data["article"]["claims"]
    assert n >= 1 and f"article: {n}/{n}" in report.stderr and f"checked {n} claims in" in report.stderr
    here = in_process.check_article(Article(ARTICLES["https://c.example/flood"][1], "Cellars pumped dry",
                                            source=str(article)))
    assert data["claims"] == _json(here.to_dict())["claims"]


def test_progress_is_told_after_each_batch(in_process: Checker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("corroborate.check.checker.PROGRESS_BATCH", 2)
    told: list[tuple[int, int]] = []
    claims = [CLAIM, "The mayor called the new bridge a historic day.", "A volcano erupted on Mars."]
    results = in_process.check_claims(claims, progress=lambda done, total: told.append((done, total)))
    assert told == [(0, 3), (2, 3), (3, 3)]
    assert [r.verdict.status for r in results] == [r.verdict.status for r in in_process.check_claims(claims)]


def test_an_article_is_judged_a_batch_at_a_time_while_it_is_split(in_process: Checker,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # so that a 5 MB article shows progress from its first claims on and holds no backlog (issue 12, item 5):
    # the total is extrapolated from the text read until all of it is split, then exact
    article = Article("\n\n".join(text for _, text in ARTICLES.values()), "Rain and a bridge", source="a.txt")
    whole = in_process.check_article(article)
    monkeypatch.setattr("corroborate.check.checker.PROGRESS_BATCH", 2)
    told: list[tuple[int, int]] = []
    batched = in_process.check_article(article, progress=lambda done, total: told.append((done, total)))
    n = whole.to_dict()["article"]["claims"]
    assert n >= 5 and told[0] == (0, 0) and told[-1] == (n, n)
    dones = [done for done, _ in told]
    assert dones == sorted(dones) and set(dones) == {0, *range(2, n, 2), n}
    assert all(total >= done for done, total in told)
    assert _json(batched.to_dict()) == _json(whole.to_dict())


def test_cli_checks_in_its_own_process_without_a_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from corroborate import cli

    closed: list[bool] = []

    class Here:
        def check_claims(self, claims: list[str], progress: object = None) -> list[str]:
            return [f"here: {c}" for c in claims]

        def close(self) -> None:
            closed.append(True)

    monkeypatch.setattr(Checker, "open", classmethod(lambda cls, settings, log=None: Here()))
    debug = load_settings({"home": tmp_path, "debug": True, "checker_daemon": False}, environ={})
    assert cli._warm_or_here(debug, lambda checker: checker.check_claims(["x"])) == ["here: x"]
    assert "no checker service answers" in capsys.readouterr().err and closed == [True]
    assert cli._warm_or_here(debug.replace(debug=False), lambda checker: checker.check_claims(["y"])) == ["here: y"]
    assert capsys.readouterr().err == "", "quiet without --debug"


def test_an_ingest_is_seen_without_restarting(settings: Settings, service: CheckerService) -> None:
    claim = "The zoo welcomed twin panda cubs born during the night."
    text = "Twin panda cubs were born at the city zoo during the night, keepers said. Both are healthy."
    with Store(settings.store_path) as store:
        _add(store, "https://d.example/pandas", "d.example", text)
        sync_index(store, load_embedder(), settings)
    client = connect_service(settings, timeout=10)
    assert client is not None
    urls = {e.url for e in client.check_claim(claim).verdict.evidence}
    assert "https://d.example/pandas" in urls
    assert service.loads == 2, "one reopen for the ingest"
