-- The store model's portions, what items come with, and names per language (store.md, "Portions
-- and what an item comes with"), kept on the menu tables as the store file gives them so the data
-- API serves them. The store document (`stores.document`) stays what calls and jobs read.

ALTER TABLE menu_items
    -- Group id → option skus the item comes with: {"toppings": ["olives", "onions"]}.
    ADD COLUMN includes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(includes) = 'object'),
    -- Language tag → what to call the item when speaking that language: {"es": "…"}.
    ADD COLUMN names    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(names) = 'object');
ALTER TABLE item_sizes
    ADD COLUMN names jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(names) = 'object');
ALTER TABLE modifier_groups
    ADD COLUMN names jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(names) = 'object');
ALTER TABLE modifier_options
    -- Portion → price in cents at that portion: {"light": 0, "extra": 250, "side": 100}.
    ADD COLUMN portions jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(portions) = 'object'),
    ADD COLUMN names    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(names) = 'object');

CREATE OR REPLACE VIEW api.menu_items WITH (security_invoker = true) AS
    SELECT store_id, sku, name, category, description, aliases, price_cents, default_size,
           available, position, created_at, updated_at, includes, names
    FROM menu_items;
CREATE OR REPLACE VIEW api.item_sizes WITH (security_invoker = true) AS
    SELECT store_id, item_sku, name, price_cents, aliases, position, names FROM item_sizes;
CREATE OR REPLACE VIEW api.modifier_groups WITH (security_invoker = true) AS
    SELECT store_id, id, name, min_choices, max_choices, available, position, names
    FROM modifier_groups;
CREATE OR REPLACE VIEW api.modifier_options WITH (security_invoker = true) AS
    SELECT store_id, group_id, sku, name, price_cents, aliases, available, position, portions, names
    FROM modifier_options;

NOTIFY pgrst, 'reload schema';
