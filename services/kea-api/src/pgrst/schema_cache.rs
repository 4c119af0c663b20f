//! What the data API knows of schema `api`: its tables and views, their columns and types, and the
//! relationships it can embed through, derived from the base tables' foreign keys.
//!
//! The cache is built from one catalog document ([`CatalogDoc`], read by
//! [`super::exec::load_schema`]) with a pure function, so it is tested without a database. It is
//! held in a [`SchemaHandle`] that the server loads on the first data-API request and reloads on
//! `NOTIFY pgrst, 'reload schema'` (the last statement of every migration that changes `api`).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use serde::Deserialize;

/// Tables, views, relationships and functions of schema `api`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaCache {
    /// By name.
    pub tables: HashMap<String, Table>,
    /// Every relationship, in both directions.
    pub relationships: Vec<Relationship>,
    /// Functions by name (each overload once).
    pub routines: HashMap<String, Vec<Routine>>,
}

/// A function of schema `api`, callable as `/rpc/<name>`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Routine {
    /// Its name.
    pub name: String,
    /// Its input arguments in order.
    #[serde(default)]
    pub args: Vec<RoutineArg>,
    /// The return type as `format_type` spells it (`jsonb`, `record`, `void`).
    pub return_type: String,
    /// `RETURNS SETOF …` / `RETURNS TABLE (…)`.
    pub returns_set: bool,
    /// The result's columns when it returns rows (`TABLE (…)`, OUT arguments or a composite
    /// type); empty for a scalar.
    #[serde(default)]
    pub columns: Vec<RoutineArg>,
    /// `IMMUTABLE`, `STABLE` or `VOLATILE`.
    pub volatility: Volatility,
    /// Its `COMMENT ON`, if any.
    #[serde(default)]
    pub description: Option<String>,
}

impl Routine {
    /// Whether a call may run in a read-only transaction (PostgREST: STABLE and IMMUTABLE).
    pub fn read_only(&self) -> bool {
        self.volatility != Volatility::Volatile
    }

    /// The result's columns as a pseudo-table, so the read grammar (select, filters, order)
    /// applies to a function returning rows.
    pub fn result_table(&self) -> Table {
        Table {
            name: self.name.clone(),
            columns: self
                .columns
                .iter()
                .map(|c| Column {
                    name: c.name.clone(),
                    type_sql: c.type_sql.clone(),
                    nullable: true,
                    description: None,
                })
                .collect(),
            description: self.description.clone(),
            primary_key: Vec::new(),
        }
    }
}

/// An argument (or result column) of a function.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RoutineArg {
    /// Its name (empty when unnamed).
    pub name: String,
    /// Its type as `format_type` spells it; used as a column type of `json_to_record`.
    pub type_sql: String,
    /// Whether it may be left out (it has a default).
    #[serde(default)]
    pub has_default: bool,
}

/// A function's volatility (`pg_proc.provolatile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Volatility {
    /// `i`
    #[serde(rename = "i")]
    Immutable,
    /// `s`
    #[serde(rename = "s")]
    Stable,
    /// `v`
    #[serde(rename = "v")]
    Volatile,
}

/// A table or view of schema `api`.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Its columns in order.
    pub columns: Vec<Column>,
    /// Its `COMMENT ON`, if any.
    pub description: Option<String>,
    /// Its primary key columns (for a view: its base table's primary key, when the view exposes
    /// all of it), empty if none.
    pub primary_key: Vec<String>,
}

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A column and its SQL type.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// The type as `format_type` spells it (`bigint`, `timestamp with time zone`, `text[]`): bound
    /// values are cast to it. Comes from the catalog, never from a request.
    pub type_sql: String,
    /// Whether it may be null (a view's column is not null when its base column is not).
    pub nullable: bool,
    /// Its `COMMENT ON`, if any.
    pub description: Option<String>,
}

impl Column {
    /// Whether the column is an array.
    pub fn is_array(&self) -> bool {
        self.type_sql.ends_with("[]")
    }
}

