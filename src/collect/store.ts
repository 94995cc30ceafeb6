import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { HashCache } from '../models/fingerprint.js';
import { describeIssue } from '../util/issue-words.js';

/** One collected image: a prompt generated at one step count from its seed, and its quality. */
export interface CollectedRecord {
  promptId: number;
  prompt: string;
  seed: number;
  scheduler: string;
  steps: number;
  score: number;
  parts: Record<string, number>;
  seconds: number;
}

/**
 * What a database was collected with; a resumed run must ask for the same. `model` (the folder,
 * relative to the database's own folder so a moved checkout still resumes) is where the images came
 * from, not what they are: `modelWeights`, the fingerprint of its files, is what is compared.
 */
export const COLLECT_SETTINGS = z.object({
  model: z.string(),
  modelWeights: z.string(),
  scorer: z.string(),
  steps: z.array(z.number().int().positive()).min(1),
  scheduler: z.enum(['ddim', 'dpm']),
  guidance: z.number(),
  seed: z.number().int().nonnegative(),
});
export type CollectSettings = z.infer<typeof COLLECT_SETTINGS>;

/** Settings not compared on resume. */
const INFORMATIONAL: ReadonlySet<string> = new Set(['model']);

/** A prompt as the database knows it: its text is its identity; its seed is fixed when first seen. */
export interface StoredPrompt {
  id: number;
  text: string;
  seed: number;
}

export class CollectStoreError extends Error {}

/** SQLite's application id for adadiff collect databases ("ADAD"), so no other file is taken over. */
const APPLICATION_ID = 0x41444144;
/** 1: prompt text and seed on every row (keyed by line number); 2: a prompts table keyed by text. */
const SCHEMA_VERSION = 2;
/** A claim on a prompt by a process on another machine lapses after this long without its rows. */
const CLAIM_TTL_MS = 30 * 60_000;

/**
 * A prompt's noise seed: the run's seed plus a hash of its text, so a prompt gets the same initial
 * noise whatever its line in whichever file, and another run seed gives other noise.
 */
export function promptSeed(runSeed: number, text: string): number {
  return (runSeed + createHash('sha256').update(text).digest().readUInt32LE(0)) % 2 ** 32;
}

/** Resolves a database's recorded model folder against the database's own folder. */
export function settingsModelDir(db: string, settings: CollectSettings): string {
  return isAbsolute(settings.model) ? settings.model : resolve(dirname(db), settings.model);
}

/** `owner` names this process: host and pid, so a claim of a dead process on this host is void at once. */
const OWNER = `${hostname()}:${process.pid}`;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function claimLive(owner: string | null, claimedAt: number | null, now: number): boolean {
  if (owner === null || owner === OWNER) return false;
  const [host, pid] = [
    owner.slice(0, owner.lastIndexOf(':')),
    Number(owner.slice(owner.lastIndexOf(':') + 1)),
  ];
  if (host === hostname()) return processAlive(pid);
  return now - (claimedAt ?? 0) < CLAIM_TTL_MS;
}

