/**
 * Prompt to scene for both dialects. Words are read with the tables of lexicon.ts: a clause is an
 * object group (count, adjectives, noun, optional detail phrase and region) optionally followed by
 * a relation and a second group; style filler and connectors between clauses are skipped.
 */
import {
  COUNT_WORDS,
  DETAIL_ADJECTIVES,
  DETAIL_PHRASES,
  FRAME_TAILS,
  PLACEMENT_VERBS,
  SHAPE_NOUNS,
  SIZE_WORDS,
  TERSE_CONNECTORS,
  TERSE_REGION_PHRASES,
  TERSE_RELATION_PHRASES,
  VERBOSE_CONNECTORS,
  VERBOSE_PREFIXES,
  VERBOSE_REGION_PHRASES,
  VERBOSE_RELATION_PHRASES,
  VERBOSE_SUFFIXES,
} from './lexicon.js';
import {
  COLOURS,
  type Colour,
  type Detail,
  type GroupRelation,
  MAX_OBJECTS,
  type ObjectGroup,
  objectCount,
  type Region,
  type Relation,
  type Scene,
  type Shape,
  type Size,
} from './scene.js';
import { normalizeWords, WORLD_VOCABULARY } from './vocabulary.js';

/** Phrases (as word lists) with the meaning each stands for, longest first. */
type Table<T> = { words: string[]; meaning: T }[];

function table<T>(...sources: Readonly<Record<string, readonly string[]>>[]): Table<T> {
  const out: Table<T> = [];
  for (const source of sources) {
    for (const [meaning, list] of Object.entries(source)) {
      for (const phrase of list) out.push({ words: normalizeWords(phrase), meaning: meaning as T });
    }
  }
  return out.sort((a, b) => b.words.length - a.words.length);
}

const COUNTS = table<string>(COUNT_WORDS);
const SIZES = table<Size>(SIZE_WORDS);
const COLOUR_TABLE = table<Colour>(Object.fromEntries(COLOURS.map((c) => [c, [c]])));
const DETAIL_ADJ = table<Detail>(DETAIL_ADJECTIVES);
const DETAIL_POST = table<Detail>(DETAIL_PHRASES);
const NOUNS = table<Shape>(
  Object.fromEntries(Object.entries(SHAPE_NOUNS).map(([shape, n]) => [shape, [n.one, n.many]])),
);
const REGIONS_T = table<Region>(TERSE_REGION_PHRASES, VERBOSE_REGION_PHRASES);
const RELATIONS_T = table<Relation>(TERSE_RELATION_PHRASES, VERBOSE_RELATION_PHRASES);
const VERBS = table<null>({ verb: PLACEMENT_VERBS });
const TAILS = table<null>({ tail: FRAME_TAILS });
const FILLER = table<null>({
  filler: [...VERBOSE_PREFIXES, ...VERBOSE_SUFFIXES, ...TERSE_CONNECTORS, ...VERBOSE_CONNECTORS],
});

const KNOWN = new Set(WORLD_VOCABULARY);

class Reader {
  pos = 0;
  constructor(
    readonly words: string[],
    readonly prompt: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.words.length;
  }

  /** Consume the longest phrase of the table that starts here. */
  take<T>(t: Table<T>): T | undefined {
    for (const entry of t) {
      if (entry.words.every((w, k) => this.words[this.pos + k] === w)) {
        this.pos += entry.words.length;
        return entry.meaning;
      }
    }
    return undefined;
  }

  fail(expected: string): never {
    const word = this.done ? 'end of prompt' : `word '${this.words[this.pos]}'`;
    throw new Error(
      `parsePrompt: unexpected ${word} at word ${this.pos + 1}, expected ${expected}: "${this.prompt}"`,
    );
  }
}

function readGroup(r: Reader): ObjectGroup {
  const countWord = r.take(COUNTS);
  if (countWord === undefined) r.fail('a count or article (a, two, ...)');
  let size: Size | null = null;
  let colour: Colour | null = null;
  let detail: Detail | null = null;
  for (;;) {
    const at = r.pos;
    const s = r.take(SIZES);
    const c = s === undefined ? r.take(COLOUR_TABLE) : undefined;
    const d = s === undefined && c === undefined ? r.take(DETAIL_ADJ) : undefined;
    if (s === undefined && c === undefined && d === undefined) break;
    if ((s && size) || (c && colour) || (d && detail)) {
      r.pos = at;
      r.fail('at most one size, colour and detail per object');
    }
    size = s ?? size;
    colour = c ?? colour;
    detail = d ?? detail;
  }
  const shape = r.take(NOUNS);
  if (shape === undefined) r.fail('a shape (circle, square, ...)');
  if (colour === null) {
    r.pos--;
    r.fail('a colour before the shape');
  }
  const post = r.take(DETAIL_POST);
  if (post !== undefined) {
    if (detail !== null) r.fail('one detail per object');
    detail = post;
  }
  const count = Number(countWord);
  return { count, shape, colour, size, detail: detail ?? 'plain', region: null };
}

/** Optional placement verb, region and frame tail after a group. */
function readRegion(r: Reader, group: ObjectGroup): void {
  const start = r.pos;
  r.take(VERBS);
  const region = r.take(REGIONS_T);
  if (region === undefined) {
    r.pos = start;
    return;
  }
  group.region = region;
  r.take(TAILS);
}

/** Optional placement verb and relation, only when a second group follows it. */
function readRelation(r: Reader): Relation | undefined {
  const start = r.pos;
  r.take(VERBS);
  const relation = r.take(RELATIONS_T);
  // "on the right side of the canvas" is a region with a frame tail, not a relation.
  const groupFollows = relation !== undefined && r.take(COUNTS) !== undefined;
  if (groupFollows) r.pos--;
  else r.pos = start;
  return groupFollows ? relation : undefined;
}

/** Parse a prompt of either dialect; throws an error naming the first word it cannot read. */
export function parsePrompt(prompt: string): Scene {
  const words = normalizeWords(prompt);
  const unknown = words.find((w) => !KNOWN.has(w));
  if (unknown !== undefined) throw new Error(`parsePrompt: unknown word '${unknown}' in "${prompt}"`);
  const r = new Reader(words, prompt);
  const groups: ObjectGroup[] = [];
  const relations: GroupRelation[] = [];
  for (;;) {
    while (r.take(FILLER) !== undefined);
    if (r.done) break;
    const a = readGroup(r);
    groups.push(a);
    // Relation first: "on the right side of" must not be read as the region "on the right side".
    let relation = readRelation(r);
    if (relation === undefined) {
      readRegion(r, a);
      relation = readRelation(r);
    }
    if (relation !== undefined) {
      const b = readGroup(r);
      groups.push(b);
      readRegion(r, b);
      relations.push({ subject: groups.length - 2, relation, object: groups.length - 1 });
    }
  }
  if (groups.length === 0) r.fail('at least one object');
  const n = objectCount({ groups, relations });
  if (n > MAX_OBJECTS)
    throw new Error(`parsePrompt: ${n} objects, the shapes world holds at most ${MAX_OBJECTS}`);
  return { groups, relations };
}
