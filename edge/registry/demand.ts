// The network's demand as a whole, one row kept by the sweep: what all nodes delivered
// (smoothed), and since when it has been above the line under which woken mirrors may rest.
export interface DemandRow { rate: number; high_since: number | null; at: number }

export async function getDemand(db: D1Database): Promise<DemandRow | null> {
  return db.prepare('SELECT rate, high_since, at FROM demand_state WHERE id = 1').first<DemandRow>();
}

export function putDemand(db: D1Database, d: DemandRow): D1PreparedStatement {
  return db.prepare(`INSERT INTO demand_state (id, rate, high_since, at) VALUES (1, ?1, ?2, ?3)
      ON CONFLICT(id) DO UPDATE SET rate = ?1, high_since = ?2, at = ?3`).bind(d.rate, d.high_since, d.at);
}
