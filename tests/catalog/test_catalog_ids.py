"""Names that cannot be ids as they are (npm-scoped Cortex tags, Backstage names with spaces,
OpsLevel names in another script, very long names) import under a derived id; the name as
written is kept, shown and found by `/owner`; two names making one id is a warning."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from switchboard.bot.catalog.model import safe_name
from tests.catalog.test_catalog_import import environment, run, show  # noqa: F401  (fixture, helpers)


def cortex(tag: str, title: str, extra: str = "") -> str:
    return f"openapi: 3.0.1\ninfo:\n  title: {title}\n  x-cortex-tag: '{tag}'\n{extra}"


PAYMENTS = cortex(
    "@acme/payments-api",
    "Payments API",
    "  x-cortex-owners:\n    - {type: group, name: '@acme/payments'}\n"
    "  x-cortex-dependency:\n    - {tag: '@acme/ledger'}\n",
)


@pytest.fixture
def scoped(tmp_path: Path) -> Path:
    folder = tmp_path / "cortex"
    folder.mkdir()
    (folder / "payments.yaml").write_text(PAYMENTS)
    (folder / "ledger.yaml").write_text(cortex("@acme/ledger", "Ledger"))
    (folder / "team.yaml").write_text(
        cortex("@acme/payments", "Payments", "  x-cortex-type: team\n")
    )
    return folder


def test_the_id_rule() -> None:
    assert safe_name("payments-api") == "payments-api"  # a name that is an id stays itself
    assert safe_name("@acme/payments-api") == "acme-payments-api"
    assert safe_name("Team X / Payments:API") == "Team-X-Payments-API"
    assert safe_name("支付服务") == "支付服务"
    long = "a" * 70
    digest = hashlib.sha256(long.encode()).hexdigest()[:8]  # of the name in lower case
    assert safe_name(long) == f"{'a' * 54}-{digest}"  # 54 + '-' + 8 hex: 63
    assert safe_name(long.upper()).lower() == f"{'a' * 54}-{digest}"  # one id, whatever case
    assert safe_name(" / ") == ""


def test_scoped_cortex_tags_import_and_keep_their_tag(
    capsys: pytest.CaptureFixture[str], scoped: Path
) -> None:
    code, out, err = run(capsys, "catalog", "import", str(scoped))
    assert (code, err) == (0, "")
    assert out == "imported 3 entities from 3 files: 3 added, 0 updated, 0 removed, 0 unchanged\n"
    again = run(capsys, "catalog", "import", str(scoped))  # the same ids: nothing changes
    assert again[1].endswith("0 added, 0 updated, 0 removed, 3 unchanged\n")
    entity = show(capsys, "@acme/payments-api")["entity"]
    assert isinstance(entity, dict)
    assert (entity["name"], entity["given_name"], entity["ref"]) == (
        "acme-payments-api",
        "@acme/payments-api",
        "component:default/acme-payments-api",
    )
    assert entity["aliases"] == ["@acme/payments-api", "payments-api"]
    assert entity["owners"] == ["group:default/acme-payments"]  # references use the ids too
    assert entity["relations"] == [{"type": "dependsOn", "target": "component:default/acme-ledger"}]


@pytest.mark.parametrize("typed", ["@acme/payments-api", "payments-api", "acme/payments-api"])
def test_owner_finds_a_scoped_tag_with_or_without_its_scope(
    capsys: pytest.CaptureFixture[str], scoped: Path, typed: str
) -> None:
    run(capsys, "catalog", "import", str(scoped))
    code, out, _ = run(capsys, "catalog", "show", typed)
    assert code == 0
    assert out.splitlines()[0] == "Payments API: owned by Payments"
    assert "  name: acme-payments-api" in out.splitlines()
    assert "  given_name: @acme/payments-api" in out.splitlines()


@pytest.mark.parametrize("typed", ["@acme/paymnts-api", "paymnts-api"])
def test_owner_finds_a_scoped_tag_with_a_typo(
    capsys: pytest.CaptureFixture[str], scoped: Path, typed: str
) -> None:
    run(capsys, "catalog", "import", str(scoped))
    code, _, err = run(capsys, "catalog", "show", typed)
    assert (code, err) == (1, "Did you mean one of 1 services?\n")  # the choice: Payments API


def test_two_names_making_one_id_is_a_warning_naming_both_files(
    capsys: pytest.CaptureFixture[str], scoped: Path
) -> None:
    (scoped / "another.yaml").write_text(cortex("acme-payments-api", "Another"))
    code, out, err = run(capsys, "catalog", "import", str(scoped))
    assert code == 0
    assert out.startswith("imported 3 entities from 4 files")
    assert err == (
        "cortex/payments.yaml:1: warning: '@acme/payments-api' makes the id "
        "component:default/acme-payments-api, which 'acme-payments-api' at "
        f"{scoped / 'another.yaml'}:1 has already; skipped (rename one of them)\n"
    )


def test_backstage_and_opslevel_names_that_are_not_ids(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "catalog-info.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata:\n  name: Billing Service\n  namespace: 'finance team'\n"
        "spec:\n  owner: group:finance team/billing\n---\n"
        "apiVersion: backstage.io/v1alpha1\nkind: Group\n"
        "metadata:\n  name: billing\n  namespace: finance team\n"
    )
    (tmp_path / "opslevel.yml").write_text(
        f"version: 1\nservice:\n  name: 支付服务\n  dependencies: ['{'x' * 70}']\n"
    )
    code, out, err = run(capsys, "catalog", "import", ".")
    assert (code, err) == (0, "")
    assert out.startswith("imported 3 entities from 2 files")
    billing = show(capsys, "Billing Service")["entity"]
    assert isinstance(billing, dict)
    assert (billing["ref"], billing["given_name"]) == (
        "component:finance-team/billing-service",
        "Billing Service",
    )
    assert billing["owners"] == ["group:finance-team/billing"]
    pay = show(capsys, "支付服务")["entity"]
    assert isinstance(pay, dict)
    assert pay["ref"] == "component:default/支付服务"
    assert pay["relations"] == [
        {"type": "dependsOn", "target": f"component:default/{'x' * 54}-c71bd109"}
    ]
