-- crmkit schema history on postgresql: the statements of each migration step.
-- Generated: refresh with `python tests/storage/test_schema_golden.py` after adding a step; never edit a past one.

-- version 1
CREATE TABLE crmkit_meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT COLLATE "C" NOT NULL);
CREATE TABLE companies (id UUID PRIMARY KEY, version BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, archived_at TIMESTAMPTZ, external_ids JSONB, custom JSONB, name TEXT COLLATE "C", domain TEXT COLLATE "C", industry TEXT COLLATE "C", employees BIGINT, annual_revenue NUMERIC, annual_revenue_currency TEXT COLLATE "C", country TEXT COLLATE "C", address JSONB, phone TEXT COLLATE "C", parent_id UUID REFERENCES companies (id), owner TEXT COLLATE "C", tags JSONB);
CREATE TABLE contacts (id UUID PRIMARY KEY, version BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, archived_at TIMESTAMPTZ, external_ids JSONB, custom JSONB, first_name TEXT COLLATE "C", last_name TEXT COLLATE "C", emails JSONB, phones JSONB, title TEXT COLLATE "C", company_id UUID REFERENCES companies (id), country TEXT COLLATE "C", address JSONB, time_zone TEXT COLLATE "C", owner TEXT COLLATE "C", tags JSONB, lifecycle_stage TEXT COLLATE "C", lead_source TEXT COLLATE "C", consents JSONB);
CREATE TABLE leads (id UUID PRIMARY KEY, version BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, archived_at TIMESTAMPTZ, external_ids JSONB, custom JSONB, source TEXT COLLATE "C", status TEXT COLLATE "C", first_name TEXT COLLATE "C", last_name TEXT COLLATE "C", email JSONB, phone JSONB, title TEXT COLLATE "C", company_name TEXT COLLATE "C", company_domain TEXT COLLATE "C", industry TEXT COLLATE "C", employees BIGINT, country TEXT COLLATE "C", owner TEXT COLLATE "C", tags JSONB, bant JSONB, qualification JSONB, unqualified_reason TEXT COLLATE "C", converted_contact_id UUID, converted_company_id UUID, converted_deal_id UUID, converted_at TIMESTAMPTZ);
CREATE TABLE deals (id UUID PRIMARY KEY, version BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, archived_at TIMESTAMPTZ, external_ids JSONB, custom JSONB, name TEXT COLLATE "C", pipeline TEXT COLLATE "C", stage TEXT COLLATE "C", amount NUMERIC, amount_currency TEXT COLLATE "C", expected_close DATE, owner TEXT COLLATE "C", team TEXT COLLATE "C", contact_ids JSONB, company_id UUID REFERENCES companies (id), lead_id UUID, source TEXT COLLATE "C", lost_reason TEXT COLLATE "C", probability_override DOUBLE PRECISION, closed_at TIMESTAMPTZ, tags JSONB);
CREATE TABLE activities (id UUID PRIMARY KEY, version BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, archived_at TIMESTAMPTZ, external_ids JSONB, custom JSONB, kind TEXT COLLATE "C", occurred_at TIMESTAMPTZ, outcome TEXT COLLATE "C", direction TEXT COLLATE "C", duration BIGINT, response_time BIGINT, subject TEXT COLLATE "C", contact_id UUID REFERENCES contacts (id), company_id UUID REFERENCES companies (id), deal_id UUID REFERENCES deals (id), lead_id UUID, owner TEXT COLLATE "C");
CREATE TABLE tasks (id UUID PRIMARY KEY, version BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, archived_at TIMESTAMPTZ, external_ids JSONB, custom JSONB, title TEXT COLLATE "C", due_at TIMESTAMPTZ, priority TEXT COLLATE "C", status TEXT COLLATE "C", assignee TEXT COLLATE "C", notes TEXT COLLATE "C", contact_id UUID REFERENCES contacts (id), company_id UUID REFERENCES companies (id), deal_id UUID REFERENCES deals (id), lead_id UUID, completed_at TIMESTAMPTZ);
CREATE TABLE orders (id UUID PRIMARY KEY, version BIGINT NOT NULL, created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, archived_at TIMESTAMPTZ, external_ids JSONB, custom JSONB, total NUMERIC, total_currency TEXT COLLATE "C", placed_at TIMESTAMPTZ, status TEXT COLLATE "C", contact_id UUID REFERENCES contacts (id), company_id UUID REFERENCES companies (id), number TEXT COLLATE "C", lines JSONB);
CREATE TABLE deal_stages (deal_id UUID, seq BIGINT, stage TEXT COLLATE "C", entered_at TIMESTAMPTZ, left_at TIMESTAMPTZ, moved_by TEXT COLLATE "C", amount NUMERIC, amount_currency TEXT COLLATE "C", expected_close DATE, probability DOUBLE PRECISION, forecast_category TEXT COLLATE "C", note TEXT COLLATE "C", PRIMARY KEY (deal_id, seq), FOREIGN KEY (deal_id) REFERENCES deals (id));
CREATE TABLE deal_contacts (deal_id UUID NOT NULL REFERENCES deals (id), contact_id UUID NOT NULL REFERENCES contacts (id), PRIMARY KEY (deal_id, contact_id));
CREATE TABLE contact_emails (contact_id UUID NOT NULL REFERENCES contacts (id), position BIGINT NOT NULL, match_key TEXT COLLATE "C" NOT NULL, PRIMARY KEY (contact_id, position));
CREATE TABLE record_tags (record_id UUID NOT NULL, kind TEXT COLLATE "C" NOT NULL, tag TEXT COLLATE "C" NOT NULL, PRIMARY KEY (record_id, tag));
CREATE TABLE record_facts (record_id UUID PRIMARY KEY, last_activity_at TIMESTAMPTZ, activity_count BIGINT NOT NULL, order_count BIGINT NOT NULL, last_order_at TIMESTAMPTZ);
CREATE TABLE record_activity_counts (record_id UUID NOT NULL, kind TEXT COLLATE "C" NOT NULL, count BIGINT NOT NULL, PRIMARY KEY (record_id, kind));
CREATE TABLE record_order_totals (record_id UUID NOT NULL, currency TEXT COLLATE "C" NOT NULL, total NUMERIC NOT NULL, PRIMARY KEY (record_id, currency));
CREATE TABLE history (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, entity_id UUID NOT NULL, kind TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL, action TEXT COLLATE "C" NOT NULL, actor TEXT COLLATE "C", at TIMESTAMPTZ NOT NULL, changes JSONB);
CREATE TABLE events (position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_type TEXT COLLATE "C" NOT NULL, payload JSONB NOT NULL, actor TEXT COLLATE "C", recorded_at TIMESTAMPTZ NOT NULL);
CREATE TABLE custom_field_schemas (kind TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL, definition JSONB NOT NULL, PRIMARY KEY (kind, version));

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
CREATE TABLE scores (record_id UUID NOT NULL, scorer TEXT COLLATE "C" NOT NULL, value DOUBLE PRECISION NOT NULL, grade TEXT COLLATE "C", breakdown JSONB, scorer_version TEXT COLLATE "C" NOT NULL, computed_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (record_id, scorer));
CREATE INDEX ix_scores_scorer_value ON scores (scorer, value);

