// What each region's nodes delivered as a whole, kept by the sweep for the standby mirrors: the
// load (smoothed), and since when it was last above the line under which woken mirrors may rest.
export interface DemandRow { rate: number; high_since: number | null; at: number }

export async function demandByRegion(db: D1Database): Promise<Map<string, DemandRow>> {
  const { results } = await db.prepare('SELECT region, rate, high_since, at FROM demand_state').all<DemandRow & { region: string }>();
  return new Map(results.map(({ region, ...r }) => [region, r]));
}

export function putDemand(db: D1Database, region: string, d: DemandRow): D1PreparedStatement {
  return db.prepare(`INSERT INTO demand_state (region, rate, high_since, at) VALUES (?1, ?2, ?3, ?4)
      ON CONFLICT(region) DO UPDATE SET rate = ?2, high_since = ?3, at = ?4`).bind(region, d.rate, d.high_since, d.at);
}
