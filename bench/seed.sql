-- Seed a migrated, empty mailroom database with a history of :articles articles.
--   psql -v articles=1000000 -f bench/seed.sql postgres://postgres@127.0.0.1:5432/DB
--
-- Shape (proportions of a helpdesk that has run for a while):
--   tickets  = articles / 4   four articles each: customer mail, acknowledgement, customer reply, agent answer
--   contacts = articles / 10  customers with 2.5 tickets each on average
--   spool rows (inbound_messages, state processed) = one per inbound article (half), ~300-byte raw
--   deliveries + delivery_recipients = one per outbound article (half)
--   ticket_events = ticket.created per ticket + article.added per article
--   status by age: oldest 60% closed, then 10% solved, 15% pending, 15% open
-- Message-IDs look like real ones (CA + 20 hex + .N@mail.clientK.example.org, about 45 characters);
-- the mailbox is the bench rules' rcpt@bench.example.test. Spread over the last 400 days.
\set ON_ERROR_STOP 1
\timing on
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
\set tickets (:articles / 4)
\set contacts (:articles / 10)

SELECT count(*) AS existing_articles FROM articles \gset
\if :existing_articles
  \echo 'seed.sql: articles is not empty; refusing to seed'
  \quit
\endif

BEGIN;
CREATE TEMP TABLE seed_params AS SELECT :articles::bigint AS n_a, :tickets::bigint AS n_t, :contacts::bigint AS n_c,
  now() - interval '400 days' AS t0, interval '400 days' / :tickets AS step;

INSERT INTO contacts (id, address, name, created_at)
SELECT c, 'customer' || c || '@client' || (c % 97) || '.example.org', 'Customer ' || c, p.t0 + c * p.step
FROM seed_params p, generate_series(1, p.n_c) AS c;

INSERT INTO tickets (id, number, subject, status, mailbox, requester_id, category, tags, fields, created_at, updated_at, sla_due_at)
SELECT t, 999 + t, 'Widget problem on our pricing page (' || t || ')',
       CASE WHEN t <= p.n_t * 0.60 THEN 'closed' WHEN t <= p.n_t * 0.70 THEN 'solved'
            WHEN t <= p.n_t * 0.85 THEN 'pending' ELSE 'open' END,
       'rcpt@bench.example.test', 1 + (t * 7919) % p.n_c,
       (ARRAY['billing','technical','account','feature_request','other'])[1 + t % 5],
       CASE WHEN t % 3 = 0 THEN ARRAY['awaiting_details'] ELSE '{}'::text[] END,
       '{}'::jsonb, p.t0 + t * p.step, p.t0 + t * p.step + interval '2 days', p.t0 + t * p.step + interval '48 hours'
FROM seed_params p, generate_series(1, p.n_t) AS t;

INSERT INTO ticket_participants (ticket_id, contact_id, role, added_at)
SELECT t.id, t.requester_id, 'requester', t.created_at FROM tickets t;

-- articles: a = 4(t-1) + k + 1; k = 0, 2 inbound (customer), k = 1, 3 outbound (mailroom / agent)
INSERT INTO articles (id, ticket_id, inbound_id, direction, message_id, in_reply_to, "references",
                      from_address, from_name, to_addresses, subject, sent_at, text_body, visible_text, body_hash, created_at)
