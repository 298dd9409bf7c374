"""The PostgreSQL fast path's plumbing: the driver's own connection, and one statement on it.

The hot writers of a run use the connection directly: server-side parameters dumped in C cost a
fraction of the CPU of the ORM with client-side quoting, and the worker's CPU is what limits its
throughput. What they write is described once, in ``writes``; this module only runs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import psycopg
from django.db import connection
from django.db.models import Model, QuerySet


def postgres() -> psycopg.Connection[Any] | None:
    """The driver's own connection on PostgreSQL, else None. It shares Django's connection, so
    it is inside whatever transaction Django has open on this thread."""
    if connection.vendor != "postgresql":
        return None
    if connection.connection is not None and (connection.connection.closed or connection.connection.broken):
        connection.close()  # failed while used directly, out of sight of Django's error tracking
    # What Django does before a query through the ORM: once per run (close_old_connections
    # re-arms it), make sure a kept connection still works, e.g. after a database restart.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    pg: psycopg.Connection[Any] = connection.connection
    return pg


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(name: str) -> str:
    return connection.ops.quote_name(name)


def where(queryset: QuerySet[Any]) -> tuple[str, list[Any]]:
    """The WHERE condition of a queryset on one table (no join), as SQL and its parameters: the
    fast path re-checks exactly what the ORM path filters on."""
    query = queryset.query
    sql, params = query.get_compiler(connection=connection).compile(query.where)
    return sql, list(params)


def execute(
    pg: psycopg.Connection[Any], statement: str, params: list[Any], binary: bool = False
) -> list[tuple[Any, ...]]:
    """Run one of the hot statements on PostgreSQL with server-side parameters (dumped in C,
    where Django's cursor quotes them in Python); returns its rows, if any. ``binary``: rows
    come back as such, which spares both sides the hex of message bytes. Statements are
    prepared only if the database settings say so (``prepare_threshold``), as for the ORM:
    connection poolers may not keep them."""
    with psycopg.Cursor(pg) as cursor:
        cursor.execute(statement, params, binary=binary)
        return cursor.fetchall() if cursor.description else []


def update_statement(
    queryset: QuerySet[Any],
    values: Mapping[str, Any],
    arrays: Mapping[str, str],
    increments: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> tuple[str, list[Any]]:
    """The fast path's form of ``queryset.filter(<name>__in=...).update(**values)``: the same SET
    and the same conditions, the lists of ``arrays`` (column -> PostgreSQL type) each bound as
    one array, so that the statement is the same whatever their length. Returns the statement
    and the parameters of ``values`` and of the queryset's conditions; the arrays' values follow
    them, in the order of ``arrays``."""
    sets = [f"{column(name)} = %s" for name in values] + [f"{column(n)} = {column(n)} + 1" for n in increments]
    condition, params = where(queryset)
    anys = "".join(f" AND {column(name)} = ANY(%s::{kind}[])" for name, kind in arrays.items())
    statement = f"UPDATE {table(queryset.model)} SET {', '.join(sets)} WHERE {condition}{anys}"  # noqa: S608
    if returning:
        statement += f" RETURNING {', '.join(column(name) for name in returning)}"
    return statement, [plain(value) for value in [*values.values(), *params]]


def plain(value: Any) -> Any:
    """A choice (``MessageState.SENT``) as the text it stands for, which is what the driver must bind."""
    return value.value if isinstance(value, Enum) else value
