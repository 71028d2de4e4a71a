import type { Bundle, BundleEntry, BundleLink, Resource, ServiceRequest } from '@medplum/fhirtypes';
import type { DataSource } from 'typeorm';
import type { BatchPhiCipher } from '../crypto/phi-cipher';
import { allows } from '../oauth/scopes';
import { outcomeAnswer, type FhirAnswer } from '../fhir-messages/operation-outcome';
import { type PageKey, ReferralReadsRepository, type ReferralVersion } from './referral-reads.repository';
import {
  matchesDate,
  parseServiceRequestQuery,
  SearchParamError,
  type ServiceRequestQuery,
} from './search-params';

/** Who is asking: the site and scopes of a verified access token. */
export interface Caller {
  site: string;
  scopes: string[];
}

/** What the pull API's read use cases are made from. */
export interface ReadDeps {
  dataSource: DataSource;
  schema: string;
  cipher: BatchPhiCipher;
  /** Search results only hold records older than this (a write still in flight is never skipped). */
  snapshotLagMs: number;
}

/** A search of the pull API: who asks, its query, the absolute URL of this request and the FHIR base. */
export interface SearchRequest {
  caller: Caller;
  rawQuery: URLSearchParams;
  selfUrl: string;
  fhirBase: string;
}

/** What a search reads one page with: the request, its parsed query, its cursor and its snapshot. */
export interface PageRequest<Q> extends SearchRequest {
  query: Q;
  cursor: Cursor | null;
  snapshot: string;
}

/** One page of a search: its entries, and the cursor of the next page (null on the last). */
export interface SearchPage {
  entries: BundleEntry[];
  next: Cursor | null;
}

export interface Cursor {
  s: string;
  t: string;
  i: string;
}

/** Rows one search request may decrypt before it answers with a next link (filters on PHI fields). */
const SCAN_BUDGET = 2000;
/** Records per call to the vault service (its limit). */
const PHI_BATCH = 100;
const INSTANT_US = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The FHIR pull API's use cases: search and read ServiceRequests and read the original message
 * bundle, always within the caller's site, from the stored bundles (decrypted here, never logged).
 */
export class ReadReferrals {
  private readonly repo: ReferralReadsRepository;

  constructor(private readonly deps: ReadDeps) {
    this.repo = new ReferralReadsRepository(deps.schema);
  }

  /** Entries get absolute fullUrls under the request's `fhirBase`, as R4 requires. */
  search(request: SearchRequest): Promise<FhirAnswer> {
    const deps = { ...this.deps, snapshots: this.repo };
    return runSearch(deps, 'ServiceRequest', parseServiceRequestQuery, request, (page) =>
      this.matching(page),
    );
  }

  /** Scans versions from the cursor on, decrypting as it goes, until a page of matches or the budget. */
  private async matching(page: PageRequest<ServiceRequestQuery>): Promise<SearchPage> {
    const { caller, fhirBase, query, cursor, snapshot } = page;
    const db = this.deps.dataSource.manager;
    let after: PageKey | null = cursor ? { lastUpdated: cursor.t, referralId: cursor.i } : null;
    const matches: { version: ReferralVersion; resource: ServiceRequest; bundle: Bundle }[] = [];
    let scanned = 0;
    let exhausted = false;
    while (matches.length < query.count && scanned < SCAN_BUDGET && !exhausted) {
      const limit = Math.max(query.count - matches.length, 50);
      const rows = await this.repo.page(db, caller.site, {
        snapshot,
        after,
        ids: query.ids,
        lastUpdated: query.lastUpdated,
        limit,
      });
      let consumed = 0;
      // One call to the vault service per 100 rows, not one per row.
      const bundles = await this.decryptPage(caller.site, rows);
      for (const [index, row] of rows.entries()) {
        consumed += 1;
        scanned += 1;
        after = { lastUpdated: row.lastUpdated, referralId: row.referralId };
        const bundle = bundles[index];
        const found = bundle ? serviceRequestIn(row, bundle) : null;
        if (found && this.matches(query, found.resource, found.bundle))
          matches.push({ version: row, ...found });
        if (matches.length === query.count) break;
      }
      exhausted = rows.length < limit && consumed === rows.length;
    }

    const entries: BundleEntry[] = [];
    // An included resource appears once per page, however many matches point to it (bdl-7:
    // fullUrl unique). Two referrals' copies of one patient share Type/id and so one entry.
    const included = new Set<string>();
    for (const match of matches) {
      entries.push({
        fullUrl: `${fhirBase}/ServiceRequest/${match.version.serviceRequestId}`,
        resource: match.resource,
        search: { mode: 'match' },
      });
      for (const include of query.include) {
        const [resourceType, path] =
          include === 'ServiceRequest:subject'
            ? (['Patient', 'subject'] as const)
            : (['Practitioner', 'requester'] as const);
        const target = resolve(match.bundle, match.resource[path]?.reference);
        if (
          !target ||
          !allows(caller.scopes, resourceType === 'Patient' ? 'Patient' : target.resourceType, 'r')
        )
          continue;
        const fullUrl = `${fhirBase}/${target.resourceType}/${String(target.id)}`;
        if (included.has(fullUrl)) continue;
        included.add(fullUrl);
        entries.push({ fullUrl, resource: target, search: { mode: 'include' } });
      }
    }
    const next = !exhausted && after ? { s: snapshot, t: after.lastUpdated, i: after.referralId } : null;
    return { entries, next };
  }

