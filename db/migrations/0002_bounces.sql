CREATE TABLE "bounces" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"inbound_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"delivery_id" bigint,
	"ticket_id" bigint,
	"matched_by" text,
	"unmatched_reason" text,
	"source" text,
	"original_message_id" text,
	"recipients" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bounces_inbound_id_unique" UNIQUE("inbound_id")
);
--> statement-breakpoint
ALTER TABLE "contacts" ADD COLUMN "soft_bounces" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "delivery_recipients" ADD COLUMN "role" text DEFAULT 'to' NOT NULL;--> statement-breakpoint
ALTER TABLE "bounces" ADD CONSTRAINT "bounces_inbound_id_inbound_messages_id_fk" FOREIGN KEY ("inbound_id") REFERENCES "public"."inbound_messages"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bounces" ADD CONSTRAINT "bounces_delivery_id_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."deliveries"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bounces" ADD CONSTRAINT "bounces_ticket_id_tickets_id_fk" FOREIGN KEY ("ticket_id") REFERENCES "public"."tickets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bounces_unmatched_idx" ON "bounces" USING btree ("matched_by","created_at");