-- Raw mail and attachments are mostly compressed already (base64 of images, archives, PDFs):
-- TOAST compression would spend CPU on every write for little gain, so store them out of line
-- uncompressed.
ALTER TABLE "inbound_messages" ALTER COLUMN "raw" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "inbound_chunks" ALTER COLUMN "data" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "attachment_blobs" ALTER COLUMN "content" SET STORAGE EXTERNAL;