  async read(caller: Caller, id: string): Promise<FhirAnswer> {
    if (!allows(caller.scopes, 'ServiceRequest', 'r')) return forbidden('system/ServiceRequest.r (or .read)');
    const version = /^[A-Za-z0-9\-.]{1,64}$/.test(id)
      ? await this.repo.current(this.deps.dataSource.manager, caller.site, id)
      : null;
    const found = version ? await this.serviceRequestOf(caller.site, version) : null;
    if (!found) return outcomeAnswer(404, 'not-found', `ServiceRequest/${id} is not known`);
    return { status: 200, body: found.resource };
  }

  async bundle(caller: Caller, bundleId: string): Promise<FhirAnswer> {
    if (!allows(caller.scopes, 'Bundle', 'r')) return forbidden('system/Bundle.r (or .read)');
    const version = /^[A-Za-z0-9\-.]{1,64}$/.test(bundleId)
      ? await this.repo.byBundleId(this.deps.dataSource.manager, caller.site, bundleId)
      : null;
    if (!version) return outcomeAnswer(404, 'not-found', `Bundle/${bundleId} is not known`);
    return { status: 200, body: await this.decrypt(caller.site, version) };
  }

  // Stored only after they passed validation (fhir-messages/inbound-validation.ts): R4 Bundles.
  private async decryptPage(site: string, rows: ReferralVersion[]): Promise<Bundle[]> {
    const opened = await decryptInBatches(
      this.deps.cipher,
      site,
      rows.map((r) => ({ recordId: r.referralId, data: r.ciphertext })),
    );
    return opened.map((plaintext) => JSON.parse(plaintext.toString('utf8')) as Bundle);
  }

  private async decrypt(site: string, version: ReferralVersion): Promise<Bundle> {
    const plaintext = await this.deps.cipher.decrypt(site, version.referralId, version.ciphertext);
    return JSON.parse(plaintext.toString('utf8')) as Bundle;
  }

  private async serviceRequestOf(
    site: string,
    version: ReferralVersion,
  ): Promise<{ resource: ServiceRequest; bundle: Bundle } | null> {
    return serviceRequestIn(version, await this.decrypt(site, version));
  }

  private matches(query: ServiceRequestQuery, sr: ServiceRequest, bundle: Bundle): boolean {
    if (query.statuses && !query.statuses.includes(sr.status)) return false;
    if (query.identifiers) {
      const ids = sr.identifier ?? [];
      if (
        !query.identifiers.some((q) =>
          ids.some((i) => i.value === q.value && (q.system === null || i.system === q.system)),
        )
      )
        return false;
    }
    if (query.patient !== null) {
      const reference = sr.subject.reference;
      const patient = resolve(bundle, reference);
      if (patient?.id !== query.patient && reference !== `Patient/${query.patient}`) return false;
    }
    if (query.authored.length > 0) {
      const authored = sr.authoredOn === undefined ? Number.NaN : Date.parse(sr.authoredOn);
      if (Number.isNaN(authored) || !query.authored.every((c) => matchesDate(c, authored))) return false;
    }
    return true;
  }
}

/**
 * Every search of the pull API: the scope to search the type, the query and its cursor parsed (a
 * bad one answers 400 naming the parameter), the snapshot the pages read (the cursor's, or a new
 * one for a first page), then the page the type reads, answered as a searchset with its links.
 */