/// How many rows of the foreign table one row of the table relates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// The table holds the foreign key: one row (embedded as an object).
    ManyToOne,
    /// The foreign table holds the foreign key: many rows (embedded as an array).
    OneToMany,
    /// The foreign table holds a foreign key that is also unique: one row (an object).
    OneToOne,
}

/// A foreign-key relationship from `table` to `foreign_table`.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    /// The table the embedding starts from.
    pub table: String,
    /// The table embedded.
    pub foreign_table: String,
    /// Column pairs: `(column of table, column of foreign_table)`.
    pub columns: Vec<(String, String)>,
    /// One or many.
    pub cardinality: Cardinality,
    /// The name of the base tables' foreign key constraint (usable as an `!hint`).
    pub constraint: String,
}

impl Relationship {
    /// Whether the embedding yields at most one row (an object, not an array).
    pub fn to_one(&self) -> bool {
        self.cardinality != Cardinality::OneToMany
    }
}

/// The catalog facts the cache is built from (one JSON document from the database).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CatalogDoc {
    /// Columns of the relations of schema `api`.
    #[serde(default)]
    pub columns: Vec<CatalogColumn>,
    /// Which base-table column each column of an `api` relation comes from.
    #[serde(default)]
    pub sources: Vec<CatalogSource>,
    /// Foreign keys between base tables.
    #[serde(default)]
    pub fks: Vec<CatalogFk>,
    /// Primary keys and unique constraints of base tables.
    #[serde(default)]
    pub uniques: Vec<CatalogUnique>,
    /// The relations of schema `api` with their comments.
    #[serde(default)]
    pub relations: Vec<CatalogRelation>,
    /// The functions of schema `api`.
    #[serde(default)]
    pub routines: Vec<Routine>,
}

/// A relation of schema `api`.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogRelation {
    /// Relation name.
    pub table: String,
    /// Its `COMMENT ON`, if any.
    #[serde(default)]
    pub description: Option<String>,
}

fn yes() -> bool {
    true
}

/// One column of an `api` relation.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogColumn {
    /// Relation name.
    pub table: String,
    /// Column name.
    pub column: String,
    /// `format_type` of its type.
    pub type_sql: String,
    /// Position.
    pub position: i32,
    /// Whether it may be null.
    #[serde(default = "yes")]
    pub nullable: bool,
    /// Its `COMMENT ON`, if any.
    #[serde(default)]
    pub description: Option<String>,
}

/// Column `column` of `api` relation `table` is column `base_column` of base table `base`.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogSource {
    /// The `api` relation.
    pub table: String,
    /// Its column.
    pub column: String,
    /// The base table's oid.
    pub base: i64,
    /// The base table's column.
    pub base_column: String,
}

/// A foreign key `table(columns) → foreign_table(foreign_columns)` between base tables (oids).
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogFk {
    /// Constraint name.
    pub name: String,
    /// Referencing table oid.
    pub table: i64,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Referenced table oid.
    pub foreign_table: i64,
    /// Referenced columns.
    pub foreign_columns: Vec<String>,
}

/// A primary key or unique constraint of a base table (oid).
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogUnique {
    /// Table oid.
    pub table: i64,
    /// The unique column set.
    pub columns: Vec<String>,
    /// Whether it is the primary key.
    #[serde(default)]
    pub primary: bool,
}

