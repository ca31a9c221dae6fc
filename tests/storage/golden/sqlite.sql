-- crmkit schema history on sqlite: the statements of each migration step.
-- Generated: refresh with `python tests/storage/test_schema_golden.py` after adding a step; never edit a past one.

-- version 1
CREATE TABLE crmkit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE companies (id BLOB PRIMARY KEY, version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, archived_at INTEGER, external_ids TEXT, custom TEXT, name TEXT, domain TEXT, industry TEXT, employees INTEGER, annual_revenue TEXT, annual_revenue_currency TEXT, country TEXT, address TEXT, phone TEXT, parent_id BLOB REFERENCES companies (id), owner TEXT, tags TEXT);
CREATE TABLE contacts (id BLOB PRIMARY KEY, version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, archived_at INTEGER, external_ids TEXT, custom TEXT, first_name TEXT, last_name TEXT, emails TEXT, phones TEXT, title TEXT, company_id BLOB REFERENCES companies (id), country TEXT, address TEXT, time_zone TEXT, owner TEXT, tags TEXT, lifecycle_stage TEXT, lead_source TEXT, consents TEXT);
CREATE TABLE leads (id BLOB PRIMARY KEY, version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, archived_at INTEGER, external_ids TEXT, custom TEXT, source TEXT, status TEXT, first_name TEXT, last_name TEXT, email TEXT, phone TEXT, title TEXT, company_name TEXT, company_domain TEXT, industry TEXT, employees INTEGER, country TEXT, owner TEXT, tags TEXT, bant TEXT, qualification TEXT, unqualified_reason TEXT, converted_contact_id BLOB, converted_company_id BLOB, converted_deal_id BLOB, converted_at INTEGER);
CREATE TABLE deals (id BLOB PRIMARY KEY, version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, archived_at INTEGER, external_ids TEXT, custom TEXT, name TEXT, pipeline TEXT, stage TEXT, amount TEXT, amount_currency TEXT, expected_close TEXT, owner TEXT, team TEXT, contact_ids TEXT, company_id BLOB REFERENCES companies (id), lead_id BLOB, source TEXT, lost_reason TEXT, probability_override REAL, closed_at INTEGER, tags TEXT);
CREATE TABLE activities (id BLOB PRIMARY KEY, version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, archived_at INTEGER, external_ids TEXT, custom TEXT, kind TEXT, occurred_at INTEGER, outcome TEXT, direction TEXT, duration INTEGER, response_time INTEGER, subject TEXT, contact_id BLOB REFERENCES contacts (id), company_id BLOB REFERENCES companies (id), deal_id BLOB REFERENCES deals (id), lead_id BLOB, owner TEXT);
CREATE TABLE tasks (id BLOB PRIMARY KEY, version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, archived_at INTEGER, external_ids TEXT, custom TEXT, title TEXT, due_at INTEGER, priority TEXT, status TEXT, assignee TEXT, notes TEXT, contact_id BLOB REFERENCES contacts (id), company_id BLOB REFERENCES companies (id), deal_id BLOB REFERENCES deals (id), lead_id BLOB, completed_at INTEGER);
CREATE TABLE orders (id BLOB PRIMARY KEY, version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, archived_at INTEGER, external_ids TEXT, custom TEXT, total TEXT, total_currency TEXT, placed_at INTEGER, status TEXT, contact_id BLOB REFERENCES contacts (id), company_id BLOB REFERENCES companies (id), number TEXT, lines TEXT);
CREATE TABLE deal_stages (deal_id BLOB, seq INTEGER, stage TEXT, entered_at INTEGER, left_at INTEGER, moved_by TEXT, amount TEXT, amount_currency TEXT, expected_close TEXT, probability REAL, forecast_category TEXT, note TEXT, PRIMARY KEY (deal_id, seq), FOREIGN KEY (deal_id) REFERENCES deals (id));
CREATE TABLE deal_contacts (deal_id BLOB NOT NULL REFERENCES deals (id), contact_id BLOB NOT NULL REFERENCES contacts (id), PRIMARY KEY (deal_id, contact_id));
CREATE TABLE contact_emails (contact_id BLOB NOT NULL REFERENCES contacts (id), position INTEGER NOT NULL, match_key TEXT NOT NULL, PRIMARY KEY (contact_id, position));
CREATE TABLE record_tags (record_id BLOB NOT NULL, kind TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (record_id, tag));
CREATE TABLE record_facts (record_id BLOB PRIMARY KEY, last_activity_at INTEGER, activity_count INTEGER NOT NULL, order_count INTEGER NOT NULL, last_order_at INTEGER);
CREATE TABLE record_activity_counts (record_id BLOB NOT NULL, kind TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (record_id, kind));
CREATE TABLE record_order_totals (record_id BLOB NOT NULL, currency TEXT NOT NULL, total TEXT NOT NULL, PRIMARY KEY (record_id, currency));
CREATE TABLE history (seq INTEGER PRIMARY KEY AUTOINCREMENT, entity_id BLOB NOT NULL, kind TEXT NOT NULL, version INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT, at INTEGER NOT NULL, changes TEXT);
CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL, payload TEXT NOT NULL, actor TEXT, recorded_at INTEGER NOT NULL);
CREATE TABLE custom_field_schemas (kind TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL, PRIMARY KEY (kind, version));

