//! [`ApiRequest`] + [`SchemaCache`] → [`Plan`]: names resolved against the schema, relationships
//! chosen, filters and orders attached to the resource they apply to. Pure.
//!
//! Errors: PGRST205 (no such table), PGRST200/201 (no or ambiguous relationship), PGRST108 (a
//! filter or order on a resource the select does not embed), 42703 (no such column), 42704 (a cast
//! to a type that is not allowed).

use super::error::PgrstError;
use super::request::{
    Action, ApiRequest, CountPref, Field, IsValue, JsonOp, LogicOp, LogicTree, MediaType,
    Operation, OrderTerm, RowRange, SelectItem,
};
use super::schema_cache::{SchemaCache, Table};

/// What the database will be asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The read of the top-level resource, with its embeddings.
    pub root: ReadPlan,
    /// Whether and how to count the rows matching the filters (`Prefer: count=…`).
    pub count: Option<CountPref>,
    /// The representation asked for.
    pub media: MediaType,
    /// HEAD: headers only.
    pub headers_only: bool,
}

/// A read of one table, top-level or embedded.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadPlan {
    /// The `api` table or view.
    pub table: String,
    /// The SQL alias of this table instance (`pgrst_0`, `pgrst_1`, …), unique in the statement.
    pub alias: String,
    /// The output columns and embeddings.
    pub select: Vec<PlannedItem>,
    /// Conditions on this table's rows, all of which must hold.
    pub filters: Vec<PlannedTree>,
    /// Ordering.
    pub order: Vec<PlannedOrder>,
    /// Limit and offset.
    pub range: RowRange,
    /// For an embedding: how it joins its parent.
    pub join: Option<Join>,
}

/// How an embedded read joins its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    /// The parent's SQL alias.
    pub parent_alias: String,
    /// `(column of this table, column of the parent)` pairs that must be equal.
    pub columns: Vec<(String, String)>,
    /// One row (an object or null) rather than many (an array).
    pub to_one: bool,
    /// `!inner`: the parent row is kept only if this read finds a row.
    pub inner: bool,
}

/// One output item of a read.
#[derive(Debug, Clone, PartialEq)]
pub enum PlannedItem {
    /// Every column.
    Star,
    /// A column (or a JSON path into one) under `key`.
    Column {
        /// The output key.
        key: String,
        /// The column.
        column: String,
        /// The JSON path.
        json_path: Vec<JsonOp>,
        /// An allowed cast (SQL type name).
        cast: Option<&'static str>,
    },
    /// An embedded read under `key`; `output: false` for `rel()` (filtering only).
    Embed {
        /// The output key.
        key: String,
        /// The read.
        plan: Box<ReadPlan>,
        /// Whether it appears in the output.
        output: bool,
    },
}

/// A resolved filter tree.
#[derive(Debug, Clone, PartialEq)]
pub enum PlannedTree {
    /// `and`/`or`.
    Expr {
        /// `not.`.
        negated: bool,
        /// And or or.
        op: LogicOp,
        /// Operands.
        children: Vec<PlannedTree>,
    },
    /// One filter.
    Stmt(PlannedFilter),
    /// `rel=not.is.null` (`exists`) or `rel=is.null`: whether the embedding `key` of the same
    /// read finds a row (after its own filters), as PostgREST's null filters on embeddings.
    EmbedExists {
        /// The embedding's output key.
        key: String,
        /// Keep rows where it finds one (`true`) or where it finds none.
        exists: bool,
    },
}

/// A filter on a column whose type is known.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFilter {
    /// The column.
    pub column: String,
    /// A JSON path into it.
    pub json_path: Vec<JsonOp>,
    /// The SQL type the compared value is cast to (the column's, or `text`/`jsonb` after a path).
    pub value_type: String,
    /// Whether the compared expression is an array (so `in` cannot use `= ANY`).
    pub is_array: bool,
    /// `not.`.
    pub negated: bool,
    /// Operator and operand.
    pub op: Operation,
}

