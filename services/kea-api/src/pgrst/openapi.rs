//! `GET /rest/v1/`: an OpenAPI 3.1 description of the data API, built from the schema cache.
//!
//! PostgREST describes its root with Swagger 2.0; this is the same idea in OpenAPI 3.1, whose
//! Schema Objects are JSON Schema 2020-12: a nullable column is a type array (`["string", "null"]`),
//! not `nullable: true`. [`document`] is pure (a [`SchemaCache`] in, a JSON value out).
//!
//! What it describes:
//! - every table and view of schema `api` in the cache, as `components.schemas.<resource>` (column
//!   types mapped from PostgreSQL, nullability, `COMMENT ON` descriptions, primary keys and the
//!   relationships it embeds through, also as `x-primary-key` and `x-relationships`), and as a path
//!   `/<resource>` with `get`, `head`, `post` (insert or upsert), `patch` and `delete` (with
//!   filters), and `put` (single-row upsert) when it has a primary key;
//! - every function of schema `api` as `/rpc/<name>`: `post` with its named arguments as a JSON
//!   object, `get` with them as query parameters (STABLE and IMMUTABLE functions only, as a GET
//!   runs read-only), and its result (a JSON value, or rows the read grammar applies to);
//! - PostgREST's query parameters (`select`, `order`, `limit`, `offset`, `or`, `and`, and for
//!   writes `columns` and `on_conflict`) and headers
//!   (`Range`, `Range-Unit`, `Prefer`) as `components.parameters`, and one filter parameter
//!   (`<op>.<value>`) per column;
//! - the three representations (`application/json`, `application/vnd.pgrst.object+json`,
//!   `text/csv`), 200 and 206 with `Content-Range`, and PostgREST's error shape for 4XX/5XX;
//! - bearer JWT security on the resources.
//!
//! The description does not depend on the caller: it lists every resource in the schema cache,
//! whatever the role may read, and it is served without a token (an `Authorization` header is not
//! even looked at). PostgREST shows only what the request's role can access, but kea's resources
//! are documented in the data-API contract anyway, and the rows stay guarded by PostgreSQL
//! (grants and row-level security), not by keeping their shape secret.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::schema_cache::{Cardinality, Column, Relationship, Routine, SchemaCache, Table};

/// The media type of the document.
pub const CONTENT_TYPE: &str = "application/openapi+json; charset=utf-8";

/// Filter operators, as PostgREST documents them.
const OPERATORS: &str = "eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, in, is, \
                         isdistinct, cs, cd, ov, sl, sr, nxr, nxl, adj, fts, plfts, phfts, wfts; \
                         `not.` negates, `(any)`/`(all)` apply to a list";

/// The OpenAPI 3.1 document describing the resources of `cache`.
pub fn document(cache: &SchemaCache) -> Value {
    let tables: BTreeMap<&str, &Table> = cache
        .tables
        .iter()
        .map(|(name, t)| (name.as_str(), t))
        .collect();

    let mut schemas = Map::new();
    schemas.insert("Error".into(), error_schema());
    let mut parameters = common_parameters();
    let mut paths = Map::new();
    paths.insert("/".into(), root_path());
    for (name, table) in &tables {
        let rels: Vec<&Relationship> = cache
            .relationships
            .iter()
            .filter(|r| r.table == *name)
            .collect();
        schemas.insert(component_key(name), table_schema(table, &rels));
        let mut refs: Vec<Value> = [
            "select",
            "order",
            "limit",
            "offset",
            "or",
            "and",
            "range",
            "rangeUnit",
            "prefer",
        ]
        .iter()
        .map(|p| parameter_ref(p))
        .collect();
        for c in &table.columns {
            let key = component_key(&format!("rowFilter.{name}.{}", c.name));
            parameters.insert(key.clone(), filter_parameter(c));
            refs.push(parameter_ref(&key));
        }
        paths.insert(format!("/{name}"), resource_path(name, table, &rels, refs));
    }
    let routines: BTreeMap<&str, &Routine> = cache
        .routines
        .iter()
        .filter_map(|(name, overloads)| {
            // Overloads share a path; the first with named arguments describes it.
            overloads
                .iter()
                .find(|r| r.args.iter().all(|a| !a.name.is_empty()))
                .map(|r| (name.as_str(), r))
        })
        .collect();
    for (name, routine) in &routines {
        paths.insert(format!("/rpc/{name}"), rpc_path(name, routine));
    }

    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "kea data API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The tables and views of schema `api` in PostgREST's dialect: \
                            https://docs.postgrest.org/en/stable/references/api.html",
        },
        "servers": [{ "url": "/rest/v1" }],
        "security": [{ "jwt": [] }],
        "tags": tables
            .keys()
            .map(|n| json!({ "name": n }))
            .chain(
                (!routines.is_empty())
                    .then(|| json!({ "name": "rpc", "description": "Functions of schema `api`." })),
            )
            .collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": parameters,
            "headers": {
                "Content-Range": {
                    "description": "The rows returned and the total if counted: \
                                    `0-24/100`, `0-24/*`, `*/0`.",
                    "schema": { "type": "string" },
                },
                "Preference-Applied": {
                    "description": "The `Prefer` preferences that were honoured.",
                    "schema": { "type": "string" },
                },
            },
            "responses": {
                "Error": {
                    "description": "An error in PostgREST's shape (PGRSTxxx or a SQLSTATE).",
                    "content": {
                        "application/json": {
                            "schema": { "$ref": "#/components/schemas/Error" },
                        },
                    },
                },
            },
            "securitySchemes": {
                "jwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "HS256 JWT with a `role` claim: `service`, `merchant` (with \
                                    `merchant_id`), `agent` (with `worker_id`) or `anon`.",
                },
            },
        },
    })
}

