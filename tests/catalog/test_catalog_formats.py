"""How each format's fields map onto the neutral model, on small hand-written files."""

from __future__ import annotations

from switchboard.bot.catalog.model import (
    DEPENDS_ON,
    MEMBER_OF,
    PARENT,
    Link,
    OnCall,
    Relation,
)


def test_backstage_annotations_links_and_slack(write, parse) -> None:
    path = write(
        "catalog-info.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: payments
          namespace: shop
          annotations:
            pagerduty.com/service-id: PABC123
            pagerduty.com/integration-key: secret-key
            opsgenie.com/team: payments-team
            github.com/project-slug: acme/payments
            backstage.io/source-location: url:https://github.com/acme/payments/tree/main/
            backstage.io/techdocs-ref: url:https://docs.acme.com/payments
          links:
            - url: slack://channel?team=T0001&id=C0PAYMENTS
              title: Slack
            - url: https://wiki.acme.com/payments/oncall
              title: On-call runbook
            - url: https://grafana.acme.com/d/xyz
              title: Golden signals
              type: dashboard
        spec:
          type: service
          owner: payments-team
          system: checkout
          dependsOn: [resource:payments-db, ledger, component:billing/invoices]
          tier: tier-1
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata:
          name: payments-team
          namespace: shop
          annotations:
            slack.com/bot-notify: payments
        spec:
          type: team
          profile: {displayName: Payments, email: payments@acme.com}
          members: [ann]
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata:
          name: ann
          namespace: shop
          annotations:
            slack.com/user-id: U0ANN1234
    """,
    )
    parsed = parse(path)
    assert parsed.errors == parsed.warnings == []
    service = parsed["component:shop/payments"]
    assert service.oncall == [
        OnCall("pagerduty", "service", "PABC123", "secret-key"),
        OnCall("opsgenie", "team", "payments-team"),
    ]
    assert "secret-key" not in repr(service.oncall)
    assert service.links == [
        Link("chat", "slack://channel?team=T0001&id=C0PAYMENTS", "Slack"),
        Link("runbook", "https://wiki.acme.com/payments/oncall", "On-call runbook"),
        Link("dashboard", "https://grafana.acme.com/d/xyz", "Golden signals"),
        Link("repo", "https://github.com/acme/payments", "GitHub"),  # not source-location too
        Link("docs", "https://docs.acme.com/payments", "TechDocs"),
    ]
    assert service.slack_channels == ["C0PAYMENTS"]
    assert (service.owners, service.system, service.tier) == (
        ["group:shop/payments-team"],
        "system:shop/checkout",
        1,
    )
    assert [r.target for r in service.relations] == [
        "resource:shop/payments-db",
        "component:shop/ledger",
        "component:billing/invoices",
    ]
    team = parsed["group:shop/payments-team"]
    assert (team.title, team.email, team.slack_channels) == (
        "Payments",
        "payments@acme.com",
        ["#payments"],
    )
    ann = parsed["user:shop/ann"]
    assert (ann.slack_user_id, ann.relations) == ("U0ANN1234", [Relation(MEMBER_OF, team.ref)])


def test_backstage_integration_key_without_service(write, parse) -> None:
    path = write(
        "c.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: a
          annotations:
            pagerduty.com/integration-key: secret
    """,
    )
    parsed = parse(path)
    assert parsed["component:default/a"].oncall == []
    assert parsed.warnings == [
        f"{path}:6: pagerduty.com/integration-key without pagerduty.com/service-id: "
        "add the service id so the on-call can be looked up"
    ]


def test_cortex_service(write, parse) -> None:
    path = write(
        "cortex.yaml",
        """
        openapi: 3.0.1
        info:
          title: Payments
          description: Takes money
          x-cortex-tag: payments
          x-cortex-type: service
          x-cortex-owners:
            - type: group
              name: payments-team
              provider: CORTEX
            - type: slack
              channel: payments-oncall
              notificationsEnabled: true
          x-cortex-oncall:
            opsgenie:
              type: TEAM
              id: Payments
          x-cortex-slack:
            channels:
              - name: payments
          x-cortex-link:
            - name: Runbook
              type: RUNBOOK
              url: https://wiki/runbook
            - name: API
              type: openapi
              url: https://api/openapi.json
          x-cortex-git:
            gitlab:
              repository: acme/payments
            azure:
              project: acme/shop
              repository: payments
          x-cortex-groups: [pci, tier-2]
          x-cortex-service-groups: [legacy]
          x-cortex-dependency:
            - tag: ledger
              method: GET
          x-cortex-parents:
            - tag: commerce
    """,
    )
    parsed = parse(path)
    assert parsed.errors == []
    service = parsed["component:default/payments"]
    assert (service.title, service.description, service.tier) == ("Payments", "Takes money", 2)
    assert service.owners == ["group:default/payments-team"]
    assert service.slack_channels == ["#payments-oncall", "#payments"]
    assert service.oncall == [OnCall("opsgenie", "team", "Payments")]
    assert [(link.type, link.url) for link in service.links] == [
        ("repo", "https://gitlab.com/acme/payments"),
        ("repo", "https://dev.azure.com/acme/shop/_git/payments"),
        ("runbook", "https://wiki/runbook"),
        ("openapi", "https://api/openapi.json"),
    ]
    assert service.tags == ["pci", "tier-2", "legacy"]
    assert service.relations == [
        Relation(DEPENDS_ON, "component:default/ledger"),
        Relation(PARENT, "domain:default/commerce"),
    ]
    assert parsed.warnings == [f"{path}:8: owner group:default/payments-team is not in the catalog"]


