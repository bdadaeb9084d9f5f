/**
 * Isolating a bronze file: its blob moves to `quarantine/<its bronze path>.isolated/` beside a
 * `reason.json`, so nothing reads it again and nothing is lost. The loader does it to a file whose
 * business dates it cannot read; `npm run ops -- quarantine` does it to a file a model cannot take.
 * Copy first, delete last: a crash in between leaves the blob in bronze, and the next run decides
 * again.
 */
import type { Readable } from 'node:stream';
import type { PipelineContext } from '../core/context.js';
import { container, uploadStreamAtomically, writeJsonBlob } from '../storage/blobStore.js';

/** Where an isolated bronze file goes, in the quarantine container. */
export function isolatedPath(bronzePath: string): { folder: string; file: string } {
  const folder = `${bronzePath.replace(/\.jsonl$/, '')}.isolated`;
  return { folder, file: `${folder}/${bronzePath.split('/').pop()!}` };
}

/** Copies the bronze blob (a path inside the container) and its reason to quarantine. Returns the quarantine path. */
export async function copyToQuarantine(ctx: PipelineContext, bronzePath: string, reason: Record<string, unknown>): Promise<string> {
  const target = isolatedPath(bronzePath);
  const quarantine = container(ctx.storage, 'quarantine');
  const download = await container(ctx.storage, 'bronze').getBlobClient(bronzePath).download();
  await uploadStreamAtomically(quarantine, target.file, download.readableStreamBody as Readable, { contentType: 'application/x-ndjson' });
  await writeJsonBlob(quarantine, `${target.folder}/reason.json`, { file: `bronze/${bronzePath}`, isolated_at: ctx.now().toISOString(), ...reason });
  return `quarantine/${target.file}`;
}

/** Deletes the bronze blob once its copy and reason are in quarantine (and its rows out of the warehouse). */
export async function removeFromBronze(ctx: PipelineContext, bronzePath: string): Promise<void> {
  await container(ctx.storage, 'bronze').getBlobClient(bronzePath).deleteIfExists();
}
