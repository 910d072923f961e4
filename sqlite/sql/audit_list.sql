-- Newest first; each filter applies when set: since (Unix microseconds, 0 for
-- none), actor, action, and the cursor (records older than an ID, 0 for none).
SELECT id, at, actor, action, target, params, result
FROM audit_log
WHERE (?1 = 0 OR at >= ?1)
  AND (?2 = '' OR actor = ?2)
  AND (?3 = '' OR action = ?3)
  AND (?4 = 0 OR id < ?4)
ORDER BY id DESC
LIMIT ?5;