/// The JSON Schema of a PostgreSQL type as `format_type` spells it (`bigint`, `text[]`,
/// `timestamp with time zone`, `numeric(10,2)`), not null.
pub fn type_schema(type_sql: &str) -> Value {
    if let Some(item) = type_sql.strip_suffix("[]") {
        return json!({ "type": "array", "items": type_schema(item) });
    }
    // `numeric(10,2)`, `character varying(20)`, `timestamp(3) with time zone`: drop modifiers.
    let base: String = match (type_sql.find('('), type_sql.find(')')) {
        (Some(open), Some(close)) if open < close => {
            format!("{}{}", &type_sql[..open], &type_sql[close + 1..])
        }
        _ => type_sql.to_owned(),
    };
    match base.trim() {
        "smallint" | "integer" => json!({ "type": "integer", "format": "int32" }),
        "bigint" => json!({ "type": "integer", "format": "int64" }),
        "real" => json!({ "type": "number", "format": "float" }),
        "double precision" => json!({ "type": "number", "format": "double" }),
        "numeric" => json!({ "type": "number" }),
        "boolean" => json!({ "type": "boolean" }),
        "uuid" => json!({ "type": "string", "format": "uuid" }),
        "timestamp with time zone" => json!({ "type": "string", "format": "date-time" }),
        "date" => json!({ "type": "string", "format": "date" }),
        "json" | "jsonb" => json!({}),
        // text, varchar, timestamp without time zone, time, interval, enums, …: as PostgreSQL
        // prints them.
        _ => json!({ "type": "string" }),
    }
}

/// The schema of a column: its type, `null` added to `type` when nullable.
fn column_schema(c: &Column, primary: bool, rels: &[&Relationship]) -> Value {
    let mut s = type_schema(&c.type_sql);
    if let Some(obj) = s.as_object_mut() {
        if c.nullable
            && let Some(ty) = obj.get("type").cloned()
        {
            obj.insert("type".into(), json!([ty, "null"]));
        }
        let mut notes: Vec<String> = c.description.iter().cloned().collect();
        if primary {
            notes.push("Note:\nThis is a Primary Key.<pk/>".to_owned());
        }
        for r in rels
            .iter()
            .filter(|r| r.cardinality == Cardinality::ManyToOne)
        {
            for (local, foreign) in &r.columns {
                if *local == c.name {
                    notes.push(format!(
                        "Note:\nThis is a Foreign Key to `{}.{foreign}`.<fk table='{}' column='{foreign}'/>",
                        r.foreign_table, r.foreign_table
                    ));
                }
            }
        }
        if !notes.is_empty() {
            obj.insert("description".into(), json!(notes.join("\n\n")));
        }
        obj.insert("x-pg-type".into(), json!(c.type_sql));
    }
    s
}

