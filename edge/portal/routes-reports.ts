// Chunk reports: a client found that a node served a chunk that fails verification (wrong hash,
// wrong upload stamp) and got it from another replica. The report becomes a `chunk-report` event
// in the registry's log, for the manager or the operator to act on (audit, re-copy, retire the
// node). No credential is needed — whoever holds the manifest may report — so the body is
// strict and small, it must name a replica the placement index knows, and a repeat of the same
// report within a minute is acknowledged without logging it again. The content's manager then
// audits the replica itself and replaces a bad one (edge/manager/replica-audit.ts).
import { Hono } from 'hono';
import { ChunkReportRequest, MAX_REPORT_BYTES, ReportCode } from '../../protocol/api.ts';
import { BunsanError } from '../../protocol/errors.ts';
import type { PortalEnv } from '../env.ts';
import { jsonBody } from '../http.ts';
import { getContent } from '../registry/contents.ts';
import { logEvent, reportSeen, reportsOf } from '../registry/events.ts';
import { hasPlacement } from '../registry/placements.ts';
import { requireAdmin, type PortalVars } from './auth.ts';
import { managerStub, parseContentId } from './managers.ts';

const REPEAT_WINDOW_MS = 60_000;
const LIST_LIMIT = 100;

export const reports = new Hono<{ Bindings: PortalEnv; Variables: PortalVars }>();

reports.post('/:id/reports', async (c) => {
  const id = parseContentId(c.req.param('id'));
  const r = await jsonBody(c.req.raw, ChunkReportRequest, MAX_REPORT_BYTES);
  const content = await getContent(c.env.DB, id);
  if (!content || content.state !== 'committed') throw new BunsanError('content_not_found', `no content ${id}`);
  if (r.index >= content.chunk_count) throw new BunsanError('invalid_body', `index: content has ${content.chunk_count} chunks`);
  if (!(await hasPlacement(c.env.DB, id, r.hash, r.node))) throw new BunsanError('chunk_not_found', `node ${r.node} holds no chunk ${r.hash} of this content`);

  const now = Date.now();
  const detail = JSON.stringify({ index: r.index, hash: r.hash, code: r.code });
  if (await reportSeen(c.env.DB, id, r.node, detail, now - REPEAT_WINDOW_MS)) return c.json({ recorded: false }, 202);
  await logEvent(c.env.DB, { at: now, kind: 'chunk-report', content: id, node: r.node, detail: { index: r.index, hash: r.hash, code: r.code } }).run();
  // The manager audits the replica and replaces it if it is bad. The report stands even when the
  // manager cannot be reached now: it is in the log for the operator.
  await (await managerStub(c.env, id, content)).queueAudit(r).catch((err: Error) => console.warn(`audit of ${r.hash} on ${r.node} not queued: ${err.message}`));
  return c.json({ recorded: true }, 202);
});

reports.get('/:id/reports', requireAdmin, async (c) => {
  const id = parseContentId(c.req.param('id')!);
  const list = (await reportsOf(c.env.DB, id, LIST_LIMIT)).flatMap((row) => {
    const d = JSON.parse(row.detail) as { index: number; hash: string; code: string };
    const code = ReportCode.safeParse(d.code);
    return code.success ? [{ at: row.at, node: row.node_id, index: d.index, hash: d.hash, code: code.data }] : [];
  });
  const audits = await managerStub(c.env, id).then((m) => m.audited()).catch(() => []);
  return c.json({ reports: list, audits }, 200, { 'cache-control': 'no-store' });
});
