-- The orphan-file sweep asks which stored files rows still point at, 200 keys
-- at a time: without this index each batch scans every attachment.
CREATE INDEX IF NOT EXISTS attachments_blob_key ON attachments (blob_key);