impl SchemaCache {
    /// Builds the cache from the catalog facts.
    ///
    /// An `api` relation exposes a foreign key when it exposes every column of it from the same
    /// base table; PostgREST derives view relationships the same way (through view column
    /// dependencies).
    pub fn from_catalog(doc: &CatalogDoc) -> SchemaCache {
        let mut tables: BTreeMap<String, Table> = BTreeMap::new();
        let mut cols = doc.columns.clone();
        cols.sort_by(|a, b| (&a.table, a.position).cmp(&(&b.table, b.position)));
        for c in cols {
            tables
                .entry(c.table.clone())
                .or_insert_with(|| Table {
                    name: c.table.clone(),
                    columns: Vec::new(),
                    description: None,
                    primary_key: Vec::new(),
                })
                .columns
                .push(Column {
                    name: c.column,
                    type_sql: c.type_sql,
                    nullable: c.nullable,
                    description: c.description,
                });
        }
        for r in &doc.relations {
            if let Some(t) = tables.get_mut(&r.table) {
                t.description.clone_from(&r.description);
            }
        }
        // For each api relation: base oid → (base column → api column).
        let mut exposes: BTreeMap<&str, BTreeMap<i64, HashMap<&str, &str>>> = BTreeMap::new();
        for s in &doc.sources {
            exposes
                .entry(&s.table)
                .or_default()
                .entry(s.base)
                .or_default()
                .insert(&s.base_column, &s.column);
        }
        let map_cols = |api: &str, base: i64, columns: &[String]| -> Option<Vec<String>> {
            let m = exposes.get(api)?.get(&base)?;
            columns
                .iter()
                .map(|c| m.get(c.as_str()).map(|s| (*s).to_owned()))
                .collect()
        };
        let is_unique = |base: i64, columns: &[String]| {
            doc.uniques.iter().any(|u| {
                u.table == base
                    && u.columns.len() == columns.len()
                    && u.columns.iter().all(|c| columns.contains(c))
            })
        };
        // A relation's primary key: its base table's, when it exposes all of it (from one base).
        for (name, table) in &mut tables {
            let mut keys = doc
                .uniques
                .iter()
                .filter(|u| u.primary)
                .filter_map(|u| map_cols(name, u.table, &u.columns));
            if let (Some(key), None) = (keys.next(), keys.next()) {
                table.primary_key = key;
            }
        }
        let mut relationships = Vec::new();
        for fk in &doc.fks {
            for (from, from_map) in &exposes {
                if !from_map.contains_key(&fk.table) {
                    continue;
                }
                let Some(from_cols) = map_cols(from, fk.table, &fk.columns) else {
                    continue;
                };
                for (to, to_map) in &exposes {
                    if !to_map.contains_key(&fk.foreign_table) {
                        continue;
                    }
                    let Some(to_cols) = map_cols(to, fk.foreign_table, &fk.foreign_columns) else {
                        continue;
                    };
                    let pairs: Vec<(String, String)> = from_cols
                        .iter()
                        .cloned()
                        .zip(to_cols.iter().cloned())
                        .collect();
                    relationships.push(Relationship {
                        table: (*from).to_owned(),
                        foreign_table: (*to).to_owned(),
                        columns: pairs.clone(),
                        cardinality: Cardinality::ManyToOne,
                        constraint: fk.name.clone(),
                    });
                    relationships.push(Relationship {
                        table: (*to).to_owned(),
                        foreign_table: (*from).to_owned(),
                        columns: pairs.into_iter().map(|(a, b)| (b, a)).collect(),
                        cardinality: if is_unique(fk.table, &fk.columns) {
                            Cardinality::OneToOne
                        } else {
                            Cardinality::OneToMany
                        },
                        constraint: fk.name.clone(),
                    });
                }
            }
        }
        let mut routines: HashMap<String, Vec<Routine>> = HashMap::new();
        for r in &doc.routines {
            routines.entry(r.name.clone()).or_default().push(r.clone());
        }
        SchemaCache {
            tables: tables.into_iter().collect(),
            relationships,
            routines,
        }
    }

    /// The relationships from `table` to `foreign_table`, narrowed by `hint` (a constraint name or
    /// a column of either side) if given.
    pub fn find_relationships(
        &self,
        table: &str,
        foreign_table: &str,
        hint: Option<&str>,
    ) -> Vec<&Relationship> {
        self.relationships
            .iter()
            .filter(|r| r.table == table && r.foreign_table == foreign_table)
            .filter(|r| match hint {
                None => true,
                Some(h) => r.constraint == h || r.columns.iter().any(|(a, b)| a == h || b == h),
            })
            .collect()
    }
}

/// The shared, reloadable schema cache of a server.
#[derive(Debug, Default)]
pub struct SchemaHandle {
    current: RwLock<Option<Arc<SchemaCache>>>,
    /// Held while a load runs, so concurrent first requests load once.
    pub loading: tokio::sync::Mutex<()>,
    listener_started: AtomicBool,
}

