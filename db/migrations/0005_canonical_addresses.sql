ALTER TABLE "contacts" ADD COLUMN "canonical_address" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "delivery_recipients" ADD COLUMN "canonical_address" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "delivery_recipients" ADD COLUMN "canonical_domain" text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX "contacts_canonical_idx" ON "contacts" USING btree ("canonical_address");--> statement-breakpoint
CREATE INDEX "deliveries_created_idx" ON "deliveries" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "delivery_recipients_canonical_idx" ON "delivery_recipients" USING btree ("canonical_address");--> statement-breakpoint
CREATE INDEX "delivery_recipients_domain_idx" ON "delivery_recipients" USING btree ("canonical_domain");--> statement-breakpoint
-- Rows written before: the same folding as canonicalAddress() in parsers/addresses.ts.
CREATE FUNCTION pg_temp.mailroom_canonical(address text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  WITH parts AS (
    SELECT lower(regexp_replace(regexp_replace(left(address, length(address) - position('@' in reverse(address))), '^"(.*)"$', '\1'), '\\(.)', '\1', 'g')) AS local,
           rtrim(lower(right(address, position('@' in reverse(address)) - 1)), '.') AS domain
  ), plain AS (
    SELECT CASE WHEN position('+' in local) > 1 THEN left(local, position('+' in local) - 1) ELSE local END AS local, domain FROM parts
  )
  SELECT CASE
    WHEN position('@' in address) <= 1 THEN lower(address)
    WHEN domain IN ('gmail.com', 'googlemail.com') THEN replace(local, '.', '') || '@gmail.com'
    ELSE local || '@' || domain
  END FROM plain
$$;--> statement-breakpoint
UPDATE "contacts" SET "canonical_address" = pg_temp.mailroom_canonical("address");--> statement-breakpoint
UPDATE "delivery_recipients" SET "canonical_address" = pg_temp.mailroom_canonical("address");--> statement-breakpoint
UPDATE "delivery_recipients" SET "canonical_domain" = split_part("canonical_address", '@', 2);--> statement-breakpoint
DROP FUNCTION pg_temp.mailroom_canonical(text);