/// `components.schemas.<resource>`: a row of the resource.
fn table_schema(t: &Table, rels: &[&Relationship]) -> Value {
    let properties: Map<String, Value> = t
        .columns
        .iter()
        .map(|c| {
            let primary = t.primary_key.contains(&c.name);
            (c.name.clone(), column_schema(c, primary, rels))
        })
        .collect();
    let mut s = json!({
        "type": "object",
        "description": t.description.clone().unwrap_or_else(|| format!(
            "A row of `{}`. `select` may return fewer columns, renamed or cast ones, and embedded \
             resources.", t.name
        )),
        "properties": properties,
        "x-primary-key": t.primary_key,
        "x-relationships": rels
            .iter()
            .map(|r| json!({
                "resource": r.foreign_table,
                "cardinality": match r.cardinality {
                    Cardinality::ManyToOne => "many-to-one",
                    Cardinality::OneToMany => "one-to-many",
                    Cardinality::OneToOne => "one-to-one",
                },
                "columns": r.columns.iter().map(|(a, b)| json!([a, b])).collect::<Vec<_>>(),
                "constraint": r.constraint,
            }))
            .collect::<Vec<_>>(),
    });
    if let Some(obj) = s.as_object_mut()
        && t.primary_key.is_empty()
    {
        obj.remove("x-primary-key");
    }
    s
}

/// PostgREST's error body.
fn error_schema() -> Value {
    json!({
        "type": "object",
        "description": "PostgREST's error: a PGRSTxxx code or a PostgreSQL SQLSTATE.",
        "properties": {
            "code": { "type": "string", "examples": ["PGRST100", "42501"] },
            "message": { "type": "string" },
            "details": { "type": ["string", "null"] },
            "hint": { "type": ["string", "null"] },
        },
        "required": ["code", "message", "details", "hint"],
    })
}

/// The query parameters and headers every resource takes.
fn common_parameters() -> Map<String, Value> {
    let q = |name: &str, schema: Value, description: &str, example: Value| {
        json!({
            "name": name,
            "in": "query",
            "required": false,
            "schema": schema,
            "description": description,
            "example": example,
        })
    };
    let h = |name: &str, description: &str, example: &str| {
        json!({
            "name": name,
            "in": "header",
            "required": false,
            "schema": { "type": "string" },
            "description": description,
            "example": example,
        })
    };
    let mut m = Map::new();
    m.insert(
        "select".into(),
        q(
            "select",
            json!({ "type": "string" }),
            "Columns to return: `alias:col`, `col::cast`, JSON paths `->`/`->>`, and related \
             resources embedded through foreign keys (`rel(*)`, `rel!inner(*)`, `rel!hint(*)`).",
            json!("*,order_items(*)"),
        ),
    );
    m.insert(
        "order".into(),
        q(
            "order",
            json!({ "type": "string" }),
            "Ordering: `col.asc|desc.nullsfirst|nullslast`, comma separated (`rel.order=` on \
             an embedded resource).",
            json!("created_at.desc.nullslast"),
        ),
    );
    m.insert(
        "limit".into(),
        q(
            "limit",
            json!({ "type": "integer", "minimum": 0 }),
            "At most this many rows (`rel.limit=` on an embedded resource).",
            json!(20),
        ),
    );
    m.insert(
        "offset".into(),
        q(
            "offset",
            json!({ "type": "integer", "minimum": 0 }),
            "Skip this many rows.",
            json!(40),
        ),
    );
    m.insert(
        "or".into(),
        q(
            "or",
            json!({ "type": "string" }),
            "Filters of which one must hold, nested with `and(…)`/`or(…)`.",
            json!("(status.eq.confirmed,total_cents.gt.5000)"),
        ),
    );
    m.insert(
        "and".into(),
        q(
            "and",
            json!({ "type": "string" }),
            "Filters that must all hold, nested with `and(…)`/`or(…)`.",
            json!("(status.eq.confirmed,total_cents.gt.5000)"),
        ),
    );
    m.insert(
        "range".into(),
        h(
            "Range",
            "Rows `first-last` (zero-based, inclusive), intersected with limit/offset.",
            "0-24",
        ),
    );
    m.insert(
        "rangeUnit".into(),
        h("Range-Unit", "The unit of `Range`: `items`.", "items"),
    );
    m.insert(
        "prefer".into(),
        h(
            "Prefer",
            "`count=exact|planned|estimated`: the total in `Content-Range`; on writes also \
             `return=minimal|headers-only|representation`, `resolution=merge-duplicates|\
             ignore-duplicates` (POST: upsert), `missing=default|null`, and \
             `tx=commit|rollback`. `Preference-Applied` says which were honoured.",
            "count=exact",
        ),
    );
    m.insert(
        "columns".into(),
        q(
            "columns",
            json!({ "type": "string" }),
            "Writes: the body keys to write, comma separated; other keys are ignored.",
            json!("store_id,sku,name,price_cents"),
        ),
    );
    m.insert(
        "on_conflict".into(),
        q(
            "on_conflict",
            json!({ "type": "string" }),
            "POST with `Prefer: resolution=…`: the unique columns to resolve on (default: the \
             primary key).",
            json!("call_sid"),
        ),
    );
    m
}

