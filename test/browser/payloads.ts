// Hostile uploads for the active-content test: bytes that run script wherever a browser lets
// them (an HTML page, an SVG with onload, XHTML, XHTML inside plain XML, a script), each
// reporting any run four ways the test reads: a console line, a hit on a counting server, a
// BroadcastChannel message and a localStorage entry on whatever origin it ran with. The counting
// server also serves each payload plainly, with its real type and no headers: the control that
// proves these detectors see a run.
import { createServer, type Server } from 'node:http';

export type PayloadKind = 'html' | 'svg' | 'xhtml' | 'xml' | 'js';

/** The type each payload really has: what the control serves it as. */
export const REAL_TYPE: Record<PayloadKind, string> = {
  html: 'text/html', svg: 'image/svg+xml', xhtml: 'application/xhtml+xml', xml: 'text/xml', js: 'text/javascript',
};

export const RAN_MARK = 'PAYLOAD-RAN';
export const RAN_CHANNEL = 'payload-ran';

/** The script every payload runs: `key` names the case and `how` the way in. */
function reporter(counter: string, key: string): string {
  return `function ran(how) {
  var tag = ${JSON.stringify(key)} + ':' + how;
  console.log(${JSON.stringify(RAN_MARK)} + ' ' + tag + ' ' + (typeof location === 'object' ? location.href : ''));
  try { localStorage.setItem(${JSON.stringify(RAN_CHANNEL)}, tag); } catch (e) {}
  try { new BroadcastChannel(${JSON.stringify(RAN_CHANNEL)}).postMessage(tag); } catch (e) {}
  var hit = ${JSON.stringify(counter)} + '/hit?tag=' + encodeURIComponent(tag);
  try { navigator.sendBeacon(hit); } catch (e) {}
  try { fetch(hit, { mode: 'no-cors' }).catch(function () {}); } catch (e) {}
  try { new Image().src = hit; } catch (e) {}
}`;
}

export function payload(kind: PayloadKind, counter: string, key: string): Buffer {
  const r = reporter(counter, key);
  const xhtmlBody = `<h:script>//<![CDATA[\n${r}\nran('script');\n//]]></h:script>`;
  switch (kind) {
    case 'html':
      return Buffer.from(`<!doctype html><html><head><title>payload</title><script>${r}\nran('script');</script></head>`
        + `<body onload="ran('onload')"><img src="data:," onerror="ran('onerror')"><svg onload="ran('svg-onload')"></svg></body></html>`);
    case 'svg':
      return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="${r.replace(/"/g, '&quot;').replace(/\n/g, ' ')}; ran('onload')">`
        + `<script>//<![CDATA[\n${r}\nran('script');\n//]]></script></svg>`);
    case 'xhtml':
      return Buffer.from(`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>payload</title>`
        + `<script>//<![CDATA[\n${r}\nran('script');\n//]]></script></head><body/></html>`);
    case 'xml':
      return Buffer.from(`<?xml version="1.0"?><data xmlns:h="http://www.w3.org/1999/xhtml">${xhtmlBody}</data>`);
    case 'js':
      return Buffer.from(`${r}\nran('script');\n`);
  }
}

export interface Probe {
  url: string;
  /** every tag that reached /hit, in order */
  hits: string[];
  /** serves `body` at /plain/{name} with `type` and nothing else */
  serve(name: string, type: string, body: Buffer | string): void;
  close(): Promise<void>;
}

export function startProbe(): Promise<Probe> {
  const files = new Map<string, { type: string; body: Buffer | string }>();
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://probe');
    if (url.pathname === '/hit') {
      hits.push(url.searchParams.get('tag') ?? '');
      res.writeHead(204, { 'access-control-allow-origin': '*' });
      res.end();
      req.resume();
      return;
    }
    const f = url.pathname.startsWith('/plain/') ? files.get(decodeURIComponent(url.pathname.slice(7))) : undefined;
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': f.type });
    res.end(f.body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    resolve({
      url, hits,
      serve: (name, type, body) => { files.set(name, { type, body }); },
      close: () => { server.closeAllConnections(); return new Promise((r) => server.close(() => r())); },
    });
  }));
}

export type EmbedHow = 'iframe' | 'img' | 'object' | 'embed' | 'script' | 'worker';

/**
 * A page that embeds each URL every way given, and records in `window.settled` each element's
 * load or error ("url how event"), so a test waits for the browser to be done with them.
 */
export function embedPage(items: { url: string; hows: EmbedHow[] }[]): string {
  const script = `window.settled = [];
for (const it of ${JSON.stringify(items)}) for (const how of it.hows) {
  const done = (ev) => window.settled.push(it.url + ' ' + how + ' ' + ev);
  if (how === 'worker') {
    try { const w = new Worker(it.url); w.onerror = () => done('error'); } catch (e) { done('threw'); }
    continue;
  }
  const el = document.createElement(how);
  el.onload = () => done('load');
  el.onerror = () => done('error');
  if (how === 'object') el.data = it.url; else el.src = it.url;
  if (how === 'iframe' || how === 'object' || how === 'embed') { el.width = 80; el.height = 60; }
  document.body.append(el);
}`;
  return `<!doctype html><html><head><title>embed</title></head><body><script>${script}</script></body></html>`;
}
