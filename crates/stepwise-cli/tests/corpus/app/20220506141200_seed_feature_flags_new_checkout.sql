-- stepwise:up
INSERT INTO feature_flags (key, description)
VALUES
    ('new_checkout', 'One-page checkout'),
    ('invoice_pdf_v2', 'Render invoices with the new PDF engine')
ON CONFLICT (key) DO NOTHING;

-- stepwise:down
DELETE FROM feature_flags WHERE key IN ('new_checkout', 'invoice_pdf_v2');