impl SchemaHandle {
    /// The loaded cache, if any.
    pub fn get(&self) -> Option<Arc<SchemaCache>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the cache.
    pub fn set(&self, cache: SchemaCache) -> Arc<SchemaCache> {
        let cache = Arc::new(cache);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(cache.clone());
        cache
    }

    /// Marks the listener as started; true only for the first caller.
    pub fn claim_listener(&self) -> bool {
        !self.listener_started.swap(true, Ordering::SeqCst)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn col(table: &str, column: &str, type_sql: &str, position: i32) -> CatalogColumn {
        CatalogColumn {
            table: table.into(),
            column: column.into(),
            type_sql: type_sql.into(),
            position,
            nullable: true,
            description: None,
        }
    }

    fn src(table: &str, column: &str, base: i64) -> CatalogSource {
        CatalogSource {
            table: table.into(),
            column: column.into(),
            base,
            base_column: column.into(),
        }
    }

    /// A small model of kea's `api` schema: calls, orders (unique call_sid), order_items, tasks.
    pub(crate) fn sample() -> SchemaCache {
        type Columns<'a> = &'a [(&'a str, &'a str)];
        let tables: [(&str, i64, Columns<'_>); 5] = [
            (
                "calls",
                1,
                &[
                    ("call_sid", "text"),
                    ("store_id", "text"),
                    ("status", "text"),
                    ("outcome", "text"),
                ],
            ),
            (
                "orders",
                2,
                &[
                    ("id", "uuid"),
                    ("call_sid", "text"),
                    ("store_id", "text"),
                    ("status", "text"),
                    ("total_cents", "bigint"),
                    ("notes", "text"),
                    ("tags", "text[]"),
                    ("meta", "jsonb"),
                ],
            ),
            (
                "order_items",
                3,
                &[
                    ("id", "bigint"),
                    ("order_id", "uuid"),
                    ("sku", "text"),
                    ("quantity", "integer"),
                ],
            ),
            (
                "tasks",
                4,
                &[
                    ("id", "uuid"),
                    ("order_id", "uuid"),
                    ("call_sid", "text"),
                    ("worker_id", "uuid"),
                ],
            ),
            (
                "call_events",
                5,
                &[
                    ("call_sid", "text"),
                    ("seq", "integer"),
                    ("payload", "jsonb"),
                ],
            ),
        ];
        let mut doc = CatalogDoc::default();
        for (t, oid, cols) in tables {
            for (i, (c, ty)) in cols.iter().enumerate() {
                doc.columns
                    .push(col(t, c, ty, i32::try_from(i).unwrap_or(0)));
                doc.sources.push(src(t, c, oid));
            }
        }
        let fk = |name: &str, t: i64, c: &str, ft: i64, fc: &str| CatalogFk {
            name: name.into(),
            table: t,
            columns: vec![c.into()],
            foreign_table: ft,
            foreign_columns: vec![fc.into()],
        };
        doc.fks = vec![
            fk("orders_call_sid_fkey", 2, "call_sid", 1, "call_sid"),
            fk("order_items_order_id_fkey", 3, "order_id", 2, "id"),
            fk("tasks_order_id_fkey", 4, "order_id", 2, "id"),
            fk("tasks_call_sid_fkey", 4, "call_sid", 1, "call_sid"),
            fk("call_events_call_sid_fkey", 5, "call_sid", 1, "call_sid"),
        ];
        doc.uniques = vec![CatalogUnique {
            table: 2,
            columns: vec!["call_sid".into()],
            primary: false,
        }];
        // Primary keys: calls(call_sid), orders(id), order_items(id), tasks(id).
        for (table, column) in [(1, "call_sid"), (2, "id"), (3, "id"), (4, "id")] {
            doc.uniques.push(CatalogUnique {
                table,
                columns: vec![column.into()],
                primary: true,
            });
        }
        doc.routines = serde_json::from_value(serde_json::json!([
            {"name": "order_summary", "args": [{"name": "order_id", "type_sql": "uuid"}],
             "return_type": "jsonb", "returns_set": false, "volatility": "s"},
            {"name": "store_order_stats", "args": [{"name": "store_id", "type_sql": "text"}],
             "return_type": "record", "returns_set": true, "volatility": "s",
             "columns": [{"name": "status", "type_sql": "text"},
                         {"name": "orders", "type_sql": "bigint"},
                         {"name": "total_cents", "type_sql": "bigint"}]},
            {"name": "touch", "args": [{"name": "id", "type_sql": "uuid"},
                                        {"name": "note", "type_sql": "text", "has_default": true}],
             "return_type": "void", "returns_set": false, "volatility": "v"}
        ]))
        .unwrap_or_default();
        SchemaCache::from_catalog(&doc)
    }

    #[test]
    fn relationships_both_directions_with_cardinality() {
        let s = sample();
        assert_eq!(s.tables["orders"].columns[4].type_sql, "bigint");
        let r = s.find_relationships("orders", "order_items", None);
        assert_eq!((r.len(), r[0].cardinality), (1, Cardinality::OneToMany));
        assert_eq!(r[0].columns, vec![("id".to_owned(), "order_id".to_owned())]);
        let r = s.find_relationships("order_items", "orders", None);
        assert_eq!((r.len(), r[0].cardinality), (1, Cardinality::ManyToOne));
        // orders.call_sid is unique: calls → orders is one-to-one.
        let r = s.find_relationships("calls", "orders", None);
        assert_eq!(r[0].cardinality, Cardinality::OneToOne);
        assert!(
            s.find_relationships("calls", "order_items", None)
                .is_empty()
        );
        assert_eq!(
            s.find_relationships("tasks", "orders", Some("order_id"))
                .len(),
            1
        );
        assert!(
            s.find_relationships("tasks", "orders", Some("nope"))
                .is_empty()
        );
    }

    #[test]
    fn primary_keys_nullability_and_comments() {
        let s = sample();
        assert_eq!(s.tables["orders"].primary_key, vec!["id".to_owned()]);
        assert_eq!(s.tables["calls"].primary_key, vec!["call_sid".to_owned()]);
        assert!(s.tables["call_events"].primary_key.is_empty());
        let doc: CatalogDoc = serde_json::from_value(serde_json::json!({
            "columns": [
                {"table": "v", "column": "id", "type_sql": "uuid", "position": 1,
                 "nullable": false, "description": "The id."},
                {"table": "v", "column": "x", "type_sql": "text", "position": 2}
            ],
            "sources": [
                {"table": "v", "column": "id", "base": 7, "base_column": "id"},
                {"table": "v", "column": "x", "base": 7, "base_column": "x"}
            ],
            "uniques": [{"table": 7, "columns": ["id"], "primary": true}],
            "relations": [{"table": "v", "description": "A view."}]
        }))
        .unwrap_or_default();
        let v = &SchemaCache::from_catalog(&doc).tables["v"];
        assert_eq!(v.description.as_deref(), Some("A view."));
        assert_eq!(v.primary_key, vec!["id".to_owned()]);
        assert!(!v.columns[0].nullable);
        assert_eq!(v.columns[0].description.as_deref(), Some("The id."));
        // Older catalog documents without nullability: nullable.
        assert!(v.columns[1].nullable && v.columns[1].description.is_none());
    }

    #[test]
    fn a_view_missing_a_key_column_has_no_relationship() {
        let doc = CatalogDoc {
            columns: vec![col("a", "id", "int", 1), col("b", "x", "int", 1)],
            sources: vec![src("a", "id", 1), src("b", "x", 2)],
            fks: vec![CatalogFk {
                name: "b_a_fkey".into(),
                table: 2,
                columns: vec!["a_id".into()],
                foreign_table: 1,
                foreign_columns: vec!["id".into()],
            }],
            uniques: Vec::new(),
            relations: Vec::new(),
            routines: Vec::new(),
        };
        assert!(SchemaCache::from_catalog(&doc).relationships.is_empty());
    }
}
