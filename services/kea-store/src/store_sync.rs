//! One source of truth for a store: after a data-API write to a store's settings or menu tables,
//! its document (what the dialog and the jobs read) is derived again from the tables, checked as
//! `kea store import` checks a file, and written in the same transaction with a record of the
//! change — or the write is refused with the import's own messages and nothing changes.
//!
//! The tables hold what a merchant may change (names, prices, aliases, availability, hours,
//! closures, the pause switch); the document keeps what only an import sets (the POS and its
//! secrets, the verification policy). An item that left the menu at an import stays out of the
//! document until the merchant makes it available again.

use std::collections::BTreeMap;

use kea_menu::{Problem, Store};
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::StoreError;

/// Why a store's document could not be derived.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The change would make the store invalid; nothing was written.
    #[error("store `{store_id}` would no longer be valid")]
    Invalid {
        /// The store.
        store_id: String,
        /// What `kea store import` would say of it.
        problems: Vec<Problem>,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SyncError {
    fn from(e: sqlx::Error) -> Self {
        SyncError::Store(StoreError::Db(e))
    }
}

/// The stores this transaction's writes touched (noted by the `*_touched` triggers), once each.
pub async fn touched_stores(conn: &mut PgConnection) -> Result<Vec<String>, StoreError> {
    let noted: Option<String> =
        sqlx::query_scalar("SELECT current_setting('kea.touched_stores', true)")
            .fetch_one(&mut *conn)
            .await?;
    let mut ids: Vec<String> = Vec::new();
    for id in noted.unwrap_or_default().split_whitespace() {
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

/// Derives each store's document from its tables, validates it and writes it with an audit
/// record naming `actor` (`merchant:<id>`, `service`). Runs with the connection's own (owner)
/// privileges: call it after resetting any request role. Returns the stores whose document
/// changed.
pub async fn sync_documents(
    conn: &mut PgConnection,
    stores: &[String],
    actor: &str,
) -> Result<Vec<String>, SyncError> {
    let mut changed = Vec::new();
    for store_id in stores {
        let Some(before) =
            sqlx::query_scalar::<_, Value>("SELECT document FROM stores WHERE id = $1 FOR UPDATE")
                .bind(store_id)
                .fetch_optional(&mut *conn)
                .await?
        else {
            continue;
        };
        let derived = derive(conn, store_id, &before).await?;
        let store = Store::from_json(&derived).map_err(|e| SyncError::Invalid {
            store_id: store_id.clone(),
            problems: e.problems,
        })?;
        let after = store.to_json();
        if after == before {
            continue;
        }
        sqlx::query("UPDATE stores SET document = $2 WHERE id = $1")
            .bind(store_id)
            .bind(&after)
            .execute(&mut *conn)
            .await?;
        record_change(conn, store_id, actor, "data_api", Some(&before), &after).await?;
        changed.push(store_id.clone());
    }
    Ok(changed)
}

/// Records one change of a store's document.
pub async fn record_change(
    conn: &mut PgConnection,
    store_id: &str,
    actor: &str,
    via: &str,
    before: Option<&Value>,
    after: &Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO store_changes (store_id, actor, via, before, after) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(store_id)
    .bind(actor)
    .bind(via)
    .bind(before)
    .bind(after)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The document as the tables say it now: settings from `stores`, the menu from the menu tables
/// (items in the document or available; groups and options that are available), the rest from
/// `document`.
async fn derive(
    conn: &mut PgConnection,
    store_id: &str,
    document: &Value,
) -> Result<Value, SyncError> {
    let settings: Value = sqlx::query_scalar(
        "SELECT jsonb_build_object(
                'name', name, 'phone', phone, 'timezone', timezone, 'languages', to_jsonb(languages),
                'tax_rate_bps', tax_rate_bps, 'hours', hours, 'closures', closures,
                'phone_orders_paused', phone_orders_paused,
                'fulfillment', jsonb_build_object(
                    'pickup', pickup, 'delivery', delivery,
                    'delivery_fee_cents', delivery_fee_cents,
                    'delivery_minimum_cents', delivery_minimum_cents,
                    'pickup_minutes', pickup_minutes, 'delivery_minutes', delivery_minutes))
           FROM stores WHERE id = $1",
    )
    .bind(store_id)
    .fetch_one(&mut *conn)
    .await?;
    let in_document: Vec<String> = document["menu"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["sku"].as_str().map(str::to_owned))
        .collect();
    let groups: Value = sqlx::query_scalar(
        "SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                    'id', g.id, 'name', g.name, 'names', nullif(g.names, '{}'),
                    'min', g.min_choices, 'max', g.max_choices,
                    'options', coalesce((
                        SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                                   'sku', o.sku, 'name', o.name, 'names', nullif(o.names, '{}'),
                                   'price_cents', o.price_cents, 'aliases', to_jsonb(o.aliases),
                                   'portions', nullif(o.portions, '{}')))
                               ORDER BY o.position)
                          FROM modifier_options o
                         WHERE o.store_id = g.store_id AND o.group_id = g.id AND o.available),
                        '[]')))
                  ORDER BY g.position), '[]')
           FROM modifier_groups g WHERE g.store_id = $1 AND g.available",
    )
    .bind(store_id)
    .fetch_one(&mut *conn)
    .await?;
    let items: Value = sqlx::query_scalar(
        "SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                    'sku', i.sku, 'name', i.name, 'names', nullif(i.names, '{}'),
                    'category', i.category, 'description', i.description,
                    'aliases', to_jsonb(i.aliases), 'price_cents', i.price_cents,
                    'sizes', (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                                         'name', s.name, 'names', nullif(s.names, '{}'),
                                         'price_cents', s.price_cents,
                                         'aliases', to_jsonb(s.aliases)))
                                     ORDER BY s.position)
                                FROM item_sizes s
                               WHERE s.store_id = i.store_id AND s.item_sku = i.sku),
                    'default_size', i.default_size,
                    'modifier_groups', coalesce((
                        SELECT jsonb_agg(l.group_id ORDER BY l.position)
                          FROM item_modifier_groups l
                          JOIN modifier_groups g
                            ON g.store_id = l.store_id AND g.id = l.group_id AND g.available
                         WHERE l.store_id = i.store_id AND l.item_sku = i.sku), '[]'),
                    'includes', nullif(i.includes, '{}'),
                    'available', i.available))
                  ORDER BY i.position), '[]')
           FROM menu_items i
          WHERE i.store_id = $1 AND (i.available OR i.sku = ANY($2))",
    )
    .bind(store_id)
    .bind(&in_document)
    .fetch_one(&mut *conn)
    .await?;
    // A document that is not an object (edited by hand) cannot be derived from: the
    // validator says what is wrong with it.
    let mut doc = document.clone();
    let Some(fields) = doc.as_object_mut() else {
        return Ok(doc);
    };
    for (key, value) in settings.as_object().into_iter().flatten() {
        fields.insert(key.clone(), value.clone());
    }
    fields.insert(
        "menu".to_owned(),
        json!({
            "items": without_dangling_includes(items, &groups),
            "modifier_groups": groups,
        }),
    );
    Ok(doc)
}

