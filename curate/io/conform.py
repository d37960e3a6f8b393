"""One schema for every shard of a dataset.

Batches from different files can differ (an extra field present in one file only, a nested field that is
always null in another). The data shards must share one schema, and nested fields that no row uses are
left out (a message struct with an always-null ``tool_calls`` would reach chat templates as
``tool_calls: None`` and change what they render).

`used_paths` records which nested fields carry a value; `dataset_schema` unifies the batches' schemas and
prunes unused nested fields; `conform` rebuilds a table to that schema (missing columns become nulls).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def used_paths(table: pa.Table) -> set[str]:
    """Dotted paths of struct fields (at any depth, through lists) holding at least one value."""
    used: set[str] = set()
    for name in table.column_names:
        _walk(table[name].combine_chunks(), name, used)
    return used


def _walk(array: pa.Array, path: str, used: set[str]) -> None:
    if array.null_count < len(array):
        used.add(path)
    kind = array.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        _walk(array.flatten(), path, used)
    elif pa.types.is_struct(kind):
        for i, field in enumerate(kind):
            _walk(array.field(i), f"{path}.{field.name}", used)


def _prune(kind: pa.DataType, path: str, used: set[str]) -> pa.DataType:
    if pa.types.is_list(kind):
        return pa.list_(_prune(kind.value_type, path, used))
    if pa.types.is_large_list(kind):
        return pa.large_list(_prune(kind.value_type, path, used))
    if pa.types.is_struct(kind):
        kept = [
            pa.field(f.name, _prune(f.type, f"{path}.{f.name}", used))
            for f in kind
            if f"{path}.{f.name}" in used
        ]
        return pa.struct(kept or [kind[0]])  # a struct needs a field; keep the first
    return kind


def dataset_schema(schemas: list[pa.Schema], used: set[str], keep_columns: tuple[str, ...] = ("id",)) -> pa.Schema:
    """Union of the batches' schemas with nested fields nobody uses left out.

    Top-level columns are kept even when empty only if named in ``keep_columns`` or used somewhere."""
    unified = pa.unify_schemas(schemas, promote_options="permissive")
    fields = [
        pa.field(f.name, _prune(f.type, f.name, used))
        for f in unified
        if f.name in used or f.name in keep_columns
    ]
    return pa.schema(fields)


def conform_array(array: pa.Array, kind: pa.DataType) -> pa.Array:
    if array.type == kind:
        return array
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), kind)
    if pa.types.is_struct(kind) and pa.types.is_struct(array.type):
        names = [array.type.field(i).name for i in range(array.type.num_fields)]
        children = [
            conform_array(array.field(names.index(f.name)), f.type) if f.name in names else pa.nulls(len(array), f.type)
            for f in kind
        ]
        return pa.StructArray.from_arrays(children, fields=list(kind), mask=pc.is_null(array))
    if (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and (
        pa.types.is_list(array.type) or pa.types.is_large_list(array.type)
    ):
        offsets = array.offsets  # len(array) + 1 entries, slice-aware
        start, end = offsets[0].as_py(), offsets[-1].as_py()
        values = conform_array(array.values.slice(start, end - start), kind.value_type)
        cls = pa.LargeListArray if pa.types.is_large_list(kind) else pa.ListArray
        rebased = pc.cast(pc.subtract(offsets, start), pa.int64() if cls is pa.LargeListArray else pa.int32())
        return cls.from_arrays(rebased, values, mask=pc.is_null(array))
    return pc.cast(array, kind)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(conform_array(table[field.name].combine_chunks(), field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)