SELECT a, t, CASE WHEN k % 2 = 0 THEN (a + 1) / 2 END,
       CASE WHEN k % 2 = 0 THEN 'inbound' ELSE 'outbound' END,
       CASE WHEN k % 2 = 0 THEN 'CA' || upper(substr(md5(a::text), 1, 20)) || '.' || a || '@mail.client' || (c % 97) || '.example.org'
            ELSE 't' || (999 + t) || '-' || substr(md5('o' || a), 1, 10) || '.d' || (a / 2) || '-' || substr(md5('d' || a), 1, 10) || '@bench.example.test' END,
       CASE WHEN k = 0 THEN '{}'::text[] ELSE ARRAY['prev-' || (a - 1) || '@bench.example.test'] END,
       CASE WHEN k = 0 THEN '{}'::text[] ELSE ARRAY['prev-' || (a - 1) || '@bench.example.test'] END,
       CASE WHEN k % 2 = 0 THEN 'customer' || c || '@client' || (c % 97) || '.example.org' ELSE 'rcpt@bench.example.test' END,
       CASE WHEN k % 2 = 0 THEN 'Customer ' || c ELSE 'Support' END,
       CASE WHEN k % 2 = 0 THEN '[{"name": "Support", "address": "rcpt@bench.example.test"}]'::jsonb
            ELSE jsonb_build_array(jsonb_build_object('name', '', 'address', 'customer' || c || '@client' || (c % 97) || '.example.org')) END,
       CASE WHEN k = 0 THEN '' ELSE 'Re: ' END || 'Widget problem on our pricing page (' || t || ')',
       created,
       repeat('Since yesterday the chat widget on our pricing page does not load for some visitors. ', 6) || 'Ticket ' || t || ', article ' || a || '.',
       repeat('Since yesterday the chat widget on our pricing page does not load for some visitors. ', 3) || 'Article ' || a || '.',
       md5(a::text) || md5('b' || a), created
FROM (SELECT a, (a - 1) / 4 + 1 AS t, (a - 1) % 4 AS k, 1 + (((a - 1) / 4 + 1) * 7919) % p.n_c AS c,
             p.t0 + ((a - 1) / 4 + 1) * p.step + ((a - 1) % 4) * interval '3 hours' AS created
      FROM seed_params p, generate_series(1, p.n_a) AS a) s;

INSERT INTO inbound_messages (id, received_at, mail_from, rcpt_to, client_address, client_helo, size_bytes, sha256, raw,
                              state, attempts, ticket_id, article_id, updated_at, processed_at)
SELECT (a.id + 1) / 2, a.created_at, a.from_address, ARRAY['rcpt@bench.example.test'], '127.0.0.1', 'mail.example.org',
       300, md5(a.id::text) || md5('s' || a.id),
       convert_to('From: ' || a.from_address || E'\r\nTo: rcpt@bench.example.test\r\nMessage-ID: <' || a.message_id || E'>\r\nSubject: ' || a.subject || E'\r\n\r\n' || left(a.visible_text, 120), 'UTF8'),
       'processed', 1, a.ticket_id, a.id, a.created_at, a.created_at
FROM articles a WHERE a.direction = 'inbound';

INSERT INTO deliveries (id, ticket_id, kind, mailbox, message_id, from_name, reply_to, subject, text_body, in_reply_to, "references",
                        state, attempts, created_at, updated_at, sent_at)
SELECT a.id / 2, a.ticket_id, CASE WHEN a.id % 4 = 2 THEN 'acknowledgement' ELSE 'agent_reply' END, 'rcpt@bench.example.test',
       a.message_id, 'Support', 'rcpt+t' || (999 + a.ticket_id) || '-x@bench.example.test', a.subject, a.text_body,
       a.in_reply_to[1], a.in_reply_to, 'sent', 1, a.created_at, a.created_at, a.created_at
FROM articles a WHERE a.direction = 'outbound';

INSERT INTO delivery_recipients (delivery_id, address, role, state, updated_at)
SELECT a.id / 2, (a.to_addresses -> 0 ->> 'address'), 'to', 'sent', a.created_at
FROM articles a WHERE a.direction = 'outbound';

INSERT INTO ticket_events (ticket_id, type, data, article_id, created_at)
SELECT t.id, 'ticket.created', jsonb_build_object('via', 'email', 'mailbox', t.mailbox, 'seeded', true), NULL, t.created_at FROM tickets t
UNION ALL
SELECT a.ticket_id, 'article.added', jsonb_build_object('direction', a.direction, 'from', a.from_address, 'threadedBy', 'headers'), a.id, a.created_at FROM articles a;

SELECT setval('contacts_id_seq', :contacts), setval('tickets_id_seq', :tickets), setval('ticket_number_seq', 999 + :tickets),
       setval('articles_id_seq', :articles), setval('inbound_messages_id_seq', :articles / 2),
       setval('deliveries_id_seq', :articles / 2), setval('ticket_events_id_seq', (SELECT max(id) FROM ticket_events));
COMMIT;
VACUUM ANALYZE;
SELECT relname, n_live_tup, pg_size_pretty(pg_total_relation_size(relid)) AS size FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC;
