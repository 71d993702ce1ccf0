"""Label counts as SQL GROUP BYs: first per (source, case, model) — read from the `cell_count` rollup for the
default labels, or grouped from responses for one judge or one run — then per case of each group of the chosen
dimensions, then per group over that much smaller table. `Filters` says which responses; `Counts` is what comes
back per group, with the per-case sums (`CaseSums`) that an interval clustered by case needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Engine

from db.records import DIMENSION_COLUMNS
from vocabulary import COUNT_FIELDS, EFFECTIVE, PAPER_JUDGE, REFUSAL_TYPES, count_expressions

# Dimension name -> SQL expression over the aliases c (case), m (model_config), a (inner aggregate).
DIMENSIONS: dict[str, str] = {
    "model": "m.key",
    "family": "c.family",
    "subtype": "c.subtype",
    "authority": "c.authority_type",
    "authority_group": "c.authority_group",
    "source": "a.source",
    "dual_use": "c.dual_use",
    **{d: f"c.{d}" for d in DIMENSION_COLUMNS},
}


REFUSAL_SQL = "(" + ", ".join(f"'{t}'" for t in REFUSAL_TYPES) + ")"


@dataclass
class Filters:
    sources: Sequence[str] | None = None  # paper | live | spot_check
    models: Sequence[str] | None = None  # model_config keys
    families: Sequence[str] | None = None
    authorities: Sequence[str] | None = None
    dual_use: bool | None = None  # None = both
    run_ids: Sequence[int] | None = None
    case_ids: Sequence[int] | None = None

    def response_clauses(self, params: dict, source_col: str = "r.source") -> list[str]:
        """WHERE clauses on the response table (alias r)."""
        out = []
        if self.sources:
            out.append(sql_in(source_col, self.sources, "src", params))
        if self.run_ids:
            out.append(sql_in("r.run_id", self.run_ids, "run", params))
        if self.case_ids:
            out.append(sql_in("r.case_id", self.case_ids, "cid", params))
        return out

    def case_model_clauses(self, params: dict) -> list[str]:
        """WHERE clauses on the case (alias c) and model (alias m) tables."""
        out = []
        if self.models:
            out.append(sql_in("m.key", self.models, "mod", params))
        if self.families:
            out.append(sql_in("c.family", self.families, "fam", params))
        if self.authorities:
            out.append(sql_in("c.authority_type", self.authorities, "aut", params))
        if self.dual_use is not None:
            out.append("c.dual_use = :dual")
            params["dual"] = self.dual_use
        return out


# The per-case products summed per group (a before b in COUNT_FIELDS): what the clustered variance of each rate
# needs — each count with itself and with n, and refusal (deflects + hard refusal) as a sum and a denominator.
CASE_PAIRS = (("n", "n"), *((k, k) for k in COUNT_FIELDS[1:]), *(("n", k) for k in COUNT_FIELDS[1:]),
              ("deflects", "hard_refusal"), ("deflects", "refused_engaged"), ("hard_refusal", "refused_engaged"))


@dataclass
class CaseSums:
    """Over a group's cases: how many answered, and the sum of each product of two per-case counts (CASE_PAIRS).
    They add across disjoint sets of cases only."""

    cases: int = 0
    products: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, other: "CaseSums") -> None:
        self.cases += other.cases
        for pair, v in other.products.items():
            self.products[pair] = self.products.get(pair, 0) + v

    def product(self, a: str, b: str) -> int:
        """Σ over cases of (count a) × (count b), for two of COUNT_FIELDS in either order."""
        return self.products.get((a, b) if COUNT_FIELDS.index(a) <= COUNT_FIELDS.index(b) else (b, a), 0)


@dataclass
class Counts:
    n: int = 0
    helps: int = 0
    deflects: int = 0
    hard_refusal: int = 0
    engages: int = 0
    blind: int = 0  # pure rule-blind: not helped, no engagement, no independent harm
    refused_engaged: int = 0
    by_case: CaseSums | None = field(default=None, compare=False, repr=False)  # None: counted without case ids

    def add(self, other: "Counts") -> None:
        """Add another group's counts. Their case sums add too, so the two must hold disjoint sets of cases (an
        aggregate's defeated and control rows of one cell do); where either side has none, the sum has none."""
        if not self.n:
            self.by_case = other.by_case and CaseSums(other.by_case.cases, dict(other.by_case.products))
        elif other.n:
            if self.by_case is None or other.by_case is None:
                self.by_case = None
            else:
                self.by_case.add(other.by_case)
        for k in COUNT_FIELDS:
            setattr(self, k, getattr(self, k) + getattr(other, k))

    @property
    def refusal(self) -> int:
        return self.deflects + self.hard_refusal


def sql_in(column: str, values: Sequence, prefix: str, params: dict) -> str:
    names = []
    for i, v in enumerate(values):
        params[f"{prefix}{i}"] = v
        names.append(f":{prefix}{i}")
    return f"{column} IN ({', '.join(names) or 'NULL'})"


