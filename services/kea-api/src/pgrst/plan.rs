//! [`ApiRequest`] + [`SchemaCache`] → [`Plan`]: names resolved against the schema, relationships
//! chosen, filters and orders attached to the resource they apply to. Pure.
//!
//! Errors: PGRST205 (no such table), PGRST200/201 (no or ambiguous relationship), PGRST108 (a
//! filter or order on a resource the select does not embed), 42703 (no such column), 42704 (a cast
//! to a type that is not allowed); for writes PGRST204 (a body, `columns=` or `on_conflict=` name
//! the table lacks), PGRST105/114/115 (a PUT that does not name exactly one row by its primary
//! key); for calls PGRST202/203 (no function, or more than one, takes these argument names).

use super::error::PgrstError;
use super::request::{
    Action, ApiRequest, CountPref, Field, IsValue, JsonOp, LogicOp, LogicTree, MediaType,
    Operation, OrderTerm, Payload, Preferences, Resolution, ReturnPref, RowRange, SelectItem,
    parse_filter,
};
use super::schema_cache::{Routine, SchemaCache, Table};

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
    /// A read, a write or a call.
    pub kind: PlanKind,
    /// The `Prefer` header.
    pub prefer: Preferences,
}

/// What kind of statement the plan is.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanKind {
    /// A read of [`Plan::root`].
    Read,
    /// A write; [`Plan::root`] shapes the written rows for `return=representation`.
    Mutate(MutatePlan),
    /// A function call; [`Plan::root`] reads its result when it returns rows.
    Call(CallPlan),
}

/// An insert, update, delete or single-row upsert of one `api` table or view.
#[derive(Debug, Clone, PartialEq)]
pub struct MutatePlan {
    /// Insert (POST), update (PATCH), delete, or single upsert (PUT).
    pub action: Action,
    /// The table or view written.
    pub table: String,
    /// The columns written, checked against the schema cache.
    pub columns: Vec<String>,
    /// The body as JSON text (an array of rows for inserts, one object for updates), bound as
    /// one parameter.
    pub payload: String,
    /// `missing=default` with rows lacking some keys: each row's JSON and which of `columns` it
    /// has (the others are written as DEFAULT).
    pub row_values: Option<Vec<(String, Vec<bool>)>>,
    /// `ON CONFLICT`, for upserts.
    pub on_conflict: Option<OnConflict>,
    /// `Prefer: return=…` (minimal when absent).
    pub returning: ReturnPref,
    /// The table's primary key (for `Location` and limited writes).
    pub primary_key: Vec<String>,
    /// PATCH/DELETE bounded by `limit`/`offset` ([`Plan::root`] holds the filters, order and
    /// range of the rows to change).
    pub limited: bool,
}

/// `ON CONFLICT (columns) DO UPDATE` (merge) or `DO NOTHING`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnConflict {
    /// The unique columns (checked against the schema cache).
    pub columns: Vec<String>,
    /// Merge duplicates (update) rather than ignore them.
    pub merge: bool,
}

/// A call of a function of schema `api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPlan {
    /// The function (from the schema cache).
    pub function: String,
    /// The arguments passed, by name, with their types (from the catalog).
    pub args: Vec<(String, String)>,
    /// The arguments as one JSON object, bound as one parameter.
    pub args_json: String,
    /// It returns a scalar (not rows): the body is its JSON value.
    pub scalar: bool,
    /// It returns a set.
    pub returns_set: bool,
    /// It returns void: 204, no body.
    pub returns_void: bool,
    /// The call may run in a read-only transaction (GET, or a STABLE/IMMUTABLE function).
    pub read_only: bool,
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
    match req.action {
        Action::Call { .. } => plan_call(req, cache),
        _ => plan_table(req, cache),
    }
}

fn plan_table(req: &ApiRequest, cache: &SchemaCache) -> Result<Plan, PgrstError> {
    let table = cache
        .tables
        .get(&req.resource)
        .ok_or_else(|| PgrstError::no_table(&req.resource))?;
    let mut root = resolve_read(cache, table, req, &req.filters)?;
    let (kind, headers_only) = match req.action {
        Action::Read { headers_only } => (PlanKind::Read, headers_only),
        Action::Insert | Action::Update | Action::Delete | Action::SingleUpsert => (
            PlanKind::Mutate(plan_mutation(req, table, &mut root)?),
            false,
        ),
        Action::Call { .. } => return Err(PgrstError::internal()),
    };
    Ok(Plan {
        root,
        count: req.count,
        media: req.accept,
        headers_only,
        kind,
        prefer: req.prefer,
    })
}