-- version 4
CREATE TABLE segments (name TEXT COLLATE "C" PRIMARY KEY, kind TEXT COLLATE "C" NOT NULL, definition JSONB NOT NULL, static BOOLEAN NOT NULL, description TEXT COLLATE "C", version BIGINT NOT NULL, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, evaluated_at TIMESTAMPTZ, evaluated_by TEXT COLLATE "C", member_count BIGINT NOT NULL);
CREATE TABLE segment_members (segment TEXT COLLATE "C" NOT NULL, record_id UUID NOT NULL, PRIMARY KEY (segment, record_id));
CREATE INDEX ix_record_facts_last_activity_at ON record_facts (last_activity_at);
CREATE INDEX ix_record_facts_last_order_at ON record_facts (last_order_at);
CREATE INDEX ix_record_order_totals_currency_total ON record_order_totals (currency, total);

-- version 5
-- stop if any row: WITH every_id AS (SELECT id, 'company' AS kind FROM companies UNION ALL SELECT id, 'contact' AS kind FROM contacts UNION ALL SELECT id, 'lead' AS kind FROM leads UNION ALL SELECT id, 'deal' AS kind FROM deals UNION ALL SELECT id, 'activity' AS kind FROM activities UNION ALL SELECT id, 'task' AS kind FROM tasks UNION ALL SELECT id, 'order' AS kind FROM orders) SELECT a.id, a.kind, b.kind FROM every_id a JOIN every_id b ON a.id = b.id AND a.kind < b.kind ORDER BY a.id, a.kind, b.kind
CREATE TABLE record_ids (id UUID PRIMARY KEY, kind TEXT COLLATE "C" NOT NULL);
INSERT INTO record_ids (id, kind) SELECT id, 'company' FROM companies;
INSERT INTO record_ids (id, kind) SELECT id, 'contact' FROM contacts;
INSERT INTO record_ids (id, kind) SELECT id, 'lead' FROM leads;
INSERT INTO record_ids (id, kind) SELECT id, 'deal' FROM deals;
INSERT INTO record_ids (id, kind) SELECT id, 'activity' FROM activities;
INSERT INTO record_ids (id, kind) SELECT id, 'task' FROM tasks;
INSERT INTO record_ids (id, kind) SELECT id, 'order' FROM orders;

-- version 6
CREATE TABLE pipelines (key TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL, definition JSONB NOT NULL, saved_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (key, version));

-- version 7
ALTER TABLE tasks ADD COLUMN reminders JSONB;
ALTER TABLE tasks ADD COLUMN reminded_at TIMESTAMPTZ;
ALTER TABLE tasks ADD COLUMN next_reminder_at TIMESTAMPTZ;
ALTER TABLE tasks ADD COLUMN recurrence TEXT COLLATE "C";
CREATE INDEX ix_tasks_next_reminder_at ON tasks (next_reminder_at);
CREATE INDEX ix_tasks_assignee_due_at ON tasks (assignee, due_at);
CREATE INDEX ix_tasks_status_due_at ON tasks (status, due_at);
