ALTER TABLE "articles" ADD COLUMN "sender_auth" jsonb;--> statement-breakpoint
ALTER TABLE "inbound_messages" ADD COLUMN "sender_auth" jsonb;