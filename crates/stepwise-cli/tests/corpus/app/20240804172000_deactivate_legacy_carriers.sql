-- stepwise:up
-- stepwise:ignore no-data-change-in-migration carriers is a 4-row lookup table
UPDATE carriers SET tracking_url_template = NULL WHERE code = 'dhl';

-- stepwise:down
UPDATE carriers SET tracking_url_template = 'https://www.dhl.com/en/express/tracking.html?AWB={tracking_number}' WHERE code = 'dhl';