/// A resolved order term.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedOrder {
    /// The column.
    pub column: String,
    /// A JSON path into it.
    pub json_path: Vec<JsonOp>,
    /// Descending.
    pub descending: bool,
    /// Nulls first (`Some(true)`) or last.
    pub nulls_first: Option<bool>,
}

/// Casts `select=col::type` may use, by the name a client writes (PostgREST passes any type name to
/// PostgreSQL; kea allows these, which cover JSON's needs).
const CASTS: &[(&str, &str)] = &[
    ("text", "text"),
    ("varchar", "varchar"),
    ("int", "integer"),
    ("int4", "integer"),
    ("integer", "integer"),
    ("int2", "smallint"),
    ("smallint", "smallint"),
    ("int8", "bigint"),
    ("bigint", "bigint"),
    ("numeric", "numeric"),
    ("decimal", "numeric"),
    ("real", "real"),
    ("float4", "real"),
    ("float8", "double precision"),
    ("float", "double precision"),
    ("bool", "boolean"),
    ("boolean", "boolean"),
    ("json", "json"),
    ("jsonb", "jsonb"),
    ("uuid", "uuid"),
    ("date", "date"),
    ("time", "time"),
    ("timestamp", "timestamp"),
    ("timestamptz", "timestamp with time zone"),
    ("interval", "interval"),
];

/// Plans a request against the schema.
pub fn plan(req: &ApiRequest, cache: &SchemaCache) -> Result<Plan, PgrstError> {
    let Action::Read { headers_only } = req.action;
    let table = cache
        .tables
        .get(&req.resource)
        .ok_or_else(|| PgrstError::no_table(&req.resource))?;
    let mut next_alias = 0usize;
    let mut root = read_plan(cache, table, &req.select, None, &mut next_alias)?;
    for (path, tree) in &req.filters {
        let target = descend(&mut root, path)?;
        let t = cache
            .tables
            .get(&target.table)
            .ok_or_else(|| PgrstError::no_table(&target.table))?;
        let embeds: Vec<String> = target
            .select
            .iter()
            .filter_map(|i| match i {
                PlannedItem::Embed { key, .. } => Some(key.clone()),
                _ => None,
            })
            .collect();
        let planned = plan_tree(t, &embeds, tree)?;
        target.filters.push(planned);
    }
    for (path, terms) in &req.orders {
        let target = descend(&mut root, path)?;
        let t = cache
            .tables
            .get(&target.table)
            .ok_or_else(|| PgrstError::no_table(&target.table))?;
        target.order = terms
            .iter()
            .map(|o| plan_order(t, o))
            .collect::<Result<_, _>>()?;
    }
    for (path, range) in &req.ranges {
        descend(&mut root, path)?.range = *range;
    }
    root.range = req.top_range;
    Ok(Plan {
        root,
        count: req.count,
        media: req.accept,
        headers_only,
    })
}