export async function runSearch<Q extends { cursor: string | null; count: number }>(
  deps: ReadDeps & { snapshots: ReferralReadsRepository },
  type: 'ServiceRequest' | 'Appointment',
  parse: (raw: URLSearchParams) => Q,
  request: SearchRequest,
  page: (request: PageRequest<Q>) => Promise<SearchPage>,
): Promise<FhirAnswer> {
  const { caller, rawQuery, selfUrl } = request;
  if (!allows(caller.scopes, type, 's')) return forbidden(`system/${type}.rs (or .read)`);
  let query: Q;
  let cursor: Cursor | null;
  try {
    query = parse(rawQuery);
    cursor = query.cursor === null ? null : decodeCursor(query.cursor);
  } catch (error) {
    if (error instanceof SearchParamError)
      return outcomeAnswer(400, 'invalid', error.message, error.parameter);
    throw error;
  }
  const snapshot = cursor?.s ?? (await deps.snapshots.snapshot(deps.dataSource.manager, deps.snapshotLagMs));
  const { entries, next } = await page({ ...request, query, cursor, snapshot });
  return searchsetAnswer(pageLinks(selfUrl, rawQuery, query.count, next), entries);
}

/** Records decrypted in calls of at most 100 to the vault service (its limit), in order. */
export async function decryptInBatches(
  cipher: BatchPhiCipher,
  site: string,
  items: { recordId: string; data: Buffer }[],
): Promise<Buffer[]> {
  const opened: Buffer[] = [];
  for (let i = 0; i < items.length; i += PHI_BATCH)
    opened.push(...(await cipher.decryptBatch(site, items.slice(i, i + PHI_BATCH))));
  return opened;
}

/** A searchset Bundle answer of the pull API. */
function searchsetAnswer(link: BundleLink[], entries: BundleEntry[]): FhirAnswer {
  const body: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    meta: { lastUpdated: new Date().toISOString() },
    link,
    entry: entries,
  };
  return { status: 200, body };
}

/** The self link of a search page (with the count served) and, when there is one, the next. */
function pageLinks(
  selfUrl: string,
  rawQuery: URLSearchParams,
  count: number,
  next: Cursor | null,
): BundleLink[] {
  return [
    { relation: 'self', url: clampedUrl(selfUrl, count) },
    ...(next ? [{ relation: 'next', url: nextPageUrl(selfUrl, rawQuery, count, next) }] : []),
  ];
}

/** The URL with its `_count` (if any) replaced by the count served. */
export function clampedUrl(url: string, count: number): string {
  const [path, search] = url.split('?');
  if (search === undefined) return url;
  const params = new URLSearchParams(search);
  if (!params.has('_count')) return url;
  params.set('_count', String(count));
  return `${path ?? ''}?${params.toString()}`;
}

/** The next link of a search page: the same query from the cursor, with the count served. */
export function nextPageUrl(
  selfUrl: string,
  rawQuery: URLSearchParams,
  count: number,
  cursor: Cursor,
): string {
  const next = new URLSearchParams([...rawQuery].filter(([name]) => name !== '_cursor' && name !== '_count'));
  // The count actually served (clamped to the maximum when more was asked for).
  if (rawQuery.has('_count')) next.set('_count', String(count));
  next.set('_cursor', Buffer.from(JSON.stringify(cursor)).toString('base64url'));
  return `${selfUrl.split('?')[0] ?? ''}?${next.toString()}`;
}

export function forbidden(needed: string): FhirAnswer {
  return outcomeAnswer(403, 'forbidden', `the access token lacks the scope ${needed}`);
}

export function decodeCursor(raw: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof value.s === 'string' &&
      INSTANT_US.test(value.s) &&
      typeof value.t === 'string' &&
      INSTANT_US.test(value.t) &&
      typeof value.i === 'string' &&
      UUID.test(value.i)
    ) {
      return { s: value.s, t: value.t, i: value.i };
    }
  } catch {
    // falls through to the error
  }
  throw new SearchParamError('_cursor', '_cursor: not a cursor from a next link of this server');
}

/** The bundle entry a reference points to (by fullUrl, or Type/id). */
function resolve(bundle: Bundle, reference: string | undefined): Resource | null {
  if (!reference) return null;
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource;
    if (!r) continue;
    if (entry.fullUrl === reference) return r;
    const local = `${r.resourceType}/${String(r.id)}`;
    if (reference === local || reference.endsWith(`/${local}`)) return r;
  }
  return null;
}

/** The referral's ServiceRequest in its decrypted bundle, with meta from the stored version. */
function serviceRequestIn(
  version: ReferralVersion,
  bundle: Bundle,
): { resource: ServiceRequest; bundle: Bundle } | null {
  const found = bundle.entry
    ?.map((e) => e.resource)
    .find(
      (r): r is ServiceRequest => r?.resourceType === 'ServiceRequest' && r.id === version.serviceRequestId,
    );
  if (!found) return null;
  const resource: ServiceRequest = {
    ...found,
    // The status its receiver set through status back, when newer than this version.
    ...(version.statusOverride ? { status: version.statusOverride } : {}),
    meta: { ...found.meta, lastUpdated: version.lastUpdated, source: `Bundle/${version.bundleId}` },
  };
  return { resource, bundle };
}