/// The read of `table` that `req` asks for: its select, and its filters, orders and ranges
/// attached to the resource (top-level or embedded) each names.
fn resolve_read(
    cache: &SchemaCache,
    table: &Table,
    req: &ApiRequest,
    filters: &[(Vec<String>, LogicTree)],
) -> Result<ReadPlan, PgrstError> {
    let mut next_alias = 0usize;
    let mut root = read_plan(cache, table, &req.select, None, &mut next_alias)?;
    // The top-level table may be a function's result, which is not in the cache.
    let table_of = |name: &str, top: bool| -> Result<&Table, PgrstError> {
        if top {
            Ok(table)
        } else {
            cache
                .tables
                .get(name)
                .ok_or_else(|| PgrstError::no_table(name))
        }
    };
    for (path, tree) in filters {
        let target = descend(&mut root, path)?;
        let t = table_of(&target.table, path.is_empty())?;
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
        let t = table_of(&target.table, path.is_empty())?;
        target.order = terms
            .iter()
            .map(|o| plan_order(t, o))
            .collect::<Result<_, _>>()?;
    }
    for (path, range) in &req.ranges {
        descend(&mut root, path)?.range = *range;
    }
    root.range = req.top_range;
    Ok(root)
}

/// One row of a body.
type JsonRow = serde_json::Map<String, serde_json::Value>;

/// The body's rows, their keys checked against `table` (PGRST204 for one it does not have).
fn payload_rows<'r>(
    req: &'r ApiRequest,
    table: &Table,
) -> Result<(&'r [JsonRow], Vec<String>), PgrstError> {
    let Some(Payload::Rows { rows, keys, .. }) = &req.payload else {
        return Err(PgrstError::invalid_body("Empty or invalid json"));
    };
    for k in keys {
        if table.column(k).is_none() {
            return Err(PgrstError::no_column_in_cache(&table.name, k));
        }
    }
    Ok((rows, keys.clone()))
}

fn plan_mutation(
    req: &ApiRequest,
    table: &Table,
    root: &mut ReadPlan,
) -> Result<MutatePlan, PgrstError> {
    let returning = req.prefer.representation.unwrap_or(ReturnPref::Minimal);
    let mut m = MutatePlan {
        action: req.action,
        table: table.name.clone(),
        columns: Vec::new(),
        payload: String::from("[]"),
        row_values: None,
        on_conflict: None,
        returning,
        primary_key: table.primary_key.clone(),
        limited: false,
    };
    match req.action {
        Action::Insert => {
            let (rows, keys) = payload_rows(req, table)?;
            if let Some(resolution) = req.prefer.resolution {
                let cols = match &req.on_conflict {
                    Some(cols) => cols.clone(),
                    None => table.primary_key.clone(),
                };
                for c in &cols {
                    if table.column(c).is_none() {
                        return Err(PgrstError::no_column_in_cache(&table.name, c));
                    }
                }
                // Without a key to resolve on there is nothing to upsert: a plain insert, as
                // PostgREST does for a table without a primary key.
                if !cols.is_empty() {
                    m.on_conflict = Some(OnConflict {
                        columns: cols,
                        merge: resolution == Resolution::MergeDuplicates,
                    });
                }
            }
            // `missing=default`: a row that lacks one of the `columns=` keys takes that
            // column's default, which only a VALUES list can say (DEFAULT).
            if req.prefer.missing_default == Some(true)
                && rows.iter().any(|r| keys.iter().any(|k| !r.contains_key(k)))
            {
                m.row_values = Some(
                    rows.iter()
                        .map(|r| {
                            let present = keys.iter().map(|k| r.contains_key(k)).collect();
                            (json_text(r), present)
                        })
                        .collect(),
                );
            }
            m.payload = serde_json::to_string(rows).map_err(|_| PgrstError::internal())?;
            m.columns = keys;
            root.filters.clear();
        }
        Action::SingleUpsert => {
            if req.query_limited {
                return Err(PgrstError::put_range());
            }
            let (rows, keys) = payload_rows(req, table)?;
            let pk = &table.primary_key;
            // PostgREST: exactly one `eq` filter on each primary-key column, nothing else.
            let mut named: Vec<(&str, &str)> = Vec::new();
            for (path, tree) in &req.filters {
                match tree {
                    LogicTree::Stmt(f)
                        if path.is_empty()
                            && !f.negated
                            && f.field.json_path.is_empty()
                            && pk.contains(&f.field.name) =>
                    {
                        match &f.op {
                            Operation::Simple {
                                op: super::request::SimpleOp::Eq,
                                value,
                            } => named.push((&f.field.name, value)),
                            _ => return Err(PgrstError::invalid_put()),
                        }
                    }
                    _ => return Err(PgrstError::invalid_put()),
                }
            }
            let mut names: Vec<&str> = named.iter().map(|(n, _)| *n).collect();
            names.sort_unstable();
            names.dedup();
            if pk.is_empty() || names.len() != named.len() || names.len() != pk.len() {
                return Err(PgrstError::invalid_put());
            }
            let [row] = rows else {
                return Err(PgrstError::put_mismatch());
            };
            for (column, value) in &named {
                let matches = match row.get(*column) {
                    Some(serde_json::Value::String(s)) => s == value,
                    Some(serde_json::Value::Number(n)) => {
                        value.parse::<serde_json::Number>().is_ok_and(|v| v == *n)
                    }
                    Some(serde_json::Value::Bool(b)) => {
                        (if *b { "true" } else { "false" }) == *value
                    }
                    _ => false,
                };
                if !matches {
                    return Err(PgrstError::put_mismatch());
                }
            }
            m.on_conflict = Some(OnConflict {
                columns: pk.clone(),
                merge: true,
            });
            m.payload = serde_json::to_string(rows).map_err(|_| PgrstError::internal())?;
            m.columns = keys;
            // The filters only named the row; the statement is an upsert of the body.
            root.filters.clear();
        }
        Action::Update => {
            let (rows, keys) = payload_rows(req, table)?;
            m.payload = rows
                .first()
                .map(json_text)
                .unwrap_or_else(|| "{}".to_owned());
            m.columns = keys;
            m.limited = limited(req, table)?;
        }
        Action::Delete => {
            m.limited = limited(req, table)?;
        }
        Action::Read { .. } | Action::Call { .. } => return Err(PgrstError::internal()),
    }
    Ok(m)
}