fn read_plan(
    cache: &SchemaCache,
    table: &Table,
    select: &[SelectItem],
    join: Option<Join>,
    next_alias: &mut usize,
) -> Result<ReadPlan, PgrstError> {
    let alias = format!("pgrst_{next_alias}");
    *next_alias += 1;
    let mut items = Vec::with_capacity(select.len());
    for item in select {
        items.push(match item {
            SelectItem::Star => PlannedItem::Star,
            SelectItem::Field {
                alias: key,
                field,
                cast,
            } => {
                check_column(table, field)?;
                let cast = match cast {
                    None => None,
                    Some(c) => Some(
                        CASTS
                            .iter()
                            .find(|(name, _)| name.eq_ignore_ascii_case(c))
                            .map(|(_, sql)| *sql)
                            .ok_or_else(|| PgrstError::no_type(c))?,
                    ),
                };
                PlannedItem::Column {
                    key: key.clone().unwrap_or_else(|| field.default_key()),
                    column: field.name.clone(),
                    json_path: field.json_path.clone(),
                    cast,
                }
            }
            SelectItem::Embed(e) => {
                let rels = cache.find_relationships(&table.name, &e.name, e.hint.as_deref());
                let rel = match rels.as_slice() {
                    [] => return Err(PgrstError::no_relationship(&table.name, &e.name)),
                    [one] => *one,
                    many => {
                        let names: Vec<String> = many
                            .iter()
                            .map(|r| format!("{}!{}", e.name, r.constraint))
                            .collect();
                        return Err(PgrstError::ambiguous_relationship(
                            &table.name,
                            &e.name,
                            &names,
                        ));
                    }
                };
                let child = cache
                    .tables
                    .get(&rel.foreign_table)
                    .ok_or_else(|| PgrstError::no_relationship(&table.name, &e.name))?;
                let join = Join {
                    parent_alias: alias.clone(),
                    columns: rel
                        .columns
                        .iter()
                        .map(|(p, c)| (c.clone(), p.clone()))
                        .collect(),
                    to_one: rel.to_one(),
                    inner: e.inner,
                };
                let output = !e.select.is_empty();
                let plan = read_plan(cache, child, &e.select, Some(join), next_alias)?;
                PlannedItem::Embed {
                    key: e.key().to_owned(),
                    plan: Box::new(plan),
                    output,
                }
            }
        });
    }
    Ok(ReadPlan {
        table: table.name.clone(),
        alias,
        select: items,
        filters: Vec::new(),
        order: Vec::new(),
        range: RowRange::default(),
        join,
    })
}

/// The read an embedding path (`["calls", "call_events"]`) names, by output key.
fn descend<'a>(root: &'a mut ReadPlan, path: &[String]) -> Result<&'a mut ReadPlan, PgrstError> {
    let mut cur = root;
    for name in path {
        let found = cur.select.iter_mut().find_map(|i| match i {
            PlannedItem::Embed { key, plan, .. } if key == name => Some(plan.as_mut()),
            _ => None,
        });
        cur = found.ok_or_else(|| PgrstError::not_embedded(name))?;
    }
    Ok(cur)
}

fn check_column<'t>(
    table: &'t Table,
    field: &Field,
) -> Result<&'t super::schema_cache::Column, PgrstError> {
    table
        .column(&field.name)
        .ok_or_else(|| PgrstError::no_column(&table.name, &field.name))
}

fn plan_tree(
    table: &Table,
    embeds: &[String],
    tree: &LogicTree,
) -> Result<PlannedTree, PgrstError> {
    Ok(match tree {
        LogicTree::Expr {
            negated,
            op,
            children,
        } => PlannedTree::Expr {
            negated: *negated,
            op: *op,
            children: children
                .iter()
                .map(|c| plan_tree(table, embeds, c))
                .collect::<Result<_, _>>()?,
        },
        LogicTree::Stmt(f)
            if f.field.json_path.is_empty()
                && table.column(&f.field.name).is_none()
                && embeds.contains(&f.field.name) =>
        {
            let exists = match f.op {
                Operation::Is(IsValue::Null) => f.negated,
                Operation::Is(IsValue::NotNull) => !f.negated,
                _ => {
                    return Err(PgrstError::new(
                        axum::http::StatusCode::BAD_REQUEST,
                        "PGRST120",
                        "Bad operator on the embedded resource",
                    )
                    .details(
                        "Only is null or not is null filters are allowed on embedded resources",
                    ));
                }
            };
            PlannedTree::EmbedExists {
                key: f.field.name.clone(),
                exists,
            }
        }
        LogicTree::Stmt(f) => {
            let column = check_column(table, &f.field)?;
            let (value_type, is_array) = match f.field.json_path.last() {
                None => (column.type_sql.clone(), column.is_array()),
                Some(JsonOp::DoubleArrow(_)) => ("text".to_owned(), false),
                Some(JsonOp::Arrow(_)) => ("jsonb".to_owned(), false),
            };
            PlannedTree::Stmt(PlannedFilter {
                column: column.name.clone(),
                json_path: f.field.json_path.clone(),
                value_type,
                is_array,
                negated: f.negated,
                op: f.op.clone(),
            })
        }
    })
}

