import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { HashCache } from '../models/fingerprint.js';

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

/** The settings a database was collected with; a resumed run must ask for the same ones. */
export type CollectSettings = Record<string, string | number | readonly number[]>;

export class CollectStoreError extends Error {}

/**
 * The collect database (SQLite). Each prompt's images at every step count are written in one
 * transaction, so a run killed at any moment leaves either all of a prompt's rows or none, and the
 * primary key makes a duplicate impossible. WAL keeps committed rows safe across kill -9.
 */
export class CollectStore {
  private readonly db: Database.Database;

  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS records (
        prompt_id INTEGER NOT NULL,
        prompt TEXT NOT NULL,
        seed INTEGER NOT NULL,
        scheduler TEXT NOT NULL,
        steps INTEGER NOT NULL,
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
    `);
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
   * mixing settings in one database would make its rewards meaningless.
   */
  bindSettings(settings: CollectSettings): void {
    const existing = new Map(
      (this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[]).map(
        (r) => [r.key, r.value],
      ),
    );
    const insert = this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
    const mismatches: string[] = [];
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(settings)) {
        const json = JSON.stringify(value);
        const had = existing.get(key);
        if (had === undefined) {
          if (existing.size === 0) insert.run(key, json);
          else mismatches.push(`${key}: missing in the database, asked ${json}`);
        } else if (had !== json) {
          mismatches.push(`${key}: database has ${had}, asked ${json}`);
        }
      }
    })();
    if (mismatches.length) {
      throw new CollectStoreError(
        `${this.file} was collected with other settings (${mismatches.join('; ')}); use another --db or the same flags`,
      );
    }
  }

  settings(): Record<string, unknown> {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.value)]));
  }

  /** Prompt ids that already have a row for every one of `steps`. */
  completePrompts(steps: readonly number[]): Set<number> {
    const rows = this.db
      .prepare(
        `SELECT prompt_id FROM records WHERE steps IN (${steps.map(() => '?').join(',')})
         GROUP BY prompt_id HAVING COUNT(DISTINCT steps) = ?`,
      )
      .all(...steps, steps.length) as { prompt_id: number }[];
    return new Set(rows.map((r) => r.prompt_id));
  }

  /** Writes records atomically; a prompt's existing rows are replaced, never duplicated. */
  write(records: readonly CollectedRecord[]): void {
    const del = this.db.prepare('DELETE FROM records WHERE prompt_id = ?');
    const ins = this.db.prepare(
      `INSERT INTO records (prompt_id, prompt, seed, scheduler, steps, score, parts, seconds)
       VALUES (@promptId, @prompt, @seed, @scheduler, @steps, @score, @parts, @seconds)`,
    );
    this.db.transaction(() => {
      for (const id of new Set(records.map((r) => r.promptId))) del.run(id);
      for (const r of records) ins.run({ ...r, parts: JSON.stringify(r.parts) });
    })();
  }

  records(): CollectedRecord[] {
    const rows = this.db.prepare('SELECT * FROM records ORDER BY prompt_id, steps').all() as Record<
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
 * Reads an existing collect database: its settings, the step counts it was collected at and every
 * record. Throws, naming the file, when it does not exist (opening would create an empty one), is
 * not a collect database, or lacks any of `requiredSteps`.
 */
export function readCollectDb(
  db: string,
  requiredSteps: readonly number[] = [],
): { settings: Record<string, unknown>; steps: number[]; records: CollectedRecord[] } {
  if (!existsSync(db)) throw new Error(`${db}: no such collect database`);
  const store = new CollectStore(db);
  try {
    const settings = store.settings();
    const steps = settings.steps as number[] | undefined;
    if (!steps) throw new Error(`${db}: not a collect database (no settings)`);
    const missing = requiredSteps.filter((s) => !steps.includes(s));
    if (missing.length)
      throw new Error(`${db} has no images at ${missing.join(', ')} steps (collected: ${steps})`);
    return { settings, steps, records: store.records() };
  } finally {
    store.close();
  }
}
