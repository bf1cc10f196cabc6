"""SQLite schema of the demo backend: the contract between generate.py and app.py."""

GENERATOR_VERSION = 12

# conv_messages.body = zlib-compressed UTF-8 JSON ``{"messages": [...], "citations": [...]}``:
# exactly ``content.build_messages`` of the conversation's plan.
SCHEMA_SQL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs(
  kind TEXT NOT NULL, id TEXT NOT NULL, project_id TEXT, parent_id TEXT, sort_key TEXT,
  body TEXT NOT NULL, PRIMARY KEY(kind, id));
CREATE TABLE conversations(
  seq INTEGER PRIMARY KEY,
  project_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL UNIQUE,
  inbox_id TEXT, playbook_id TEXT, playbook_base_id TEXT,
  message_count INTEGER NOT NULL, ai_message_count INTEGER NOT NULL,
  first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
  has_handoff INTEGER NOT NULL, has_error INTEGER NOT NULL, has_winback INTEGER NOT NULL,
  winback_answered INTEGER NOT NULL,
  scored INTEGER NOT NULL,
  sentiment TEXT, resources TEXT, sentiment_shift TEXT, deflection_quality TEXT,
  handoff_reason TEXT, recontact_risk TEXT,
  avg_latency_ms INTEGER, intent TEXT,
  body TEXT NOT NULL);
CREATE TABLE conv_tags(tag TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(tag, seq)) WITHOUT ROWID;
CREATE TABLE conv_skills(skill_name TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY(skill_name, seq)) WITHOUT ROWID;
CREATE TABLE conv_playbooks(playbook_id TEXT NOT NULL, playbook_base_id TEXT NOT NULL,
  seq INTEGER NOT NULL, PRIMARY KEY(playbook_id, seq)) WITHOUT ROWID;
CREATE TABLE resource_events(
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL,
  kind TEXT NOT NULL, ref TEXT NOT NULL, name TEXT,
  item_id TEXT, source TEXT,
  seq INTEGER, conversation_id TEXT,
  ts INTEGER NOT NULL, created_at TEXT NOT NULL,
  success INTEGER NOT NULL, error_message TEXT, duration_ms INTEGER,
  input_params TEXT, output_result TEXT, request_meta TEXT);
CREATE TABLE csat_ratings(seq INTEGER PRIMARY KEY, project_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL, rating INTEGER NOT NULL, remark TEXT, rated_at TEXT,
  ts INTEGER NOT NULL);
CREATE TABLE conversion_events(id INTEGER PRIMARY KEY, project_id TEXT NOT NULL,
  metric_slug TEXT NOT NULL, seq INTEGER NOT NULL, conversation_id TEXT NOT NULL,
  value REAL NOT NULL, occurred_at TEXT NOT NULL, ts INTEGER NOT NULL, created_ts INTEGER NOT NULL,
  metadata TEXT, match_value TEXT, idempotency_key TEXT);
CREATE TABLE conv_messages(seq INTEGER PRIMARY KEY, body BLOB NOT NULL);
"""

# Created after the bulk insert (faster than maintaining them row by row).
INDEX_SQL = """
CREATE INDEX conv_last ON conversations(project_id, last_ts, seq);
CREATE INDEX conv_first ON conversations(project_id, first_ts, seq);
-- (implicit rowid = seq last: ORDER BY message_count, seq walks it without a sort)
CREATE INDEX conv_count ON conversations(project_id, message_count);
-- covering for the analytics over dates (and assistant): no table lookups
CREATE INDEX conv_stats ON conversations(project_id, last_ts, has_handoff, message_count,
  ai_message_count, avg_latency_ms, has_winback, winback_answered, playbook_base_id);
CREATE INDEX conv_sent ON conversations(project_id, sentiment, has_handoff, last_ts);
CREATE INDEX conv_handoff ON conversations(project_id, has_handoff, handoff_reason, last_ts);
CREATE INDEX conv_risk ON conversations(project_id, recontact_risk, last_ts);
CREATE INDEX conv_pb_base ON conv_playbooks(playbook_base_id, seq);
CREATE INDEX conv_tags_seq ON conv_tags(seq);
-- seq -> project without touching the table: counts over membership tables (tags, skills)
CREATE INDEX conv_seq_proj ON conversations(seq, project_id);
CREATE INDEX docs_parent ON docs(kind, project_id, parent_id, sort_key);
CREATE INDEX res_kind_ts ON resource_events(project_id, kind, ts);
CREATE INDEX res_ref_ts ON resource_events(project_id, kind, ref, ts);
CREATE INDEX csat_ts ON csat_ratings(project_id, ts);
CREATE INDEX conv_ev_ts ON conversion_events(project_id, metric_slug, ts);
"""