/// A filter parameter on one column.
fn filter_parameter(c: &Column) -> Value {
    json!({
        "name": c.name,
        "in": "query",
        "required": false,
        "schema": { "type": "string" },
        "description": format!(
            "Filter on `{}` ({}): `<op>.<value>` with op one of {OPERATORS}.",
            c.name, c.type_sql
        ),
    })
}

fn parameter_ref(key: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{key}") })
}

/// A components key: OpenAPI allows `[a-zA-Z0-9.\-_]` only.
fn component_key(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The path item of `/`: this document.
fn root_path() -> Value {
    json!({
        "get": {
            "operationId": "openapi",
            "summary": "This OpenAPI description",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document.",
                    "content": { "application/openapi+json": { "schema": { "type": "object" } } },
                },
            },
        },
    })
}

/// The path item of `/<resource>`: reads.
fn resource_path(name: &str, t: &Table, rels: &[&Relationship], parameters: Vec<Value>) -> Value {
    let row = json!({ "$ref": format!("#/components/schemas/{}", component_key(name)) });
    let rows = json!({
        "description": "The rows (all of them: 200; a part, per limit/offset/Range: 206).",
        "headers": { "Content-Range": { "$ref": "#/components/headers/Content-Range" } },
        "content": {
            "application/json": { "schema": { "type": "array", "items": row } },
            "application/vnd.pgrst.object+json": { "schema": row },
            "text/csv": { "schema": { "type": "string" } },
        },
    });
    let no_body = json!({
        "description": "The headers of the read, no body.",
        "headers": { "Content-Range": { "$ref": "#/components/headers/Content-Range" } },
    });
    let errors = json!({ "$ref": "#/components/responses/Error" });
    let mut embeds: Vec<&str> = rels.iter().map(|r| r.foreign_table.as_str()).collect();
    embeds.sort_unstable();
    embeds.dedup();
    let description = format!(
        "Rows of `{name}`{}, filtered by `<column>=<op>.<value>` (and `<rel>.<column>=` on \
         embedded resources). `Accept: application/vnd.pgrst.object+json` asks for exactly one \
         row as an object (406 otherwise), `Accept: text/csv` for CSV.{}",
        if t.primary_key.is_empty() {
            String::new()
        } else {
            format!(" (primary key: {})", t.primary_key.join(", "))
        },
        if embeds.is_empty() {
            String::new()
        } else {
            format!(" Embeddable: {}.", embeds.join(", "))
        }
    );
    let mut item = json!({
        "parameters": parameters,
        "get": {
            "operationId": format!("get_{name}"),
            "tags": [name],
            "summary": format!("Read {name}"),
            "description": description,
            "responses": {
                "200": rows,
                "206": rows,
                "4XX": errors,
                "5XX": errors,
            },
        },
        "head": {
            "operationId": format!("head_{name}"),
            "tags": [name],
            "summary": format!("Count or range {name} without a body"),
            "responses": {
                "200": no_body,
                "206": no_body,
                "4XX": errors,
                "5XX": errors,
            },
        },
    });
    let written = |status: &str| {
        json!({
            "description": format!("{status}; the written rows with `Prefer: return=representation` (shaped by `select`)."),
            "headers": {
                "Content-Range": { "$ref": "#/components/headers/Content-Range" },
                "Preference-Applied": { "$ref": "#/components/headers/Preference-Applied" },
            },
            "content": {
                "application/json": { "schema": { "type": "array", "items": row } },
                "application/vnd.pgrst.object+json": { "schema": row },
            },
        })
    };
    let nothing = json!({
        "description": "Done; no body (`Prefer: return=minimal`, the default).",
        "headers": {
            "Content-Range": { "$ref": "#/components/headers/Content-Range" },
            "Preference-Applied": { "$ref": "#/components/headers/Preference-Applied" },
        },
    });
    let body = |array: bool| {
        let schema = if array {
            json!({ "oneOf": [row, { "type": "array", "items": row }] })
        } else {
            row.clone()
        };
        json!({ "required": true, "content": { "application/json": { "schema": schema } } })
    };
    let write_params = || {
        ["columns", "on_conflict"]
            .iter()
            .map(|p| parameter_ref(p))
            .collect::<Vec<_>>()
    };
    let mut created = written("Inserted");
    if let Some(h) = created["headers"].as_object_mut() {
        h.insert(
            "Location".into(),
            json!({
                "description": "`Prefer: return=headers-only`: the inserted row, by primary key.",
                "schema": { "type": "string" },
            }),
        );
    }
    if let Some(obj) = item.as_object_mut() {
        obj.insert(
            "post".into(),
            json!({
                "operationId": format!("post_{name}"),
                "tags": [name],
                "summary": format!("Insert {name}, or upsert with Prefer: resolution"),
                "parameters": write_params(),
                "requestBody": body(true),
                "responses": {
                    "201": created,
                    "200": written("An upsert that inserted nothing (all rows merged)"),
                    "4XX": errors,
                    "5XX": errors,
                },
            }),
        );
        obj.insert(
            "patch".into(),
            json!({
                "operationId": format!("patch_{name}"),
                "tags": [name],
                "summary": format!("Update the {name} the filters match"),
                "parameters": [parameter_ref("columns")],
                "requestBody": body(false),
                "responses": {
                    "200": written("Updated"),
                    "204": nothing,
                    "4XX": errors,
                    "5XX": errors,
                },
            }),
        );
        obj.insert(
            "delete".into(),
            json!({
                "operationId": format!("delete_{name}"),
                "tags": [name],
                "summary": format!("Delete the {name} the filters match"),
                "responses": {
                    "200": written("Deleted"),
                    "204": nothing,
                    "4XX": errors,
                    "5XX": errors,
                },
            }),
        );
        if !t.primary_key.is_empty() {
            obj.insert(
                "put".into(),
                json!({
                    "operationId": format!("put_{name}"),
                    "tags": [name],
                    "summary": format!("Insert or replace the one {name} row the filters name"),
                    "description": format!(
                        "The filters must be `eq` on exactly the primary key ({}), and the body \
                         must carry the same values.",
                        t.primary_key.join(", ")
                    ),
                    "requestBody": body(false),
                    "responses": {
                        "201": written("Inserted"),
                        "200": written("Replaced"),
                        "204": nothing,
                        "4XX": errors,
                        "5XX": errors,
                    },
                }),
            );
        }
    }
    item
}

