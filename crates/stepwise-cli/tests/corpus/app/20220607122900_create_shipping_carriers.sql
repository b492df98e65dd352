-- stepwise:up
CREATE TABLE carriers (
    id serial PRIMARY KEY,
    code varchar(20) NOT NULL UNIQUE,
    name varchar(100) NOT NULL,
    tracking_url_template text
);

INSERT INTO carriers (code, name, tracking_url_template) VALUES
    ('ups', 'UPS', 'https://www.ups.com/track?tracknum={tracking_number}'),
    ('fedex', 'FedEx', 'https://www.fedex.com/fedextrack/?trknbr={tracking_number}'),
    ('usps', 'USPS', 'https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking_number}'),
    ('dhl', 'DHL Express', 'https://www.dhl.com/en/express/tracking.html?AWB={tracking_number}');

-- stepwise:down
DROP TABLE carriers;