-- version 2
CREATE INDEX ix_contact_emails_match_key ON contact_emails (match_key);
CREATE INDEX ix_companies_domain ON companies (domain);
CREATE INDEX ix_companies_parent_id ON companies (parent_id);
CREATE INDEX ix_contacts_company_id ON contacts (company_id);
CREATE INDEX ix_contacts_owner ON contacts (owner);
CREATE INDEX ix_deals_company_id ON deals (company_id);
CREATE INDEX ix_deals_owner ON deals (owner);
CREATE INDEX ix_deals_pipeline_stage ON deals (pipeline, stage);
CREATE INDEX ix_deals_lead_id ON deals (lead_id);
CREATE INDEX ix_deal_contacts_contact_id ON deal_contacts (contact_id);
CREATE INDEX ix_leads_status ON leads (status);
CREATE INDEX ix_leads_owner ON leads (owner);
CREATE INDEX ix_record_tags_kind_tag ON record_tags (kind, tag);
CREATE INDEX ix_history_entity_id ON history (entity_id);
CREATE INDEX ix_activities_contact_id_occurred_at_id ON activities (contact_id, occurred_at, id);
CREATE INDEX ix_activities_company_id_occurred_at_id ON activities (company_id, occurred_at, id);
CREATE INDEX ix_activities_deal_id_occurred_at_id ON activities (deal_id, occurred_at, id);
CREATE INDEX ix_activities_lead_id_occurred_at_id ON activities (lead_id, occurred_at, id);
CREATE INDEX ix_tasks_contact_id_created_at_id ON tasks (contact_id, created_at, id);
CREATE INDEX ix_tasks_company_id_created_at_id ON tasks (company_id, created_at, id);
CREATE INDEX ix_tasks_deal_id_created_at_id ON tasks (deal_id, created_at, id);
CREATE INDEX ix_tasks_lead_id_created_at_id ON tasks (lead_id, created_at, id);
CREATE INDEX ix_orders_contact_id_placed_at_id ON orders (contact_id, placed_at, id);
CREATE INDEX ix_orders_company_id_placed_at_id ON orders (company_id, placed_at, id);

-- version 3
CREATE TABLE scores (record_id BLOB NOT NULL, scorer TEXT NOT NULL, value REAL NOT NULL, grade TEXT, breakdown TEXT, scorer_version TEXT NOT NULL, computed_at INTEGER NOT NULL, PRIMARY KEY (record_id, scorer));
CREATE INDEX ix_scores_scorer_value ON scores (scorer, value);

-- version 4
CREATE TABLE segments (name TEXT PRIMARY KEY, kind TEXT NOT NULL, definition TEXT NOT NULL, static INTEGER NOT NULL, description TEXT, version INTEGER NOT NULL, created_at INTEGER, updated_at INTEGER, evaluated_at INTEGER, evaluated_by TEXT, member_count INTEGER NOT NULL);
CREATE TABLE segment_members (segment TEXT NOT NULL, record_id BLOB NOT NULL, PRIMARY KEY (segment, record_id));
CREATE INDEX ix_record_facts_last_activity_at ON record_facts (last_activity_at);
CREATE INDEX ix_record_facts_last_order_at ON record_facts (last_order_at);
CREATE INDEX ix_record_order_totals_currency_total ON record_order_totals (currency, total);

-- version 5
-- stop if any row: WITH every_id AS (SELECT id, 'company' AS kind FROM companies UNION ALL SELECT id, 'contact' AS kind FROM contacts UNION ALL SELECT id, 'lead' AS kind FROM leads UNION ALL SELECT id, 'deal' AS kind FROM deals UNION ALL SELECT id, 'activity' AS kind FROM activities UNION ALL SELECT id, 'task' AS kind FROM tasks UNION ALL SELECT id, 'order' AS kind FROM orders) SELECT a.id, a.kind, b.kind FROM every_id a JOIN every_id b ON a.id = b.id AND a.kind < b.kind ORDER BY a.id, a.kind, b.kind
CREATE TABLE record_ids (id BLOB PRIMARY KEY, kind TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO record_ids (id, kind) SELECT id, 'company' FROM companies;
INSERT INTO record_ids (id, kind) SELECT id, 'contact' FROM contacts;
INSERT INTO record_ids (id, kind) SELECT id, 'lead' FROM leads;
INSERT INTO record_ids (id, kind) SELECT id, 'deal' FROM deals;
INSERT INTO record_ids (id, kind) SELECT id, 'activity' FROM activities;
INSERT INTO record_ids (id, kind) SELECT id, 'task' FROM tasks;
INSERT INTO record_ids (id, kind) SELECT id, 'order' FROM orders;

-- version 6
CREATE TABLE pipelines (key TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL, saved_at INTEGER NOT NULL, PRIMARY KEY (key, version));

-- version 7
ALTER TABLE tasks ADD COLUMN reminders TEXT;
ALTER TABLE tasks ADD COLUMN reminded_at INTEGER;
ALTER TABLE tasks ADD COLUMN next_reminder_at INTEGER;
ALTER TABLE tasks ADD COLUMN recurrence TEXT;
CREATE INDEX ix_tasks_next_reminder_at ON tasks (next_reminder_at);
CREATE INDEX ix_tasks_assignee_due_at ON tasks (assignee, due_at);
CREATE INDEX ix_tasks_status_due_at ON tasks (status, due_at);
