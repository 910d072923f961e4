UPDATE runs SET budget_tokens = ?2, budget_cost_usd = ?3 WHERE id = ?1;
