CREATE TABLE "attachment_chunks" (
	"sha256" text NOT NULL,
	"seq" integer NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "attachment_chunks_sha256_seq_pk" PRIMARY KEY("sha256","seq")
);
--> statement-breakpoint
ALTER TABLE "attachment_chunks" ADD CONSTRAINT "attachment_chunks_sha256_attachment_blobs_sha256_fk" FOREIGN KEY ("sha256") REFERENCES "public"."attachment_blobs"("sha256") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Already compressed content mostly (see 0003): out of line, uncompressed.
ALTER TABLE "attachment_chunks" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
-- Blobs stored before slicing move over as one slice each.
INSERT INTO "attachment_chunks" ("sha256", "seq", "data") SELECT "sha256", 0, "content" FROM "attachment_blobs";--> statement-breakpoint
ALTER TABLE "attachment_blobs" DROP COLUMN "content";