-- Never moves a worker's last-seen time back: heartbeats through different
-- servers may arrive out of order.
UPDATE workers SET last_seen_at = ?2
WHERE id = ?1 AND last_seen_at < ?2;