def test_cortex_team_hierarchy_and_people_merged_across_formats(write, parse) -> None:
    write(
        "teams.yaml",
        """
        openapi: 3.0.1
        info:
          x-cortex-tag: engineering
          x-cortex-type: team
          x-cortex-children:
            - tag: payments-team
          x-cortex-team:
            members:
              - email: Ann@Acme.com
                name: Ann A.
            groups:
              - name: okta-engineering
                provider: OKTA
        ---
        openapi: 3.0.1
        info:
          x-cortex-tag: payments-team
          x-cortex-type: team
          x-cortex-team:
            members:
              - {email: ann@acme.com, name: Ann}
              - {email: bo@acme.com, name: Bo}
        ---
        openapi: 3.0.1
        info:
          x-cortex-tag: commerce
          x-cortex-type: domain
          x-cortex-children:
            - tag: shop
            - tag: checkout
        ---
        openapi: 3.0.1
        info:
          x-cortex-tag: checkout
        ---
        openapi: 3.0.1
        info:
          x-cortex-tag: shop
          x-cortex-type: domain
    """,
    )
    native = write(
        "people.yaml",
        """
        switchboard: 1
        people:
          - id: ann
            name: Ann Archer
            email: ann@acme.com
            slack_id: U0ANN1234
    """,
    )
    parsed = parse(native.parent)
    assert parsed.errors == parsed.warnings == []
    assert parsed["group:default/engineering"].tags == ["okta-engineering"]
    assert parsed["group:default/payments-team"].relations == [
        Relation(PARENT, "group:default/engineering")
    ]
    ann = parsed["user:default/ann"]  # declared once, found in two member lists
    assert ann.title == "Ann Archer"
    assert ann.relations == [
        Relation(MEMBER_OF, "group:default/engineering"),
        Relation(MEMBER_OF, "group:default/payments-team"),
    ]
    assert [ref for ref in parsed.refs if ref.startswith("user:")] == [
        "user:default/ann",
        "user:default/bo@acme.com",
    ]
    # a domain's children are domains or services
    assert parsed["domain:default/shop"].relations == [Relation(PARENT, "domain:default/commerce")]
    assert parsed["component:default/checkout"].relations == [
        Relation(PARENT, "domain:default/commerce")
    ]


def test_opslevel_service(write, parse) -> None:
    path = write(
        "opslevel.yml",
        """
        ---
        version: 1
        service:
          name: Shopping Cart Service
          lifecycle: generally_available
          tier: 1
          product: Retail
          owner: order_team
          system: cart
          aliases: [cart, shopping_cart]
          tags:
            - key: db
              value: mysql
            - team:orders
            - {hosting: aws}
          tools:
            - name: Confluence
              category: runbooks
              url: https://wiki/cart
            - name: Datadog
              category: metrics
              url: https://datadog/cart
            - name: Docs
              category: wiki
              url: https://wiki/docs
            - name: Pagerduty
              category: incidents
              url: https://acme.pagerduty.com/service-directory/PAQ8CJA
          repositories:
            - name: github.com:acme/cart
              provider: github
            - name: acme/cart-infra
              provider: gitlab
          dependencies:
            - alias: catalog_service
              notes: pub sub
            - Order Workflow
          alert_sources:
            - type: pagerduty
              external_id: PAQ8CJA
            - type: opsgenie
              external_id: cart-og
            - type: datadog
              external_id: '48998451'
    """,
    )
    parsed = parse(path)
    assert parsed.errors == []
    service = parsed["component:default/shopping-cart-service"]
    assert (service.title, service.tier, service.lifecycle, service.system) == (
        "Shopping Cart Service",
        1,
        "generally_available",
        "system:default/cart",
    )
    assert service.aliases == ["cart", "shopping_cart"]
    assert service.tags == ["product:Retail", "db:mysql", "team:orders", "hosting:aws"]
    assert [(link.type, link.url) for link in service.links] == [
        ("runbook", "https://wiki/cart"),
        ("dashboard", "https://datadog/cart"),
        ("docs", "https://wiki/docs"),
        ("incidents", "https://acme.pagerduty.com/service-directory/PAQ8CJA"),
        ("repo", "https://github.com/acme/cart"),
        ("repo", "https://gitlab.com/acme/cart-infra"),
    ]
    assert service.oncall == [
        OnCall("pagerduty", "service", "PAQ8CJA"),
        OnCall("opsgenie", "service", "cart-og"),
    ]
    assert service.relations == [
        Relation(DEPENDS_ON, "component:default/catalog-service"),
        Relation(DEPENDS_ON, "component:default/order-workflow"),
    ]