function tables(db: Database.Database): string[] {
  return (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((r) => r.name);
}

/** Refuses a file that is not an adadiff collect database; returns its schema version (0: new). */
function checkDatabase(db: Database.Database, file: string): number {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  const names = tables(db);
  if (appId === APPLICATION_ID) {
    if (version > SCHEMA_VERSION)
      throw new CollectStoreError(
        `${file}: collect database of schema ${version}, newer than this adadiff's ${SCHEMA_VERSION}`,
      );
    return version;
  }
  if (appId !== 0)
    throw new CollectStoreError(
      `${file}: an SQLite database of another application (application id 0x${appId.toString(16)}), not a collect database`,
    );
  if (names.length === 0) return 0;
  // Databases written before the application id: settings and records with the prompt on every row.
  if (names.includes('settings') && names.includes('records') && !names.includes('prompts')) return 1;
  throw new CollectStoreError(
    `${file}: an SQLite database that is not a collect database (tables: ${names.join(', ')})`,
  );
}

const SCHEMA = `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE,
    seed INTEGER NOT NULL,
    claimed_by TEXT,
    claimed_at REAL
  );
  CREATE TABLE records (
    prompt_id INTEGER NOT NULL REFERENCES prompts (id),
    steps INTEGER NOT NULL,
    scheduler TEXT NOT NULL,
    score REAL NOT NULL,
    parts TEXT NOT NULL,
    seconds REAL NOT NULL,
    PRIMARY KEY (prompt_id, steps)
  );
  CREATE TABLE IF NOT EXISTS file_hashes (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    ctime_ms REAL NOT NULL,
    sha256 TEXT NOT NULL
  );
`;

/** Schema 1 to 2: its (prompt id, text, seed) triples become the prompts table, ids and seeds kept. */
function migrateFromV1(db: Database.Database, file: string): void {
  const dup = db
    .prepare('SELECT prompt FROM records GROUP BY prompt HAVING COUNT(DISTINCT prompt_id) > 1 LIMIT 1')
    .get() as { prompt: string } | undefined;
  if (dup)
    throw new CollectStoreError(
      `${file}: the prompt "${dup.prompt}" is stored under two ids (a schema-1 database resumed from an edited file); collect it again into a new --db`,
    );
  db.exec('ALTER TABLE records RENAME TO records_v1');
  db.exec(SCHEMA.replace('CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);', ''));
  db.exec(`
    INSERT INTO prompts (id, text, seed) SELECT prompt_id, prompt, MIN(seed) FROM records_v1 GROUP BY prompt_id;
    INSERT INTO records SELECT prompt_id, steps, scheduler, score, parts, seconds FROM records_v1;
    DROP TABLE records_v1;
  `);
}

const RECORD_QUERY = {
  1: 'SELECT prompt_id, prompt, seed, scheduler, steps, score, parts, seconds FROM records ORDER BY prompt_id, steps',
  2: `SELECT r.prompt_id, p.text AS prompt, p.seed, r.scheduler, r.steps, r.score, r.parts, r.seconds
      FROM records r JOIN prompts p ON p.id = r.prompt_id ORDER BY r.prompt_id, r.steps`,
} as const;

/**
 * The collect database (SQLite), the one owner of its layout. Prompts are identified by their text
 * (an edited, reordered or extended prompt file resumes correctly) and claimed in a transaction
 * before they are generated, so several collectors on one database share the work. Each prompt's
 * images at every step count are written in one transaction: a run killed at any moment leaves all
 * of a prompt's rows or none, and the primary key makes a duplicate impossible. WAL keeps committed
 * rows safe across kill -9.
 */
export class CollectStore {
  private readonly db: Database.Database;
  private readonly version: number;

  private constructor(
    readonly file: string,
    readonly: boolean,
  ) {
    if (!readonly && existsSync(file) && statSync(file).size === 0)
      throw new CollectStoreError(
        `${file}: an empty file, not a collect database; remove it or give another --db`,
      );
    this.db = new Database(file, { readonly, fileMustExist: readonly });
    try {
      this.version = checkDatabase(this.db, file);
      if (readonly) {
        if (this.version === 0) throw new CollectStoreError(`${file}: not a collect database (no tables)`);
        return;
      }
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db
        .transaction(() => {
          if (this.version === 0) this.db.exec(SCHEMA);
          else if (this.version === 1) migrateFromV1(this.db, file);
          this.db.pragma(`application_id = ${APPLICATION_ID}`);
          this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
        })
        .immediate();
      this.version = SCHEMA_VERSION;
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  /** Opens (creating or upgrading) a database to collect into. */
  static open(file: string): CollectStore {
    return new CollectStore(file, false);
  }

  /** Opens an existing database without writing to it (schema 1 files are read as they are). */
  static read(file: string): CollectStore {
    if (!existsSync(file)) throw new CollectStoreError(`${file}: no such collect database`);
    return new CollectStore(file, true);
  }

  /** The model files' hashes kept beside the records, so a resumed run reads weights only if they changed. */
  hashCache(): HashCache {
    const get = this.db.prepare('SELECT size, mtime_ms, ctime_ms, sha256 FROM file_hashes WHERE path = ?');
    const put = this.db.prepare('INSERT OR REPLACE INTO file_hashes VALUES (?, ?, ?, ?, ?)');
    return {
      get: (path) => {
        const r = get.get(path) as
          | { size: number; mtime_ms: number; ctime_ms: number; sha256: string }
          | undefined;
        return r && { size: r.size, mtimeMs: r.mtime_ms, ctimeMs: r.ctime_ms, sha256: r.sha256 };
      },
      set: (path, e) => {
        put.run(path, e.size, e.mtimeMs, e.ctimeMs, e.sha256);
      },
    };
  }

  /**
   * Records the settings of a new database, or checks that a resumed run uses the same ones:
   * mixing settings in one database would make its rewards meaningless. The model folder is
   * stored relative to the database's folder.
   */
  bindSettings(settings: CollectSettings): void {
    const stored = {
      ...settings,
      model: relative(dirname(resolve(this.file)), resolve(settings.model)) || '.',
    };
    const existing = new Map(
      (this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[]).map(
        (r) => [r.key, r.value],
      ),
    );
    const insert = this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
    const mismatches: string[] = [];
    this.db
      .transaction(() => {
        for (const [key, value] of Object.entries(stored)) {
          const json = JSON.stringify(value);
          const had = existing.get(key);
          if (had === undefined) {
            if (existing.size === 0) insert.run(key, json);
            else mismatches.push(`${key}: missing in the database, asked ${json}`);
          } else if (had !== json && !INFORMATIONAL.has(key)) {
            mismatches.push(`${key}: database has ${had}, asked ${json}`);
          }
        }
      })
      .immediate();
    if (mismatches.length) {
      throw new CollectStoreError(
        `${this.file} was collected with other settings (${mismatches.join('; ')}); use another --db or the same flags`,
      );
    }
  }

  /** The settings, validated; the error names the file and the field. */
  settings(): CollectSettings {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
    if (rows.length === 0)
      throw new CollectStoreError(`${this.file}: a collect database with no settings yet`);
    const parsed = COLLECT_SETTINGS.safeParse(
      Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)])),
      { error: describeIssue },
    );
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CollectStoreError(
        `${this.file}: setting ${issue.path.join('.') || '?'} is not valid (${issue.message})`,
      );
    }
    return parsed.data;
  }

  /**
   * Adds the prompts not yet in the database (a seed each, from `runSeed` and the text) and returns
   * every given prompt as stored, in the given order, repeated texts once.
   */
  registerPrompts(texts: readonly string[], runSeed: number): StoredPrompt[] {
    const insert = this.db.prepare('INSERT OR IGNORE INTO prompts (text, seed) VALUES (?, ?)');
    const get = this.db.prepare('SELECT id, text, seed FROM prompts WHERE text = ?');
    return this.db
      .transaction(() => {
        const unique = [...new Set(texts)];
        for (const t of unique) insert.run(t, promptSeed(runSeed, t));
        return unique.map((t) => get.get(t) as StoredPrompt);
      })
      .immediate();
  }

  /** Ids of prompts that have a row at every one of `steps`. */
  completePrompts(steps: readonly number[]): Set<number> {
    const rows = this.db
      .prepare(
        `SELECT prompt_id FROM records WHERE steps IN (${steps.map(() => '?').join(',')})
         GROUP BY prompt_id HAVING COUNT(DISTINCT steps) = ?`,
      )
      .all(...steps, steps.length) as { prompt_id: number }[];
    return new Set(rows.map((r) => r.prompt_id));
  }

  /** How many known prompts lack a row at one or more of `steps` (holes left by an unfinished run). */
  incompleteCount(steps: readonly number[]): number {
    const known =
      this.version === 1
        ? (this.db.prepare('SELECT COUNT(DISTINCT prompt_id) AS n FROM records').get() as { n: number })
        : (this.db.prepare('SELECT COUNT(*) AS n FROM prompts').get() as { n: number });
    return known.n - this.completePrompts(steps).size;
  }

  /**
   * Claims up to `n` of `candidates` (in their order) that are neither complete nor claimed by a
   * live collector, in one write transaction, so two collectors never take the same prompt.
   */
  claim(candidates: readonly StoredPrompt[], steps: readonly number[], n: number): StoredPrompt[] {
    const state = this.db.prepare('SELECT claimed_by, claimed_at FROM prompts WHERE id = ?');
    const mark = this.db.prepare('UPDATE prompts SET claimed_by = ?, claimed_at = ? WHERE id = ?');
    return this.db
      .transaction(() => {
        const complete = this.completePrompts(steps);
        const now = Date.now();
        const taken: StoredPrompt[] = [];
        for (const p of candidates) {
          if (taken.length === n) break;
          if (complete.has(p.id)) continue;
          const s = state.get(p.id) as { claimed_by: string | null; claimed_at: number | null };
          if (claimLive(s.claimed_by, s.claimed_at, now)) continue;
          mark.run(OWNER, now, p.id);
          taken.push(p);
        }
        return taken;
      })
      .immediate();
  }

  /** Drops this process's claims on prompts it did not finish. */
  releaseClaims(): void {
    this.db
      .prepare('UPDATE prompts SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by = ?')
      .run(OWNER);
  }

  /** Writes records atomically, a prompt's existing rows replaced, never duplicated; clears its claim. */
  write(records: readonly CollectedRecord[]): void {
    const del = this.db.prepare('DELETE FROM records WHERE prompt_id = ?');
    const unclaim = this.db.prepare('UPDATE prompts SET claimed_by = NULL, claimed_at = NULL WHERE id = ?');
    const known = this.db.prepare('SELECT text FROM prompts WHERE id = ?');
    const ins = this.db.prepare(
      `INSERT INTO records (prompt_id, steps, scheduler, score, parts, seconds)
       VALUES (@promptId, @steps, @scheduler, @score, @parts, @seconds)`,
    );
    this.db
      .transaction(() => {
        for (const id of new Set(records.map((r) => r.promptId))) {
          const p = known.get(id) as { text: string } | undefined;
          const text = records.find((r) => r.promptId === id)?.prompt;
          if (p?.text !== text) throw new CollectStoreError(`${this.file}: prompt ${id} is not "${text}"`);
          del.run(id);
          unclaim.run(id);
        }
        for (const r of records) ins.run({ ...r, parts: JSON.stringify(r.parts) });
      })
      .immediate();
  }

  records(): CollectedRecord[] {
    const rows = this.db.prepare(RECORD_QUERY[this.version === 1 ? 1 : 2]).all() as Record<
      string,
      string | number
    >[];
    return rows.map((r) => ({
      promptId: Number(r.prompt_id),
      prompt: String(r.prompt),
      seed: Number(r.seed),
      scheduler: String(r.scheduler),
      steps: Number(r.steps),
      score: Number(r.score),
      parts: JSON.parse(String(r.parts)),
      seconds: Number(r.seconds),
    }));
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM records').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Reads an existing collect database without changing it: its settings, the step counts it was
 * collected at and every record. Throws, naming the file, when it does not exist, is not a collect
 * database, or lacks any of `requiredSteps`.
 */
export function readCollectDb(
  db: string,
  requiredSteps: readonly number[] = [],
): { settings: CollectSettings; steps: number[]; records: CollectedRecord[]; incomplete: number } {
  const store = CollectStore.read(db);
  try {
    const settings = store.settings();
    const missing = requiredSteps.filter((s) => !settings.steps.includes(s));
    if (missing.length)
      throw new CollectStoreError(
        `${db} has no images at ${missing.join(', ')} steps (collected: ${settings.steps})`,
      );
    return {
      settings,
      steps: settings.steps,
      records: store.records(),
      incomplete: store.incompleteCount(requiredSteps.length ? requiredSteps : settings.steps),
    };
  } finally {
    store.close();
  }
}

/** What a reader says about prompts a database holds only in part; null when there are none. */
export function incompleteWarning(db: string, incomplete: number): string | null {
  return incomplete === 0
    ? null
    : `${db}: ${incomplete} prompts lack images at some step counts (an unfinished collect: run it again to fill them); they are left out`;
}
