-- Counts the events ever removed, so that a command that read events on one connection can
-- tell, when it writes about them on another, whether any of them is gone (issue #21).
--
-- `prices` reads pages of events to value on a reader connection and stores each page's values
-- in a transaction of its own; SQLite checked every value's event by its foreign key, a seventh
-- of `prices --offline` over 100,000 fresh events, a fifth over a million legs at random times. The store now reads this count under the write lock
-- instead and compares it with the count read before the first page: unchanged, every event
-- read is still there (an event id freed by a removal can be taken by a new event, which the
-- foreign key would not have noticed either).
CREATE TABLE event_removals (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    count INTEGER NOT NULL
) STRICT;
INSERT INTO event_removals (id, count) VALUES (1, 0);

CREATE TRIGGER event_removals_count AFTER DELETE ON events
BEGIN
    UPDATE event_removals SET count = count + 1 WHERE id = 1;
END;