def test_native_service_fields(write, parse) -> None:
    path = write(
        "catalog.yaml",
        """
        switchboard: 1
        teams:
          - id: payments
            name: Payments
            slack_channel: payments
            slack_usergroup: S0PAY
            parent: finance
            members: [U0ALICE01, bob@acme.com]
            oncall: {pagerduty_schedule: PSCHED1}
        services:
          - id: pay-api
            name: Payments API
            owner: payments
            tier: "tier_2"
            lifecycle: production
            system: checkout
            aliases: [payments]
            tags: [java]
            slack_channel: C0PAYALERT
            oncall:
              pagerduty_service: PSVC001
              integration_key: abc123
              pagerduty_escalation_policy: PESC001
              opsgenie_team: og-pay
              opsgenie_schedule: og-sched
              slack_usergroup: S0PAYOC
            runbook: https://wiki/runbook
            repo: https://github.com/acme/pay-api
            docs: https://docs/pay-api
            dashboards: [https://grafana/1, https://grafana/2]
            links:
              - {type: Logs, url: https://logs/pay, title: Logs}
            depends_on: [ledger, resource:pay-db, api:fx-rates]
          - id: fx-rates
            kind: API
            type: openapi
            owner: payments
    """,
    )
    parsed = parse(path)
    assert parsed.errors == []
    assert parsed.warnings == []  # a parent outside the catalog is fine; only owners are checked
    service = parsed["component:default/pay-api"]
    assert (service.type, service.title, service.tier, service.system) == (
        "service",
        "Payments API",
        2,
        "system:default/checkout",
    )
    assert service.owners == ["group:default/payments"]
    assert service.slack_channels == ["C0PAYALERT"]
    assert service.oncall == [
        OnCall("pagerduty", "service", "PSVC001", "abc123"),
        OnCall("pagerduty", "escalation_policy", "PESC001"),
        OnCall("opsgenie", "team", "og-pay"),
        OnCall("opsgenie", "schedule", "og-sched"),
        OnCall("slack", "usergroup", "S0PAYOC"),
    ]
    assert [(link.type, link.url) for link in service.links] == [
        ("logs", "https://logs/pay"),
        ("runbook", "https://wiki/runbook"),
        ("repo", "https://github.com/acme/pay-api"),
        ("docs", "https://docs/pay-api"),
        ("dashboard", "https://grafana/1"),
        ("dashboard", "https://grafana/2"),
    ]
    assert [r.target for r in service.relations] == [
        "component:default/ledger",
        "resource:default/pay-db",
        "api:default/fx-rates",
    ]
    assert (service.source_file, service.source_line) == (str(path), 11)
    team = parsed["group:default/payments"]
    assert (team.type, team.slack_channels, team.slack_usergroup) == (
        "team",
        ["#payments"],
        "S0PAY",
    )
    assert team.relations == [Relation(PARENT, "group:default/finance")]
    assert team.oncall == [OnCall("pagerduty", "schedule", "PSCHED1")]
    alice = parsed["user:default/u0alice01"]
    assert (alice.slack_user_id, alice.relations) == ("U0ALICE01", [Relation(MEMBER_OF, team.ref)])
    assert parsed["user:default/bob@acme.com"].email == "bob@acme.com"
    api = parsed["api:default/fx-rates"]
    assert (api.type, api.owners) == ("openapi", ["group:default/payments"])


def test_folder_walk_skips_hidden_and_node_modules(write, parse) -> None:
    body = "switchboard: 1\nteams: [{id: %s}]\n"
    write("a.yaml", body % "a")
    write("nested/deeper/b.YML", body % "b")
    write("node_modules/pkg/c.yaml", body % "c")
    write(".git/d.yaml", body % "d")
    write(".hidden.yaml", body % "e")
    write("notes.txt", body % "f")
    parsed = parse(write("a.yaml", body % "a").parent)
    assert parsed.refs == ["group:default/a", "group:default/b"]
    assert [path.rsplit("/", 1)[1] for path in parsed.result.files] == ["a.yaml", "b.YML"]


def test_same_file_given_twice_is_read_once(write, parse) -> None:
    path = write("a.yaml", "switchboard: 1\nteams: [{id: a}]\n")
    parsed = parse(path, path.parent, str(path))
    assert parsed.result.files == [str(path)]
    assert parsed.warnings == []
