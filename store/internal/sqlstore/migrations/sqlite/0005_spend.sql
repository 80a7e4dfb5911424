-- What was spent per traffic source and day (store.Spends). Empty strings,
-- never NULL, stand for a part of the key the cost report did not give, so
-- the key is a plain primary key. day is UTC midnight in microseconds, as
-- every time in 0001; amount is in minor units of currency.

CREATE TABLE spend (
    day      INTEGER NOT NULL,
    channel  TEXT NOT NULL,
    source   TEXT NOT NULL,
    medium   TEXT NOT NULL,
    campaign TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount   INTEGER NOT NULL,
    PRIMARY KEY (day, channel, source, medium, campaign, currency)
);