fn plan_order(table: &Table, term: &OrderTerm) -> Result<PlannedOrder, PgrstError> {
    check_column(table, &term.field)?;
    Ok(PlannedOrder {
        column: term.field.name.clone(),
        json_path: term.field.json_path.clone(),
        descending: term.descending,
        nulls_first: term.nulls_first,
    })
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use crate::pgrst::request::parse;
    use crate::pgrst::schema_cache::tests::sample;
    use axum::http::{HeaderMap, Method};

    fn plan_q(resource: &str, q: &str) -> Result<Plan, PgrstError> {
        let req = parse(&Method::GET, resource, Some(q), &HeaderMap::new())?;
        plan(&req, &sample())
    }

    #[test]
    fn embeds_resolve_with_cardinality_and_join() {
        let p = plan_q(
            "orders",
            "select=id,order_items(sku),c:calls!inner(status,call_events(*))",
        )
        .unwrap();
        let PlannedItem::Embed {
            key,
            plan: items,
            output,
        } = &p.root.select[1]
        else {
            panic!()
        };
        assert_eq!((key.as_str(), *output), ("order_items", true));
        let join = items.join.as_ref().unwrap();
        assert_eq!(join.columns, vec![("order_id".to_owned(), "id".to_owned())]);
        assert!(!join.to_one);
        let PlannedItem::Embed {
            key, plan: calls, ..
        } = &p.root.select[2]
        else {
            panic!()
        };
        assert_eq!(key, "c");
        let join = calls.join.as_ref().unwrap();
        assert!(join.to_one && join.inner);
        assert_eq!(
            join.columns,
            vec![("call_sid".to_owned(), "call_sid".to_owned())]
        );
        assert_eq!(calls.alias, "pgrst_2");
        assert!(
            matches!(&calls.select[1], PlannedItem::Embed { plan, .. } if plan.alias == "pgrst_3")
        );
    }

    #[test]
    fn filters_orders_ranges_land_on_their_resource() {
        let p = plan_q(
            "orders",
            "select=*,order_items(*)&order_items.quantity=gt.1&order_items.order=sku.desc&order_items.limit=2&total_cents=gte.10",
        )
        .unwrap();
        assert_eq!(p.root.filters.len(), 1);
        let PlannedItem::Embed { plan: items, .. } = &p.root.select[1] else {
            panic!()
        };
        assert_eq!(items.filters.len(), 1);
        let PlannedTree::Stmt(f) = &items.filters[0] else {
            panic!()
        };
        assert_eq!(f.value_type, "integer");
        assert_eq!(items.order.len(), 1);
        assert_eq!(items.range.limit, Some(2));
    }

    #[test]
    fn errors_have_postgrest_codes() {
        let code = |r: &str, q: &str| plan_q(r, q).unwrap_err().code;
        assert_eq!(code("nope", ""), "PGRST205");
        assert_eq!(code("orders", "select=*,workers(*)"), "PGRST200");
        assert_eq!(code("orders", "select=nope"), "42703");
        assert_eq!(code("orders", "nope=eq.1"), "42703");
        assert_eq!(code("orders", "order=nope"), "42703");
        assert_eq!(code("orders", "select=*,order_items(nope)"), "42703");
        assert_eq!(code("orders", "order_items.sku=eq.1"), "PGRST108");
        assert_eq!(code("orders", "select=id::regclass"), "42704");
        assert_eq!(code("calls", "select=*,orders!nope(*)"), "PGRST200");
        let e = plan_q("orders", "nope=eq.1").unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.message.as_str()),
            (400, "column orders.nope does not exist")
        );
    }
}