/// A JSON object as text (serializing a map of JSON values cannot fail).
fn json_text(m: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".to_owned())
}

/// Whether a PATCH or DELETE is bounded by `limit`/`offset`: it then changes the rows a read
/// with the same filters, order and range would return, picked by primary key (views have no
/// `ctid`), so a table without one cannot be limited.
fn limited(req: &ApiRequest, table: &Table) -> Result<bool, PgrstError> {
    if !req.query_limited {
        return Ok(false);
    }
    if table.primary_key.is_empty() {
        return Err(PgrstError::parse(
            "limit/offset on PATCH and DELETE need a primary key",
            format!("'{}' has no primary key", table.name),
        ));
    }
    Ok(true)
}

fn plan_call(req: &ApiRequest, cache: &SchemaCache) -> Result<Plan, PgrstError> {
    let Action::Call { read, headers_only } = req.action else {
        return Err(PgrstError::internal());
    };
    let overloads = cache.routines.get(&req.resource);
    // The names the caller gave: the JSON object's keys (POST) or the query parameters (GET),
    // some of which may be filters on the result.
    let given: Vec<String> = match (&req.payload, read) {
        (Some(Payload::Args(m)), false) => m.keys().cloned().collect(),
        (_, true) => req.rpc_params.iter().map(|(k, _)| k.clone()).collect(),
        _ => Vec::new(),
    };
    let fits = |r: &&Routine| {
        let required_given = r
            .args
            .iter()
            .filter(|a| !a.has_default)
            .all(|a| given.contains(&a.name));
        let all_known = read || given.iter().all(|g| r.args.iter().any(|a| &a.name == g));
        required_given && all_known
    };
    let mut candidates: Vec<&Routine> = overloads
        .map(|o| o.iter().filter(fits).collect())
        .unwrap_or_default();
    // GET: the overload that takes the most of the parameters as arguments.
    let matched = |r: &Routine| {
        given
            .iter()
            .filter(|g| r.args.iter().any(|a| &a.name == *g))
            .count()
    };
    candidates.sort_by_key(|r| std::cmp::Reverse(matched(r)));
    let routine = match candidates.as_slice() {
        [] => {
            let mut names = given.clone();
            names.sort_unstable();
            return Err(PgrstError::no_function(&req.resource, &names));
        }
        [one] => *one,
        [a, b, ..] if matched(a) > matched(b) => *a,
        _ => return Err(PgrstError::ambiguous_function(&req.resource)),
    };
    let is_arg = |k: &str| routine.args.iter().any(|a| a.name == k);
    let mut args = serde_json::Map::new();
    let mut filters = req.filters.clone();
    match (&req.payload, read) {
        (Some(Payload::Args(m)), false) => args.clone_from(m),
        (_, true) => {
            for (k, v) in &req.rpc_params {
                if is_arg(k) {
                    args.insert(k.clone(), serde_json::Value::String(v.clone()));
                } else {
                    filters.push((Vec::new(), parse_filter(k, v)?));
                }
            }
        }
        _ => {}
    }
    let table = routine.result_table();
    let root = resolve_read(cache, &table, req, &filters)?;
    let scalar = routine.columns.is_empty();
    if scalar && (!filters.is_empty() || !req.orders.is_empty()) {
        return Err(PgrstError::parse(
            "filters and order apply to functions that return rows",
            format!("api.{} returns {}", routine.name, routine.return_type),
        ));
    }
    let call = CallPlan {
        function: routine.name.clone(),
        args: routine
            .args
            .iter()
            .filter(|a| args.contains_key(&a.name))
            .map(|a| (a.name.clone(), a.type_sql.clone()))
            .collect(),
        args_json: serde_json::to_string(&args).map_err(|_| PgrstError::internal())?,
        scalar,
        returns_set: routine.returns_set,
        returns_void: routine.return_type == "void",
        read_only: read || routine.read_only(),
    };
    Ok(Plan {
        root,
        count: req.count,
        media: req.accept,
        headers_only,
        kind: PlanKind::Call(call),
        prefer: req.prefer,
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

    fn plan_with(method: Method, resource: &str, q: &str, body: &str) -> Result<Plan, PgrstError> {
        let mut req = if let Some(f) = resource.strip_prefix("rpc/") {
            crate::pgrst::request::parse_rpc(&method, f, Some(q), &HeaderMap::new())?
        } else {
            parse(&method, resource, Some(q), &HeaderMap::new())?
        };
        crate::pgrst::request::parse_body(&mut req, body.as_bytes())?;
        plan(&req, &sample())
    }

    #[test]
    fn writes_and_calls_are_checked_against_the_schema() {
        let code = |m: Method, r: &str, q: &str, b: &str| plan_with(m, r, q, b).unwrap_err().code;
        assert_eq!(
            code(Method::POST, "orders", "", r#"{"nope": 1}"#),
            "PGRST204"
        );
        assert_eq!(
            code(Method::POST, "orders", "columns=nope", "{}"),
            "PGRST204"
        );
        let e = plan_with(Method::POST, "orders", "on_conflict=nope", "{}");
        assert!(e.is_ok(), "on_conflict needs a resolution to matter");
        assert_eq!(code(Method::PATCH, "nope", "", "{}"), "PGRST205");
        // PUT: eq on exactly the primary key, and a body naming the same row.
        assert_eq!(
            code(Method::PUT, "orders", "", r#"{"id": "a"}"#),
            "PGRST105"
        );
        assert_eq!(
            code(Method::PUT, "orders", "id=gt.a", r#"{"id": "a"}"#),
            "PGRST105"
        );
        assert_eq!(
            code(Method::PUT, "orders", "id=eq.a&id=eq.b", r#"{"id": "a"}"#),
            "PGRST105"
        );
        assert_eq!(
            code(
                Method::PUT,
                "orders",
                "id=eq.a&status=eq.x",
                r#"{"id": "a"}"#
            ),
            "PGRST105"
        );
        assert_eq!(
            code(Method::PUT, "orders", "id=eq.b", r#"{"id": "a"}"#),
            "PGRST115"
        );
        assert_eq!(
            code(Method::PUT, "order_items", "id=eq.2", r#"{"id": 1}"#),
            "PGRST115"
        );
        assert!(plan_with(Method::PUT, "order_items", "id=eq.1", r#"{"id": 1}"#).is_ok());
        assert_eq!(
            code(Method::PUT, "call_events", "seq=eq.1", r#"{"seq": 1}"#),
            "PGRST105"
        );
        assert_eq!(
            code(Method::DELETE, "call_events", "limit=1", ""),
            "PGRST100"
        );
        // Calls: the arguments must fit one function.
        assert_eq!(code(Method::POST, "rpc/nope", "", "{}"), "PGRST202");
        assert_eq!(
            code(Method::POST, "rpc/order_summary", "", r#"{"x": 1}"#),
            "PGRST202"
        );
        assert_eq!(
            code(Method::POST, "rpc/touch", "", r#"{"note": "x"}"#),
            "PGRST202"
        );
        assert!(plan_with(Method::POST, "rpc/touch", "", r#"{"id": "x"}"#).is_ok());
        assert_eq!(
            code(Method::GET, "rpc/order_summary", "order_id=x&a=eq.1", ""),
            "42703"
        );
        assert_eq!(
            code(
                Method::GET,
                "rpc/store_order_stats",
                "store_id=x&nope=eq.1",
                ""
            ),
            "42703"
        );
        let p = plan_with(
            Method::GET,
            "rpc/store_order_stats",
            "store_id=x&orders=gt.1",
            "",
        )
        .unwrap();
        let PlanKind::Call(c) = &p.kind else { panic!() };
        assert_eq!(c.args, vec![("store_id".to_owned(), "text".to_owned())]);
        assert_eq!(p.root.filters.len(), 1);
    }
}
