"""ORM-frågor som Django bygger till SQL en gång per process, inte vid varje anrop.

Djangos frågebygge (filter, select_related, only, SQL-texten) kostar vid varje anrop flera gånger
mer CPU-tid än själva frågan: patientsidans uppslag på svarskoden 520 µs, samma SQL direkt 90 µs;
svarets uppdatering 350 µs mot 80 µs (README, "Var tiden går"). Här skrivs frågan med ORM:en som
vanligt, med `Param` där ett värde ska sättas in vid varje anrop. Första gången frågan körs i en
process bygger Django SQL:en; sedan körs samma SQL med nya värden, omgjorda för databasen av
fältet i `Param` (som ORM:en gör med värdena i en fråga). Frågorna följer alltså modellerna och
migreringarna som vilken ORM-fråga som helst.

- `CompiledQuery`: första raden som modellobjekt, som i Djangos `ModelIterable` (databasens
  omvandlare, `select_related`, annoteringar), eller None.
- `CompiledUpdate`: en `update()`, ger antalet ändrade rader.

Modulen importerar inget av portalens egna.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, Field, Model, QuerySet
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # saknas i django-stubs
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.subqueries import UpdateQuery
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)


class Param(Expression):
    """Ett värde i frågan som ges när den körs (`fetch(namn=värde)`), omgjort för databasen av `output_field`."""

    def __init__(self, name: str, output_field: Field) -> None:
        """`name` är nyckelordet i `fetch`/`execute`; `output_field` gör om värdet (t.ex. DateTimeField)."""
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        """En platshållare i SQL:en; parametern är `Param` själv, som byts mot värdet vid varje körning."""
        return "%s", [self]


@dataclass(frozen=True)
class _Statement:
    """En byggd fråga: SQL-texten och parametrarna, med `Param` där värdena ska in."""

    sql: str
    params: tuple[Any, ...]

    def bind(self, values: dict[str, Any], connection: BaseDatabaseWrapper) -> list[Any]:
        """Parametrarna med värdena insatta, omgjorda för databasen som ORM:en gör med en frågas värden."""
        return [
            param.output_field.get_db_prep_value(values[param.name], connection) if isinstance(param, Param) else param
            for param in self.params
        ]


@dataclass(frozen=True)
class _RowShape:
    """Det som gör en rad till ett modellobjekt (ur kompilatorn, som i Djangos `ModelIterable`)."""

    select: list[Any]
    col_count: int
    klass_info: dict[str, Any]
    annotation_col_map: dict[str, int]
    related_populators: list[Any]
    model_columns: slice
    init_list: list[str]

    @classmethod
    def of(cls, compiler: SQLCompiler) -> _RowShape:
        """Radens form ur en kompilator som just byggt frågan (`as_sql`)."""
        klass_info = compiler.klass_info or {}
        fields = klass_info["select_fields"]
        model_columns = slice(fields[0], fields[-1] + 1)
        return cls(
            select=compiler.select,
            col_count=compiler.col_count or 0,
            klass_info=klass_info,
            annotation_col_map=compiler.annotation_col_map or {},
            related_populators=get_related_populators(klass_info, compiler.select, compiler.using),
            model_columns=model_columns,
            init_list=[column[0].target.attname for column in compiler.select[model_columns]],
        )

    def instance(self, compiler: SQLCompiler, row: tuple[Any, ...]) -> Any:
        """Raden som modellobjekt: databasens omvandlare, relaterade objekt och annoteringar."""
        compiler.select, compiler.col_count = self.select, self.col_count
        (values,) = compiler.results_iter([[row]])
        instance = self.klass_info["model"].from_db(compiler.using, self.init_list, values[self.model_columns])
        for populator in self.related_populators:
            populator.populate(values, instance)
        for name, position in self.annotation_col_map.items():
            setattr(instance, name, values[position])
        return instance


class CompiledQuery(Generic[M]):
    """En fråga som ger (högst) en rad, byggd till SQL första gången den körs i processen."""

    def __init__(self, queryset: QuerySet[M]) -> None:
        """`queryset` med `Param` för värdena; sorteringen tas bort (frågan ger en rad)."""
        self._queryset = queryset.order_by()
        self._compiled: dict[str, tuple[_Statement, _RowShape]] = {}

    def fetch(self, **values: Any) -> M | None:
        """Första raden med `values` insatta, som modellobjekt, eller None.

        En fråga med `select_for_update` måste köras i en transaktion, som i ORM:en.
        """
        using = self._queryset.db
        statement, shape = self._compiled.get(using) or self._compile(using)
        compiler = self._queryset.query.get_compiler(using=using)
        if self._queryset.query.select_for_update and _locks_rows(compiler.connection):
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        with compiler.connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.bind(values, compiler.connection))
            row = cursor.fetchone()
        return None if row is None else shape.instance(compiler, row)

    def _compile(self, using: str) -> tuple[_Statement, _RowShape]:
        """Bygger SQL:en och radens form för databasen `using` (en gång per process)."""
        compiler = self._queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        self._compiled[using] = (_Statement(sql, tuple(params)), _RowShape.of(compiler))
        return self._compiled[using]


def _locks_rows(connection: BaseDatabaseWrapper) -> bool:
    """Sant om `select_for_update` låser här men inte kan (ingen transaktion); villkoret i Djangos `as_sql`."""
    features = connection.features
    return features.has_select_for_update and features.supports_transactions and connection.get_autocommit()


class CompiledUpdate:
    """En `update()` byggd till SQL första gången den körs i processen."""

    def __init__(self, queryset: QuerySet[Any], **changes: Any) -> None:
        """Raderna i `queryset` får `changes` (som i `queryset.update(**changes)`); båda kan ha `Param`."""
        self._queryset = queryset
        self._changes = changes
        self._compiled: dict[str, _Statement] = {}

    def execute(self, **values: Any) -> int:
        """Kör uppdateringen med `values` insatta; antalet ändrade rader."""
        using = router.db_for_write(self._queryset.model)
        statement = self._compiled.get(using) or self._compile(using)
        connection = connections[using]
        with transaction.mark_for_rollback_on_error(using=using), connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.bind(values, connection))
            return cursor.rowcount

    def _compile(self, using: str) -> _Statement:
        """Bygger SQL:en som `QuerySet.update` gör (en gång per process och databas)."""
        query = cast(UpdateQuery, self._queryset.query.chain(UpdateQuery))  # django-stubs anger Query
        query.add_update_values(self._changes)
        query.annotations = {}
        sql, params = query.get_compiler(using=using).as_sql()
        self._compiled[using] = _Statement(sql, tuple(params))
        return self._compiled[using]
