"""Baseline: the schema as it stood before migrations (schema_info.schema_version 1 and 2).

Each table is created only where it is missing, so a store made by that code (with or without the
cell_count rollup, which version 2 added) is adopted in place with every run and label it holds.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> list[tuple[str, list, list]]:
    """(name, columns, indexes) of the version-2 schema, frozen here."""
    s, t, i, f, b = sa.String, sa.Text, sa.Integer, sa.Float, sa.Boolean

    def dt() -> sa.DateTime:
        return sa.DateTime(timezone=True)  # what SQLModel created: timestamptz on PostgreSQL
    return [
        ("schema_info", [sa.Column("key", s(), primary_key=True), sa.Column("value", s(), nullable=False)], []),
        ("case", [
            sa.Column("id", i(), primary_key=True), sa.Column("key", s(), nullable=False),
            sa.Column("source", s(), nullable=False), sa.Column("family", s(), nullable=False),
            sa.Column("subtype", s(), nullable=False), sa.Column("subtype_raw", s(), nullable=False),
            sa.Column("authority_type", s(), nullable=False), sa.Column("authority_group", s(), nullable=False),
            sa.Column("rule", t()), sa.Column("defeat_condition", t()), sa.Column("structural_facts", t()),
            sa.Column("user_query", t()), sa.Column("dual_use", b(), nullable=False),
            *[sa.Column(d, s(), nullable=False) for d in (
                "kind_of_rule", "harm_to_others", "legality", "stakes_if_caught", "compliance_ecology",
                "user_positionality", "evasion_type")],
            sa.Column("created_at", dt(), nullable=False),
        ], [("ix_case_key", ["key"], True)]),
        ("model_config", [
            sa.Column("id", i(), primary_key=True), sa.Column("key", s(), nullable=False),
            sa.Column("display_name", s(), nullable=False), sa.Column("litellm_model", s(), nullable=False),
            sa.Column("provider", s(), nullable=False), sa.Column("params", s(), nullable=False),
            sa.Column("source", s(), nullable=False),
        ], [("ix_model_config_key", ["key"], True)]),
        ("run", [
            sa.Column("id", i(), primary_key=True), sa.Column("kind", s(), nullable=False),
            sa.Column("label", s(), nullable=False), sa.Column("case_id", i(), sa.ForeignKey("case.id")),
            sa.Column("params", s(), nullable=False), sa.Column("status", s(), nullable=False),
            sa.Column("created_at", dt(), nullable=False),
        ], [("ix_run_kind", ["kind"], False)]),
        ("response", [
            sa.Column("id", i(), primary_key=True), sa.Column("run_id", i(), sa.ForeignKey("run.id"), nullable=False),
            sa.Column("case_id", i(), sa.ForeignKey("case.id"), nullable=False),
            sa.Column("model_config_id", i(), sa.ForeignKey("model_config.id"), nullable=False),
            sa.Column("source", s(), nullable=False), sa.Column("text", t()), sa.Column("status", s(), nullable=False),
            sa.Column("error", s()), sa.Column("latency_ms", f()), sa.Column("ttft_ms", f()),
            sa.Column("prompt_tokens", i()), sa.Column("completion_tokens", i()), sa.Column("cost_usd", f()),
            sa.Column("attempts", i(), nullable=False), sa.Column("created_at", dt(), nullable=False),
            sa.Column("eff_response_type", s()), sa.Column("eff_engages", b()), sa.Column("eff_harm", b()),
            sa.Column("eff_judge", s()),
        ], [("ix_response_agg", ["source", "case_id", "model_config_id", "eff_response_type", "eff_engages",
                                 "eff_harm"], False),
            ("ix_response_run", ["run_id", "case_id", "model_config_id"], False)]),
        ("cell_count", [
            sa.Column("source", s(), primary_key=True),
            sa.Column("case_id", i(), sa.ForeignKey("case.id"), primary_key=True),
            sa.Column("model_config_id", i(), sa.ForeignKey("model_config.id"), primary_key=True),
            *[sa.Column(c, i(), nullable=False)
              for c in ("n", "helps", "deflects", "hard", "engages", "blind", "refeng")],
        ], []),
        ("judgment", [
            sa.Column("id", i(), primary_key=True),
            sa.Column("response_id", i(), sa.ForeignKey("response.id"), nullable=False),
            sa.Column("judge", s(), nullable=False), sa.Column("judge_kind", s(), nullable=False),
            sa.Column("judge_version", s(), nullable=False), sa.Column("precedence", i(), nullable=False),
            sa.Column("status", s(), nullable=False), sa.Column("response_type", s()),
            sa.Column("engages_with_defeat", b()), sa.Column("independent_harm", b()),
            sa.Column("reasoning", t()), sa.Column("raw_output", t()), sa.Column("note", s(), nullable=False),
            sa.Column("created_at", dt(), nullable=False),
        ], [("ix_judgment_judge", ["judge", "response_id"], False),
            ("ix_judgment_response_id", ["response_id"], False)]),
    ]


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns, indexes in _tables():
        if name in existing:
            continue
        op.create_table(name, *columns)
        for index_name, cols, unique in indexes:
            op.create_index(index_name, name, cols, unique=unique)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone")
