// `kiln ui`'s HTTP server (node:http): the builds list, a build's page that follows its events
// live (server-sent events over the store, polled for a new last event: cheap on either store),
// the phase durations of a template's builds, and what `kiln gc` would remove. Read-only: it is
// given a StoreReader, which has no method that writes, and answers GET and HEAD only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildReport, reportBody, reportPage } from '../report/index.js';
import { BUILD_STATUSES, type BuildEvent, type BuildRecord, type BuildStatus, type BuildStore, type BuildSummary, type PhaseDuration } from '../store/index.js';
import { displayStatus, endedWithSimulator, ranOnEmbeddedSim, readBuild } from '../view/index.js';
import { checkAccess } from './auth.js';
import { buildPage, buildsTable, buildTitle, filterBuilds, gcPage, listPage, messagePage, type GcView, type ListQuery } from './pages.js';
import { choiceKey, trendsPage, type TemplateChoice } from './trends-page.js';
import { phaseDurations, phaseTrends } from './trends.js';

/** What the UI may ask of a store: reads only (it never writes). */
export type StoreReader = Pick<BuildStore, 'location' | 'findBuild' | 'getBuild' | 'listBuildSummaries' | 'events' | 'lastEvent' | 'phaseHistory' | 'clock' | 'gcRuns'>;

export interface UiOptions {
  store: StoreReader;
  host: string;
  port: number;
  /** KILN_UI_TOKEN: when set, every request must carry it. */
  token?: string;
  /** What `kiln gc` would remove now (a dry run that records nothing); `params` are the page's query. */
  gcPlan: (params: URLSearchParams) => Promise<Omit<GcView, 'runs'>>;
  /** How often a live page looks for new events (ms). */
  pollMs?: number;
  /** How many of a template's latest builds the phase-durations page reads. */
  trendBuilds?: number;
}