def _label_source(judge: str | None, params: dict) -> tuple[str, str, str, str]:
    """(join clause, response_type expr, engages expr, harm expr) for a label view (see vocabulary.EFFECTIVE)."""
    if judge == EFFECTIVE:
        return "", "r.eff_response_type", "r.eff_engages", "r.eff_harm"
    if judge is None:  # the default view: the release's labels for the paper's answers, effective ones for runs
        params["paper_judge"] = PAPER_JUDGE
        def paper_or_effective(col: str, eff: str) -> str:
            return f"CASE WHEN r.source = 'paper' THEN pj.{col} ELSE r.eff_{eff} END"

        return ("LEFT JOIN judgment pj ON pj.response_id = r.id AND r.source = 'paper' AND pj.judge = :paper_judge "
                "AND pj.status = 'ok'", paper_or_effective("response_type", "response_type"),
                paper_or_effective("engages_with_defeat", "engages"), paper_or_effective("independent_harm", "harm"))
    params["judge"] = judge
    return ("JOIN judgment j ON j.response_id = r.id AND j.judge = :judge AND j.status = 'ok'",
            "j.response_type", "j.engages_with_defeat", "j.independent_harm")


def _per_answer_cell(judge: str | None, f: Filters, params: dict) -> str:
    """The inner table: label counts per (source, case, model) for this label view and these filters."""
    join, rt, eng, harm = _label_source(judge, params)
    if judge is None and not f.run_ids and not f.case_ids:
        # The default labels: read the rollup kept by db.writes (one row per source × case × model).
        inner_where = ["1 = 1", *f.response_clauses(params, source_col="cc.source")]
        return f"""SELECT cc.case_id, cc.model_config_id, cc.source, {', '.join(COUNT_FIELDS)}
                   FROM cell_count cc WHERE {' AND '.join(inner_where)}"""
    inner_where = [f"{rt} IS NOT NULL", *f.response_clauses(params)]
    exprs = count_expressions(rt, eng, harm)
    return f"""
        SELECT r.case_id, r.model_config_id, r.source, {', '.join(f'{exprs[k]} AS {k}' for k in COUNT_FIELDS)}
        FROM response r {join}
        WHERE {' AND '.join(inner_where)}
        GROUP BY r.source, r.case_id, r.model_config_id"""


def aggregate(engine: Engine, dims: Sequence[str], filters: Filters | None = None,
              judge: str | None = None) -> list[dict]:
    """Judged-response counts grouped by `dims` (names from DIMENSIONS) plus an is_control flag, each with its
    per-case sums (Counts.by_case)."""
    f = filters or Filters()
    params: dict[str, Any] = {}
    inner = _per_answer_cell(judge, f, params)
    outer_where = ["1 = 1", *f.case_model_clauses(params)]
    select_dims = "".join(f"{DIMENSIONS[d]} AS d{i}, " for i, d in enumerate(dims))
    group_dims = "".join(f"d{i}, " for i in range(len(dims)))
    # An inner row is already one case of one group when the dimensions fix its model and its source.
    one_row_a_case = "model" in dims and ("source" in dims or len(f.sources or ()) == 1)
    # Otherwise group the inner rows by case (and by what else the dimensions read): every dimension is a column
    # of the case or the model, or the source.
    keys = ["c.id", *(["m.id"] if "model" in dims else []), *(["a.source"] if "source" in dims else [])]
    per_case = f"""
        SELECT {select_dims} CASE WHEN c.family = 'control' THEN 1 ELSE 0 END AS is_control,
               {', '.join(f'a.{k} AS {k}' if one_row_a_case else f'SUM(a.{k}) AS {k}' for k in COUNT_FIELDS)}
        FROM ({inner}) a
        JOIN "case" c ON c.id = a.case_id
        JOIN model_config m ON m.id = a.model_config_id
        WHERE {' AND '.join(outer_where)}
        {'' if one_row_a_case else 'GROUP BY ' + ', '.join(keys)}"""
    sql = f"""
        SELECT {group_dims} is_control,
               SUM(CASE WHEN s.n <> 0 THEN 1 ELSE 0 END) AS cases,
               {', '.join(f'SUM(s.{k}) AS {k}' for k in COUNT_FIELDS)},
               {', '.join(f'SUM(s.{a} * s.{b}) AS {a}__{b}' for a, b in CASE_PAIRS)}
        FROM ({per_case}) s
        GROUP BY {group_dims} is_control
    """
    out = []
    with engine.connect() as conn:
        for row in conn.execute(text(sql), params):
            m = row._mapping
            d = {dims[i]: row[i] for i in range(len(dims))}
            d["is_control"] = bool(row[len(dims)])
            by_case = CaseSums(int(m["cases"] or 0), {(a, b): int(m[f"{a}__{b}"] or 0) for a, b in CASE_PAIRS})
            d["counts"] = Counts(**{k: int(m[k] or 0) for k in COUNT_FIELDS}, by_case=by_case)
            out.append(d)
    return out


def totals(engine: Engine, filters: Filters | None = None, judge: str | None = None) -> dict[str, Counts]:
    """{'defeated': Counts, 'control': Counts}."""
    res = {"defeated": Counts(), "control": Counts()}
    for row in aggregate(engine, [], filters, judge):
        res["control" if row["is_control"] else "defeated"].add(row["counts"])
    return res


def by_dimension(engine: Engine, dim: str, filters: Filters | None = None,
                 judge: str | None = None) -> dict[str, dict[str, Counts]]:
    """{value: {'defeated': Counts, 'control': Counts}} for one dimension."""
    res: dict[str, dict[str, Counts]] = {}
    for row in aggregate(engine, [dim], filters, judge):
        slot = res.setdefault(row[dim], {"defeated": Counts(), "control": Counts()})
        slot["control" if row["is_control"] else "defeated"].add(row["counts"])
    return res