/// Items' `includes` keep only options still on the menu in groups the item still has: an
/// included option the merchant took off the menu is no longer part of what the item comes
/// with.
fn without_dangling_includes(mut items: Value, groups: &Value) -> Value {
    let offered: BTreeMap<&str, Vec<&str>> = groups
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| {
            let options = g["options"]
                .as_array()?
                .iter()
                .filter_map(|o| o["sku"].as_str())
                .collect();
            Some((g["id"].as_str()?, options))
        })
        .collect();
    for item in items.as_array_mut().into_iter().flatten() {
        let has: Vec<String> = item["modifier_groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g.as_str().map(str::to_owned))
            .collect();
        let Some(includes) = item.get_mut("includes").and_then(Value::as_object_mut) else {
            continue;
        };
        includes.retain(|group, _| has.contains(group) && offered.contains_key(group.as_str()));
        for (group, skus) in includes.iter_mut() {
            if let Some(list) = skus.as_array_mut() {
                let options = offered.get(group.as_str()).cloned().unwrap_or_default();
                list.retain(|s| s.as_str().is_some_and(|s| options.contains(&s)));
            }
        }
        includes.retain(|_, skus| skus.as_array().is_some_and(|l| !l.is_empty()));
        if includes.is_empty()
            && let Some(obj) = item.as_object_mut()
        {
            obj.remove("includes");
        }
    }
    items
}