export interface UiServer {
  url: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' };

function send(res: ServerResponse, status: number, body: string, type = 'text/html; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...SECURITY_HEADERS, ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** The builds as `kiln ls` lists them, read at most once a second whatever the number of pages served. */
class SummaryCache {
  private cached: { at: number; status: BuildStatus | undefined; builds: BuildSummary[] } | undefined;
  constructor(private readonly store: StoreReader) {}
  async get(status: BuildStatus | undefined): Promise<BuildSummary[]> {
    if (this.cached && this.cached.status === status && Date.now() - this.cached.at < 1_000) return this.cached.builds;
    const builds = await this.store.listBuildSummaries(status ? { status } : {});
    this.cached = { at: Date.now(), status, builds };
    return builds;
  }
}

function listQuery(url: URL): ListQuery {
  const status = url.searchParams.get('status') ?? '';
  const page = Number(url.searchParams.get('page') ?? '1');
  return {
    ...(BUILD_STATUSES.includes(status as BuildStatus) ? { status: status as BuildStatus } : {}),
    ...(url.searchParams.get('q') ? { q: url.searchParams.get('q')! } : {}),
    page: Number.isInteger(page) && page > 0 ? page : 1,
  };
}

/** Server-sent events: `update` messages until the client goes away. */
function eventStream(req: IncomingMessage, res: ServerResponse, everyMs: number, next: () => Promise<object | undefined>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', ...SECURITY_HEADERS });
  res.write('retry: 2000\n\n');
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let quiet = 0;
  const tick = async () => {
    try {
      const update = await next();
      if (closed) return;
      if (update) {
        res.write(`event: update\ndata: ${JSON.stringify(update)}\n\n`);
        quiet = 0;
      } else if (++quiet * everyMs >= 15_000) {
        res.write(': still here\n\n');
        quiet = 0;
      }
    } catch (error) {
      if (!closed) res.write(`event: problem\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
    }
    if (!closed) timer = setTimeout(tick, everyMs);
  };
  req.on('close', () => {
    closed = true;
    clearTimeout(timer);
  });
  void tick();
}

/** Follows one build: new events are read after the last one seen, and the report is rendered again. */
function followBuild(store: StoreReader, record: BuildRecord, events: BuildEvent[], sentSeq: number): () => Promise<object | undefined> {
  let past: PhaseDuration[] | undefined;
  let lastSeq = events.at(-1)?.seq ?? 0;
  let shown = { seq: sentSeq, status: '', second: -1 };
  return async () => {
    const latest = await store.getBuild(record.id);
    if (!latest) return undefined;
    if (latest.lastSeq > lastSeq) {
      events.push(...(await store.events(record.id, { afterSeq: lastSeq })));
      lastSeq = events.at(-1)?.seq ?? lastSeq;
    }
    const now = await store.clock();
    const status = displayStatus(latest, now, ranOnEmbeddedSim(events));
    // A running build is drawn again each second (its bars grow) even without a new event.
    const second = status === 'running' ? Math.floor(now / 1000) : -1;
    if (latest.lastSeq === shown.seq && status === shown.status && second === shown.second) return undefined;
    past ??= await store.phaseHistory({ templateHash: latest.templateHash, builderName: latest.builderName, excludeBuildId: latest.id });
    const report = buildReport(latest, events, past, now);
    shown = { seq: latest.lastSeq, status, second };
    return { html: reportBody(report), title: buildTitle(report), status: report.status, lastSeq: report.lastSeq };
  };
}

async function trends(store: StoreReader, summaries: SummaryCache, url: URL, limit: number, location: string): Promise<string> {
  const all = await summaries.get(undefined);
  const byKey = new Map<string, TemplateChoice>();
  for (const b of all) {
    const key = choiceKey(b);
    const choice = byKey.get(key);
    if (choice) choice.builds++;
    else byKey.set(key, { templatePath: b.templatePath, builderName: b.builderName, builds: 1, latest: b.createdAt });
  }
  const choices = [...byKey.values()];
  const asked = url.searchParams.get('t');
  const chosen = (asked !== null ? byKey.get(asked) : undefined) ?? choices[0];
  if (!chosen) return trendsPage({ choices, trends: [], scanned: 0, store: location });
  // Newest first in the list: the latest `limit` builds of the template, read without their output.
  const builds = all.filter((b) => b.templatePath === chosen.templatePath && b.builderName === chosen.builderName).slice(0, limit);
  const durations = [];
  for (const b of builds) durations.push(phaseDurations(b.id, await store.events(b.id, { withoutOutput: true })));
  return trendsPage({ choices, chosen, trends: phaseTrends(durations), scanned: builds.length, store: location });
}

export async function startUiServer(options: UiOptions): Promise<UiServer> {
  const { store } = options;
  const pollMs = options.pollMs ?? 500;
  const summaries = new SummaryCache(store);
  const location = store.location;

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname;
    if (path === '/') {
      const query = listQuery(url);
      const matching = filterBuilds(await summaries.get(query.status), query.q);
      const now = await store.clock();
      return send(res, 200, listPage({ matching, query, now, simulatorGone: await endedWithSimulator(store, matching, now), store: location, statuses: BUILD_STATUSES }));
    }
    if (path === '/live/list') {
      const query = listQuery(url);
      let last = '';
      return eventStream(req, res, Math.max(pollMs, 2_000), async () => {
        const matching = filterBuilds(await summaries.get(query.status), query.q);
        const now = await store.clock();
        const html = buildsTable(matching, query, now, await endedWithSimulator(store, matching, now));
        if (html === last) return undefined;
        const first = last === '';
        last = html;
        return first ? undefined : { html };
      });
    }
    const build = /^\/builds\/([^/]+)(\/live|\/report\.html)?$/.exec(path);
    if (build) {
      let record: BuildRecord;
      try {
        record = await store.findBuild(decodeURIComponent(build[1]!));
      } catch (error) {
        return send(res, 404, messagePage('No such build', (error as Error).message, location));
      }
      if (build[2] === '/live') {
        const events = await store.events(record.id);
        const after = Number(url.searchParams.get('after') ?? '0');
        return eventStream(req, res, pollMs, followBuild(store, record, events, Number.isFinite(after) ? after : 0));
      }
      const { events, past, now } = await readBuild(store, record);
      const report = buildReport(record, events, past, now);
      if (build[2] === '/report.html') {
        return send(res, 200, reportPage(report), 'text/html; charset=utf-8', { 'content-disposition': `attachment; filename="kiln-build-${record.id}.html"` });
      }
      return send(res, 200, buildPage(report, location));
    }
    if (path === '/trends') return send(res, 200, await trends(store, summaries, url, options.trendBuilds ?? 100, location));
    if (path === '/gc') {
      const [view, runs] = await Promise.all([options.gcPlan(url.searchParams), store.gcRuns()]);
      return send(res, 200, gcPage({ ...view, runs }, location));
    }
    return send(res, 404, messagePage('Not found', `Nothing at ${path}.`, location));
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://kiln.invalid');
    const access = checkAccess(req, url, options.token);
    if (!access.ok) return send(res, 401, 'kiln ui: this server needs its token (KILN_UI_TOKEN): open the page with ?token=<token>, or send Authorization: Bearer <token>.\n', 'text/plain; charset=utf-8', { 'www-authenticate': 'Bearer realm="kiln ui"' });
    if (access.setCookie) {
      // The token leaves the address bar (and the history) once the cookie holds it.
      url.searchParams.delete('token');
      return send(res, 303, '', 'text/plain', { 'set-cookie': access.setCookie, location: url.pathname + url.search });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'kiln ui is read-only.\n', 'text/plain; charset=utf-8', { allow: 'GET, HEAD' });
    route(req, res, url).catch((error: Error) => {
      if (!res.headersSent) send(res, 500, messagePage('Something went wrong', error.message, location));
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Live pages keep their connections open: end them.
        server.closeAllConnections();
      }),
  };
}