/// The path item of `/rpc/<name>`.
fn rpc_path(name: &str, r: &Routine) -> Value {
    let errors = json!({ "$ref": "#/components/responses/Error" });
    let result = if r.return_type == "void" {
        None
    } else if r.columns.is_empty() {
        let item = type_schema(&r.return_type);
        Some(if r.returns_set {
            json!({ "type": "array", "items": item })
        } else {
            item
        })
    } else {
        let props: Map<String, Value> = r
            .columns
            .iter()
            .map(|c| (c.name.clone(), type_schema(&c.type_sql)))
            .collect();
        let object = json!({ "type": "object", "properties": props });
        Some(if r.returns_set {
            json!({ "type": "array", "items": object })
        } else {
            object
        })
    };
    let mut responses = Map::new();
    match result {
        Some(schema) => {
            responses.insert(
                "200".into(),
                json!({
                    "description": "The function's result.",
                    "headers": { "Content-Range": { "$ref": "#/components/headers/Content-Range" } },
                    "content": { "application/json": { "schema": schema } },
                }),
            );
        }
        None => {
            responses.insert("204".into(), json!({ "description": "Done (void)." }));
        }
    }
    responses.insert("4XX".into(), errors.clone());
    responses.insert("5XX".into(), errors);
    let properties: Map<String, Value> = r
        .args
        .iter()
        .map(|a| (a.name.clone(), type_schema(&a.type_sql)))
        .collect();
    let required: Vec<&str> = r
        .args
        .iter()
        .filter(|a| !a.has_default)
        .map(|a| a.name.as_str())
        .collect();
    let description = r
        .description
        .clone()
        .unwrap_or_else(|| format!("Calls api.{name}; it returns {}.", r.return_type));
    let mut item = json!({
        "post": {
            "operationId": format!("rpc_post_{name}"),
            "tags": ["rpc"],
            "summary": format!("Call {name}"),
            "description": description,
            "requestBody": {
                "required": !required.is_empty(),
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": properties,
                            "required": required,
                        },
                    },
                },
            },
            "responses": responses,
        },
    });
    if r.read_only()
        && let Some(obj) = item.as_object_mut()
    {
        let params: Vec<Value> = r
            .args
            .iter()
            .map(|a| {
                json!({
                    "name": a.name,
                    "in": "query",
                    "required": !a.has_default,
                    "schema": { "type": "string" },
                    "description": format!("Argument `{}` ({}).", a.name, a.type_sql),
                })
            })
            .collect();
        obj.insert(
            "get".into(),
            json!({
                "operationId": format!("rpc_get_{name}"),
                "tags": ["rpc"],
                "summary": format!("Call {name} (read-only)"),
                "description": "The arguments as query parameters; other parameters filter, order \
                                and select the rows of a function that returns rows.",
                "parameters": params,
                "responses": responses,
            }),
        );
    }
    item
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]

    use super::*;
    use crate::pgrst::schema_cache::tests::sample;

    #[test]
    fn type_mapping() {
        let cases = [
            ("text", json!({ "type": "string" })),
            ("integer", json!({ "type": "integer", "format": "int32" })),
            ("bigint", json!({ "type": "integer", "format": "int64" })),
            ("numeric(10,2)", json!({ "type": "number" })),
            ("real", json!({ "type": "number", "format": "float" })),
            ("boolean", json!({ "type": "boolean" })),
            ("uuid", json!({ "type": "string", "format": "uuid" })),
            (
                "timestamp with time zone",
                json!({ "type": "string", "format": "date-time" }),
            ),
            (
                "timestamp(3) with time zone",
                json!({ "type": "string", "format": "date-time" }),
            ),
            ("timestamp without time zone", json!({ "type": "string" })),
            ("date", json!({ "type": "string", "format": "date" })),
            ("jsonb", json!({})),
            ("json", json!({})),
            (
                "text[]",
                json!({ "type": "array", "items": { "type": "string" } }),
            ),
            (
                "integer[]",
                json!({ "type": "array", "items": { "type": "integer", "format": "int32" } }),
            ),
            ("character varying(20)", json!({ "type": "string" })),
            ("some_enum", json!({ "type": "string" })),
        ];
        for (sql, want) in cases {
            assert_eq!(type_schema(sql), want, "{sql}");
        }
    }

    #[test]
    fn document_shape() {
        let mut cache = sample();
        if let Some(t) = cache.tables.get_mut("orders") {
            t.description = Some("Orders taken on calls.".into());
            for c in &mut t.columns {
                c.nullable = !matches!(c.name.as_str(), "id" | "store_id" | "status");
                if c.name == "notes" {
                    c.description = Some("What the caller asked for.".into());
                }
            }
        }
        let doc = document(&cache);
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], "kea data API");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(doc["servers"][0]["url"], "/rest/v1");

        let orders = &doc["components"]["schemas"]["orders"];
        assert_eq!(orders["description"], "Orders taken on calls.");
        assert_eq!(orders["x-primary-key"], json!(["id"]));
        let p = &orders["properties"];
        assert_eq!(p["id"]["type"], "string");
        assert_eq!(p["id"]["format"], "uuid");
        assert!(
            p["id"]["description"]
                .as_str()
                .unwrap()
                .contains("Primary Key")
        );
        assert_eq!(p["call_sid"]["type"], json!(["string", "null"]));
        assert!(
            p["call_sid"]["description"]
                .as_str()
                .unwrap()
                .contains("<fk table='calls' column='call_sid'/>")
        );
        assert_eq!(p["status"]["type"], "string");
        assert_eq!(p["total_cents"]["type"], json!(["integer", "null"]));
        assert_eq!(p["total_cents"]["format"], "int64");
        assert_eq!(
            p["notes"]["description"], "What the caller asked for.",
            "a comment without key notes"
        );
        assert_eq!(p["tags"]["type"], json!(["array", "null"]));
        assert_eq!(p["tags"]["items"]["type"], "string");
        assert_eq!(p["meta"], json!({ "x-pg-type": "jsonb" }));
        let embeds: Vec<&str> = orders["x-relationships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["resource"].as_str().unwrap())
            .collect();
        assert!(embeds.contains(&"order_items") && embeds.contains(&"calls"));
        // A view without a primary key has none.
        assert!(
            doc["components"]["schemas"]["call_events"]
                .get("x-primary-key")
                .is_none()
        );

        let path = &doc["paths"]["/orders"];
        for m in ["post", "patch", "put", "delete"] {
            assert!(path[m]["responses"]["4XX"].is_object(), "{m}");
        }
        assert!(
            doc["paths"]["/call_events"].get("put").is_none(),
            "no primary key"
        );
        let rpc = &doc["paths"]["/rpc/store_order_stats"];
        assert_eq!(
            rpc["post"]["requestBody"]["content"]["application/json"]["schema"]["required"],
            json!(["store_id"])
        );
        assert_eq!(
            rpc["get"]["responses"]["200"]["content"]["application/json"]["schema"]["items"]["properties"]
                ["orders"]["format"],
            "int64"
        );
        assert!(doc["paths"]["/rpc/touch"].get("get").is_none(), "volatile");
        assert!(doc["paths"]["/rpc/touch"]["post"]["responses"]["204"].is_object());
        let ok = &path["get"]["responses"]["200"]["content"];
        assert_eq!(
            ok["application/json"]["schema"]["items"]["$ref"],
            "#/components/schemas/orders"
        );
        assert_eq!(
            ok["application/vnd.pgrst.object+json"]["schema"]["$ref"],
            "#/components/schemas/orders"
        );
        assert!(ok.get("text/csv").is_some());
        assert!(path["get"]["responses"].get("206").is_some());
        assert_eq!(
            path["get"]["responses"]["4XX"]["$ref"],
            "#/components/responses/Error"
        );
        let params: Vec<&str> = path["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["$ref"].as_str().unwrap())
            .collect();
        for key in ["select", "order", "limit", "offset", "range", "prefer"] {
            assert!(params.contains(&format!("#/components/parameters/{key}").as_str()));
        }
        assert!(params.contains(&"#/components/parameters/rowFilter.orders.status"));
        // Every $ref resolves.
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let pointer = r.strip_prefix('#').unwrap();
            assert!(doc.pointer(pointer).is_some(), "dangling {r}");
        }
        let filter = &doc["components"]["parameters"]["rowFilter.orders.status"];
        assert_eq!(filter["name"], "status");
        assert_eq!(filter["in"], "query");
        assert!(
            filter["description"]
                .as_str()
                .unwrap()
                .contains("<op>.<value>")
        );
        assert_eq!(
            doc["components"]["securitySchemes"]["jwt"]["scheme"],
            "bearer"
        );
        assert_eq!(
            doc["components"]["schemas"]["Error"]["required"],
            json!(["code", "message", "details", "hint"])
        );
        assert_eq!(doc["paths"]["/"]["get"]["security"], json!([]));
    }

    #[test]
    fn empty_cache_and_odd_names() {
        let doc = document(&SchemaCache::default());
        assert_eq!(doc["paths"].as_object().unwrap().len(), 1);
        assert_eq!(component_key("rowFilter.a b.c/d"), "rowFilter.a_b.c_d");
    }

    fn collect_refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if k == "$ref" {
                        out.extend(v.as_str().map(str::to_owned));
                    } else {
                        collect_refs(v, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }
}
