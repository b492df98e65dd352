-- stepwise:up
ALTER TABLE email_templates ADD COLUMN preheader text;

-- stepwise:down
ALTER TABLE email_templates DROP COLUMN preheader;
