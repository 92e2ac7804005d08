/**
 * From "a document changed" to jobs. Realtime events and catch-up listings both end here, as the
 * same (site, doctype, name, modified) version, and every handler's job id is derived from that
 * version — so a version heard twice (realtime and catch-up, or two replicas) collapses into one
 * job in the store.
 */
import type { HooksManifest } from '../../lib/manifest/schema.js';
import { manifestHandler, type DocVersionPayload, type JobNameFor, type JobSpecOf } from '../jobs/payloads.js';

export interface DocVersion {
  site: string;
  doctype: string;
  name: string;
  /** `modified` of the version; null when the document is gone (a delete). */
  modified: string | null;
  source: 'realtime' | 'catchup';
  heardAtMs: number;
}

/** The handler ids the manifest wires to a DocType. */
export function handlersFor(manifest: HooksManifest, doctype: string): string[] {
  return [...new Set(manifest.realtime[doctype]?.list_update ?? [])];
}

export function jobId(handler: string, v: Pick<DocVersion, 'site' | 'doctype' | 'name' | 'modified'>): string {
  // `|` cannot appear in a DocType name; names may hold anything, so the name goes last.
  return `${handler}|${v.site}|${v.doctype}|${v.modified ?? 'deleted'}|${v.name}`;
}

export function jobsForVersion(manifest: HooksManifest, v: DocVersion): JobSpecOf<JobNameFor<DocVersionPayload>>[] {
  return handlersFor(manifest, v.doctype).map((handler) => ({
    id: jobId(handler, v),
    name: manifestHandler<DocVersionPayload>(handler),
    site: v.site,
    data: { doctype: v.doctype, name: v.name, modified: v.modified, source: v.source, heardAtMs: v.heardAtMs },
  }));
}

/** The jobs of many versions, in their order: what one catch-up page enqueues in one store batch. */
export function jobsForVersions(manifest: HooksManifest, versions: readonly DocVersion[]): JobSpecOf<JobNameFor<DocVersionPayload>>[] {
  return versions.flatMap((v) => jobsForVersion(manifest, v));
}
