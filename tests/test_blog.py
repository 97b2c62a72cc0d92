"""Acceptance for the core issue, on every dialect: blog v1 from empty, rows, v2, in sync each time."""

from __future__ import annotations

import json

from schemasync.errors import ExitCode
from tests.capabilities import supports
from tests.harness import converge


def test_blog_v1_then_v2_keeps_rows_and_converges(project):
    v1 = project.copy_fixture("blog/models.py")
    planned = project.cli("plan", "--json", models=v1)
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.output)
    assert [op["op"] for op in plan["operations"]] == ["create_table"] * 9
    order = [op["table"] for op in plan["operations"]]
    for child, parent in [("articles", "categories"), ("useridToRoleid", "users"), ("useridToRoleid", "roles"),
                          ("roleidToIdentityid", "identities"), ("articleidToTagid", "articles"), ("articleidToTagid", "tags")]:
        assert order.index(parent) < order.index(child), (parent, child, order)

    converge(project, v1)

    project.db.execute(
        "INSERT INTO categories (name) VALUES ('news')",
        "INSERT INTO articles (title, content, click_count, category_id) VALUES ('Hello', 'first post', 3, 1)",
        "INSERT INTO users (username, password, email) VALUES ('ada', 'pw', 'ada@example.com')",
    )

    v2 = project.copy_fixture("blog/models_v2.py")
    pending = project.cli("check", models=v2)
    assert pending.exit_code == ExitCode.PENDING, pending.output
    converge(project, v2)

    assert project.db.rows("SELECT title, content, click_count, category_id FROM articles") == [("Hello", "first post", 3, 1)]
    assert project.db.rows("SELECT username, email FROM users") == [("ada", "ada@example.com")]
    long_title = "x" * 200
    project.db.execute(f"INSERT INTO articles (title) VALUES ('{long_title}')")
    project.db.execute("INSERT INTO comments (article_id, user_id, body) VALUES (1, 1, 'nice')")
    assert project.db.scalar("SELECT count(*) FROM comments") == 1

    history = json.loads(project.cli("history", "--json").output)
    assert [row["status"] for row in history] == ["applied", "applied"]
    assert [row["operations"] for row in history] == [3 if supports(project.db, "alter_by_rebuild") else 4, 9]
